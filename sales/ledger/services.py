"""Every write to the sales ledger: creating a sale and moving it between statuses, stock included."""

import json
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from events.services import NewEvent, events_record_many, events_record_select, events_record_with
from inventory.models import Product, StockMovement, Variant
from inventory.services.stock import StockItem, products_with_stock, stock_change
from sales.ledger.models import MONEY, Sale, SaleLine, SaleStatus
from sales.ledger.selectors import parse_uuid, sale_get, sale_not_found
from salesledger.db import raw_prepared
from salesledger.errors import Conflict, NotFound, ServiceError
from salesledger.metrics import sales_written
from salesledger.money import normalize_currency, quantize, to_decimal
from salesledger.writes import checked_then_written, insert_sql, run_together, update_sql

# Amounts are stored with 16 digits before the decimal point (max_digits=20, decimal_places=4).
MAX_AMOUNT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"])

# The allowed moves and what each does to the stock of a sale whose stock went through inventory.
TRANSITIONS = {
    (SaleStatus.PENDING, SaleStatus.CONFIRMED): StockMovement.Reason.COMMIT,
    (SaleStatus.PENDING, SaleStatus.CANCELLED): StockMovement.Reason.RELEASE,
    (SaleStatus.CONFIRMED, SaleStatus.CANCELLED): StockMovement.Reason.RESTORE,
}


class InvalidTransition(Conflict):
    """A move the table refuses; carries the sale's current status."""

    code = "invalid_transition"

    def __init__(self, *, sale: Sale, target: str):
        verb = {SaleStatus.CONFIRMED: "confirmed", SaleStatus.CANCELLED: "cancelled"}[target]
        super().__init__(
            f"Sale {sale.id} is {sale.status} and cannot be {verb}.", sale_id=str(sale.id), status=sale.status
        )


def sale_status_allowed(current: str | None, target: str) -> bool:
    """Whether the table allows a sale in `current` (None: a sale being created) to move to `target`."""
    return current is None or (current, target) in TRANSITIONS


def sale_status_columns(target: str, *, now) -> dict:
    """The columns a sale entering `target` (created in it, or moved to it) writes: its status and
    the time it was confirmed or cancelled."""
    stamps = {SaleStatus.CONFIRMED: "confirmed_at", SaleStatus.CANCELLED: "cancelled_at"}
    return {"status": target, **({stamps[target]: now} if target in stamps else {})}


class DuplicateSale(Conflict):
    """The channel already has a sale with this external id in the project."""

    code = "duplicate_sale"


class ProductNotFound(NotFound):
    code = "product_not_found"


class InvalidLine(ServiceError):
    """Lines the ledger cannot accept (a variant of another product, a fraction of a stocked unit, ...)."""

    code = "invalid_line"


@dataclass(frozen=True)
class LineInput:
    """One line to sell. `product` is a product's UUID or its `external_id` in the project; None for a
    line that names no product (then `name` says what was sold). `unit_price` None means the
    variant's or product's price; `line_total` None means quantity x unit price - discount."""

    quantity: Decimal
    product: uuid.UUID | str | None = None
    variant: uuid.UUID | str | None = None
    unit_price: Decimal | None = None
    discount: Decimal = Decimal(0)
    line_total: Decimal | None = None
    name: str = ""
    external_id: str | None = None
    tags: Sequence[str] = field(default_factory=tuple)


def _products_by_reference(project, references, *, variants=(), lock: bool) -> tuple[dict[str, Product], list]:
    """Products named by UUID or external_id, in one query; keys are the references as given (a UUID names
    the product with that id before one with that external id). With `lock`, the stock rows a sale of them
    changes (theirs and those of the `variants` named), locked by the same query, are returned too."""
    references = {str(ref) for ref in references}
    if not references:
        return {}, []
    products, locked = products_with_stock(
        project_id=project.pk, references=sorted(references), ids=[i for i in map(parse_uuid, references) if i],
        variant_ids=[i for i in map(parse_uuid, variants) if i], lock=lock,
    )  # fmt: skip
    found = {str(product.id): product for product in products}
    for product in products:
        if product.external_id:
            found.setdefault(product.external_id, product)
    missing = sorted(references - set(found))
    if missing:
        names = ", ".join(f"'{ref}'" for ref in missing)
        raise ProductNotFound(f"Product {names} does not exist in this project.", products=missing)
    return found, locked


def _variants_by_id(references) -> dict[str, Variant]:
    ids = {ref_id for ref_id in map(parse_uuid, references) if ref_id is not None}
    return {str(variant.id): variant for variant in Variant.objects.filter(id__in=ids)} if ids else {}


def _stock_items(rows) -> list[StockItem]:
    """Whole-unit stock items from (product_id, variant_id, quantity) rows; lines without a product hold no stock."""
    return [
        StockItem(product_id=product_id, variant_id=variant_id, quantity=int(quantity))
        for product_id, variant_id, quantity in rows
        if product_id is not None
    ]


def _build_lines(*, project, currency: str, lines: Sequence[LineInput], stocked: bool) -> tuple[list[SaleLine], list]:
    """The sale's lines, checked; with `stocked`, also the stock rows of their products, locked."""
    variant_refs = [line.variant for line in lines if line.variant is not None]
    products, locked = _products_by_reference(
        project, [line.product for line in lines if line.product is not None], variants=variant_refs, lock=stocked
    )
    variants = _variants_by_id(variant_refs)
    built = []
    for position, line in enumerate(lines):
        product = products[str(line.product)] if line.product is not None else None
        variant = None
        if line.variant is not None:
            variant = variants.get(str(line.variant))
            if product is None or variant is None or variant.product_id != product.id:
                raise InvalidLine(
                    f"Line {position + 1}: variant '{line.variant}' is not a variant of product '{line.product}'.",
                    line=position,
                )
        if stocked and variant is None and product is not None and product.has_variants:
            raise InvalidLine(
                f"Line {position + 1}: {product.name} has variants; name the variant sold.", line=position
            )
        quantity, discount = to_decimal(line.quantity), to_decimal(line.discount)
        if quantity <= 0 and stocked:
            raise InvalidLine(f"Line {position + 1}: quantity must be greater than 0.", line=position)
        if stocked and product is not None and quantity != quantity.to_integral_value():
            raise InvalidLine(
                f"Line {position + 1}: quantity {quantity} is not a whole number of units; stock counts units.",
                line=position,
            )
        if line.unit_price is not None:
            unit_price = to_decimal(line.unit_price)
        elif variant is not None and variant.price is not None:
            unit_price = variant.price
        elif product is not None:
            unit_price = product.price
        else:
            raise InvalidLine(f"Line {position + 1}: a line without a product needs a unit price.", line=position)
        if line.line_total is not None:
            line_total = quantize(line.line_total, currency)
        else:
            line_total = quantize(quantity * unit_price - discount, currency)
        if line_total < 0:
            # A sale line sells: money back is a refund, recorded as a POS transaction (a negative amount).
            raise InvalidLine(
                f"Line {position + 1}: the line total ({line_total}) must not be negative: a discount cannot be "
                "more than the line's amount. Record refunds as POS transactions.",
                line=position,
            )
        name = line.name or (f"{product.name} / {variant.name}" if variant else product.name if product else "")
        built.append(
            SaleLine(
                product=product,
                variant=variant,
                product_name=name,
                product_image=product.image_url if product else "",
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                line_total=line_total,
                external_id=line.external_id,
                tags=list(line.tags),
                position=position,
            )
        )
    return built, locked


def sale_create(
    *,
    project,
    channel: str,
    lines: Sequence[LineInput],
    status: str = SaleStatus.PENDING,
    deduct_stock: bool = True,
    user=None,
    api_key=None,
    currency: str | None = None,
    category: str = "",
    customer=None,
    external_id: str | None = None,
    original_state: str = "",
    location=None,
    sale_type: str = "",
    extra: dict | None = None,
    created_at=None,
    discount: Decimal = Decimal(0),
    shipping: Decimal = Decimal(0),
    tax: Decimal = Decimal(0),
    total: Decimal | None = None,
    note: str = "",
) -> Sale:
    """Record a sale and its lines in one transaction, in three statements on PostgreSQL (the products with
    their stock rows locked, the lines, then the stock, the sale and its events at once), and return it
    with its lines (`sale.lines.all()` reads no more).

    With `deduct_stock`, the stock of every product line goes through inventory in one pass: a
    pending sale reserves it, a confirmed sale deducts it; a cancelled sale (an import of one that
    was already cancelled) never touches stock. `total` defaults to the lines' sum - discount +
    shipping + tax, rounded to the currency.

    Raises ProductNotFound (404) for a product not in `project`; InvalidLine (400) for a variant of
    another product, a product with variants sold without one, a negative line total (refunds are POS
    transactions), a fractional quantity of stocked units or amounts too large to store; DuplicateSale
    (409) for an `external_id` the channel already used in the project; InsufficientStock (409) when
    stock is short; UnknownCurrency for a bad currency code. Whatever it raises, nothing is written.
    """
    currency = normalize_currency(currency or project.currency)
    now = timezone.now()
    stocked = deduct_stock and status != SaleStatus.CANCELLED
    with checked_then_written():
        # The products and their stock rows, locked, in one query; everything (a shortage too) is checked before
        # anything is written.
        sale_lines, locked = _build_lines(project=project, currency=currency, lines=lines, stocked=stocked)
        subtotal = sum((line.line_total for line in sale_lines), Decimal(0))
        total = quantize(subtotal - discount + shipping + tax if total is None else total, currency)
        if any(abs(amount) >= MAX_AMOUNT for amount in (subtotal, total, *(line.line_total for line in sale_lines))):
            raise InvalidLine(f"The sale's amounts are too large: at most {MAX_AMOUNT - 1} per line and in total.")
        sale = Sale(
            project=project,
            channel=channel,
            currency=currency,
            subtotal=subtotal,
            discount=discount,
            shipping=shipping,
            tax=tax,
            total=total,
            category=category,
            customer=customer,
            user=user,
            api_key=api_key,
            external_id=external_id,
            original_state=original_state,
            location=location,
            sale_type=sale_type,
            extra=extra or {},
            stock_applied=stocked,
            created_at=created_at or now,
            **sale_status_columns(status, now=now),
        )
        items = _stock_items((line.product_id, line.variant_id, line.quantity) for line in sale_lines if stocked)
        reason = StockMovement.Reason.RESERVE if status == SaleStatus.PENDING else StockMovement.Reason.DEDUCT
        change = stock_change(items=items, reason=reason, sale_id=sale.id, actor_user=user, actor_key=api_key,
                              note=note, locked=locked) if items else None  # fmt: skip
        try:
            # Only an external id can collide (a unique key): then a savepoint, to tell the duplicate from the rest.
            with transaction.atomic(savepoint=external_id is not None):
                _sale_write(sale, sale_lines, change=change, user=user, api_key=api_key)
        except IntegrityError:
            if (
                external_id is None
                or not Sale.objects.filter(project=project, channel=channel, external_id=external_id).exists()
            ):
                raise
            raise DuplicateSale(
                f"A {channel} sale with external id '{external_id}' already exists.", external_id=external_id
            ) from None
    sales_written(channel=channel, count=1)
    return _with_lines(sale, sale_lines)


def _with_lines(sale: Sale, lines: list[SaleLine]) -> Sale:
    """`sale` with `lines` (in position order) as its prefetched lines, as a prefetch leaves them: its
    answer is rendered from what was just written, without reading it back."""
    queryset = sale.lines.all()
    queryset._result_cache, queryset._prefetch_done = lines, True
    sale._prefetched_objects_cache = {"lines": queryset}
    return sale


def _sale_write(sale: Sale, lines: list[SaleLine], *, change, user, api_key) -> None:
    """Two statements: the lines (RETURNING their ids, which the event shows), then on PostgreSQL one statement
    (`run_together`) for the stock counters and movements, the sale and the events. The lines go first and
    alone because the rollups' triggers count a sale's lines with whichever of the two is written second,
    and must not see both written by one statement (sales/migrations/0004_rollups.py); the lines'
    foreign key to the sale is checked at commit."""
    for line in lines:
        line.sale = sale
    if lines:
        names = [field.attname for field in SaleLine._meta.concrete_fields if not field.primary_key]
        rows = [{name: getattr(line, name) for name in names} for line in lines]
        inserted = run_together([insert_sql(SaleLine, rows, returning="id, position")])
        ids = {position: pk for pk, position in inserted}
        for line in lines:
            line.pk = ids[line.position]
    sale_row = insert_sql(Sale, [{field.attname: getattr(sale, field.attname) for field in Sale._meta.concrete_fields}])
    _changes_write(
        writes=[sale_row], change=change, changes=[("sale.created", sale)], lines=lines, user=user, api_key=api_key
    )


def _changes_write(*, writes, change, changes, lines, previous=None, user, api_key) -> None:
    """Write the sales' `writes` with the stock `change` (or None) and the events of `changes`, in one
    statement on PostgreSQL; a stock CHECK violation is refused as InsufficientStock."""
    stock_writes, stock_events = (change.statements, change.events) if change else ([], [])
    events = [*stock_events, *sale_events(changes=changes, lines=lines, previous=previous)]
    with change.refused_by_constraints() if change else nullcontext():
        events_record_with(
            writes=[*stock_writes, *writes], project_id=changes[0][1].project_id, events=events, actor_user=user,
            actor_key=api_key,
        )  # fmt: skip


def _sale_move(*, sale: Sale | None, sale_id, sales: QuerySet[Sale] | None, scope: dict | None, target: str,
               user=None, api_key=None, note: str = "") -> Sale:  # fmt: skip
    """Move `sale` (or the sale `sale_id` of `sales`, or of `scope`) to `target` under a row lock, reading it
    there once and re-checking its status: two concurrent moves of one sale run one after the other and the
    second sees the first's result. Records `sale.confirmed` or `sale.cancelled` with the previous status."""
    with checked_then_written():
        if sales is not None:
            # Only the sale: its lines are read next, whatever the scope prefetches.
            locked = sale_get(queryset=sales.prefetch_related(None).select_for_update(), sale_id=sale_id)
        elif sale is not None:
            locked = _sale_locked(sale_id=sale.pk, scope={})
        elif scope is not None:
            locked = _sale_locked(sale_id=sale_id, scope=scope)
        else:
            raise TypeError("a sale_id needs its scope: sales or scope")
        if not sale_status_allowed(locked.status, target):
            raise InvalidTransition(sale=locked, target=target)
        lines = _sale_lines(locked.pk)
        items = _stock_items((line.product_id, line.variant_id, line.quantity) for line in lines)
        change = None
        if locked.stock_applied and items:
            change = stock_change(
                items=items, reason=TRANSITIONS[locked.status, target], sale_id=locked.id, actor_user=user,
                actor_key=api_key, note=note,
            )  # fmt: skip
        previous = locked.status
        columns = sale_status_columns(target, now=timezone.now())
        for name, value in columns.items():
            setattr(locked, name, value)
        _changes_write(
            writes=[update_sql(Sale, locked.pk, columns)], change=change, changes=[(f"sale.{target}", locked)],
            lines=lines, previous={locked.pk: previous}, user=user, api_key=api_key,
        )  # fmt: skip
    return _with_lines(locked, lines)


def _sale_locked(*, sale_id, scope: dict) -> Sale:
    """The sale `sale_id` whose columns hold `scope`'s values (Sale's attnames, such as `{"project_id": 1,
    "user_id": 7}`; None is NULL), locked (FOR UPDATE: a second move of it waits for this transaction);
    NotFound (404) when there is none. Plain SQL, prepared once per connection for each scope's columns: the
    ORM spent longer composing this query than the database running it. SQLite has no row locks (a write
    locks the whole database)."""
    sale_uuid = parse_uuid(sale_id)
    if sale_uuid is None:
        raise sale_not_found(sale_id)
    quote = connection.ops.quote_name
    conditions, params = ["id = %s"], [Sale._meta.pk.get_db_prep_value(sale_uuid, connection)]
    for name, value in scope.items():
        field = Sale._meta.get_field(name)
        if value is None:
            conditions.append(f"{quote(field.column)} IS NULL")
        else:
            conditions.append(f"{quote(field.column)} = %s")
            params.append(field.get_db_prep_value(value, connection))
    columns = ", ".join(quote(field.column) for field in Sale._meta.concrete_fields)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {columns} FROM {quote(Sale._meta.db_table)} WHERE {' AND '.join(conditions)}{lock}"
    shape = "".join(f"_{name}{'_null' if value is None else ''}" for name, value in scope.items())
    found = raw_prepared(Sale, f"sales_sale_locked{shape}", sql, params)
    if not found:
        raise sale_not_found(sale_id)
    [sale] = found
    return sale


def _sale_lines(sale_id) -> list[SaleLine]:
    """The lines of the sale `sale_id`, in position order: a prepared statement, as `_sale_locked`."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in SaleLine._meta.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(SaleLine._meta.db_table)} WHERE sale_id = %s ORDER BY position, id"
    return raw_prepared(SaleLine, "sales_saleline_of_sale", sql, [Sale._meta.pk.get_db_prep_value(sale_id, connection)])


def sale_events(*, changes: list[tuple[str, Sale]], lines, previous=None) -> list[NewEvent]:
    """An event per (type, sale) of `changes`: its object is the sale (with its lines, from `lines`) as the
    native API shows it; `previous` maps a sale's id to its previous status."""
    from sales.ledger.api.native import sale_snapshots  # The native shape; the API imports these services.

    previous = previous or {}
    sales = [sale for _, sale in changes]
    return [
        NewEvent(type, data, object_id=str(sale.pk), previous_status=previous.get(sale.pk, ""))
        for (type, sale), data in zip(changes, sale_snapshots(sales, lines), strict=True)
    ]


def sale_events_record(*, changes: list[tuple[str, Sale]], lines, previous=None, user=None, api_key=None) -> None:
    """Record `sale_events` of `changes` (in one INSERT per 2,000), for the services that write sales in bulk."""
    if changes:
        events_record_many(
            project_id=changes[0][1].project_id, events=sale_events(changes=changes, lines=lines, previous=previous),
            actor_user=user, actor_key=api_key,
        )  # fmt: skip


def sale_events_record_stored(*, project_id, changes: list[tuple[str, uuid.UUID, str]], user=None, api_key=None):
    """Record an event per (type, sale id, previous status or "") of `changes`, of sales and lines already
    written in this transaction, as `sale_events_record` does but read from the database: new lines carry
    their ids. On PostgreSQL one INSERT ... SELECT builds every object (`sale_snapshot_sql`), whatever
    their number; elsewhere (SQLite) the sales and lines are read back and built in Python."""
    from sales.ledger.api.native import sale_snapshot_sql  # The native shape; the API imports these services.

    if not changes:
        return
    if connection.vendor != "postgresql":
        sales = Sale.objects.in_bulk([sale_id for _, sale_id, _ in changes])
        sale_events_record(
            changes=[(type, sales[sale_id]) for type, sale_id, _ in changes],
            lines=SaleLine.objects.filter(sale_id__in=list(sales)),
            previous={sale_id: previous for _, sale_id, previous in changes if previous},
            user=user,
            api_key=api_key,
        )
        return
    # The changes bound as one JSON document (see `salesledger.bulk`).
    events_record_select(
        project_id=project_id,
        select=(
            f"SELECT change.type, sale.id::text, {sale_snapshot_sql('sale')}, change.previous "
            f"FROM jsonb_to_recordset(%s::jsonb) AS change (type text, sale uuid, previous text) "
            f"JOIN {Sale._meta.db_table} AS sale ON sale.id = change.sale"
        ),
        params=[
            json.dumps(
                [{"type": type, "sale": str(sale_id), "previous": previous} for type, sale_id, previous in changes]
            )
        ],  # fmt: skip
        actor_user=user,
        actor_key=api_key,
    )


def sale_confirm(*, sale: Sale | None = None, sale_id=None, sales: QuerySet[Sale] | None = None,
                 scope: dict | None = None, user=None, api_key=None, note: str = "") -> Sale:  # fmt: skip
    """Confirm a pending sale: its stock reservation becomes a deduction. Returns the updated sale, with its lines.
    The sale is `sale`, or the sale `sale_id` among `sales` (a caller's scope, such as the key user's sales)
    or among the sales whose columns hold `scope`'s values (`{"project_id": 1, "user_id": 7}`: a plain scope,
    read by a prepared statement), then read once, under the lock.

    Raises InvalidTransition (409, with the current status) unless the sale is pending; NotFound (404) when
    `sales` or `scope` has no sale `sale_id`.
    """
    return _sale_move(sale=sale, sale_id=sale_id, sales=sales, scope=scope, target=SaleStatus.CONFIRMED, user=user,
                      api_key=api_key, note=note)  # fmt: skip


def sale_cancel(*, sale: Sale | None = None, sale_id=None, sales: QuerySet[Sale] | None = None,
                scope: dict | None = None, user=None, api_key=None, note: str = "") -> Sale:  # fmt: skip
    """Cancel a pending sale (its reservation is released) or a confirmed one (its stock is restored). The
    sale is given as to `sale_confirm`.

    Raises InvalidTransition (409, with the current status) for a sale already cancelled; NotFound (404)
    when `sales` or `scope` has no sale `sale_id`.
    """
    return _sale_move(sale=sale, sale_id=sale_id, sales=sales, scope=scope, target=SaleStatus.CANCELLED, user=user,
                      api_key=api_key, note=note)  # fmt: skip
