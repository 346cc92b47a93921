"""Every write of the stock ledger: reserve, release, commit, deduct, restore and adjust.

Stock changes only here. Each stock service takes all the items of one change (the lines of a
sale) and, in one transaction: locks the stock rows of every item in one query, in primary-key
order (so two changes never deadlock), computes every shortfall and raises one error before any
write, then updates the counters in one UPDATE and writes one `StockMovement` per item in one
INSERT. `stock_change` does the locking and checking and hands those two statements to a caller
that sends them with its own (the ledger: with the sale and its events, one statement on PostgreSQL).
"""

import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from events.services import NewEvent, events_record_many, events_record_with
from inventory.models import LOW_STOCK, MAX_UNITS, Product, Stock, StockMovement, Variant
from salesledger.db import in_list_shape, raw_prepared
from salesledger.errors import Conflict, NotFound, ServiceError
from salesledger.writes import Statement, checked_then_written, insert_sql, run_together

Reason = StockMovement.Reason


@dataclass(frozen=True)
class StockItem:
    """One line of a stock change: `quantity` whole units of a product, or of one of its variants."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    quantity: int


class _Shortages(Conflict):
    """Some items of a stock change are short; nothing was changed. `shortages` lists every one:
    product_id, variant_id, name, requested, and the `counted` quantity there was."""

    counted = "available"
    title = "Insufficient stock"

    def __init__(self, shortages: list[dict]):
        self.shortages = shortages
        listed = "; ".join(
            f"{item['name']} (requested {item['requested']}, {self.counted} {item[self.counted]})" for item in shortages
        )
        super().__init__(f"{self.title}: {listed}", shortages=shortages)


class InsufficientStock(_Shortages):
    """Not enough available stock for one or more items (`available` in each shortage)."""

    code = "insufficient_stock"

    @property
    def client_data(self) -> dict:
        if len(self.shortages) == 1:
            [shortage] = self.shortages
            return {"requested": shortage["requested"], "available": shortage["available"]}
        return {"shortages": self.shortages}


class InsufficientReservation(_Shortages):
    """A release or commit asked for more units than are reserved (`reserved` in each shortage)."""

    code = "insufficient_reservation"
    counted = "reserved"
    title = "Not reserved"


class VariantRequired(ServiceError):
    code = "variant_required"


class InvalidQuantity(ServiceError):
    code = "invalid_quantity"


class ReasonRequired(ServiceError):
    code = "reason_required"


class ActorRequired(ServiceError):
    code = "actor_required"


# What one unit of each kind of change does to (on hand, reserved).
_UNIT_DELTAS = {
    Reason.RESERVE: (0, 1),
    Reason.RELEASE: (0, -1),
    Reason.COMMIT: (-1, -1),
    Reason.DEDUCT: (-1, 0),
    Reason.RESTORE: (1, 0),
    Reason.ADJUSTMENT: (1, 0),
    Reason.INITIAL: (1, 0),
}

_Key = tuple[uuid.UUID, uuid.UUID | None]


def stock_reserve(*, items: list[StockItem], sale_id=None, actor_user=None, actor_key=None, note="") -> None:
    """Reserve the items' quantities out of available stock (a pending sale).

    Raises InsufficientStock (listing every item short) and changes nothing when any item lacks
    available units; NotFound for an unknown product or a variant of another product;
    VariantRequired for a product with variants named without one; InvalidQuantity.
    """
    _apply(items=items, reason=Reason.RESERVE, sale_id=sale_id, actor_user=actor_user, actor_key=actor_key, note=note)


def stock_release(*, items: list[StockItem], sale_id=None, actor_user=None, actor_key=None, note="") -> None:
    """Give reserved units back to available stock (a pending sale cancelled).

    Raises InsufficientReservation when more is released than is reserved, and the errors of
    `stock_reserve` for unknown items.
    """
    _apply(items=items, reason=Reason.RELEASE, sale_id=sale_id, actor_user=actor_user, actor_key=actor_key, note=note)


def stock_commit(*, items: list[StockItem], sale_id=None, actor_user=None, actor_key=None, note="") -> None:
    """Turn a reservation into a deduction (a pending sale confirmed): on hand and reserved both drop.

    Raises InsufficientReservation when more is committed than is reserved, and the errors of
    `stock_reserve` for unknown items.
    """
    _apply(items=items, reason=Reason.COMMIT, sale_id=sale_id, actor_user=actor_user, actor_key=actor_key, note=note)


def stock_deduct(*, items: list[StockItem], sale_id=None, actor_user=None, actor_key=None, note="") -> None:
    """Take units out of on-hand stock directly (a sale confirmed without a reservation).

    Raises InsufficientStock (every item short) when any item lacks available units, and the
    errors of `stock_reserve` for unknown items.
    """
    _apply(items=items, reason=Reason.DEDUCT, sale_id=sale_id, actor_user=actor_user, actor_key=actor_key, note=note)


def stock_restore(*, items: list[StockItem], sale_id=None, actor_user=None, actor_key=None, note="") -> None:
    """Put deducted units back on hand (a confirmed sale cancelled). Raises the errors of `stock_reserve`."""
    _apply(items=items, reason=Reason.RESTORE, sale_id=sale_id, actor_user=actor_user, actor_key=actor_key, note=note)


def stock_adjust(*, product, variant=None, delta: int, reason: str, actor_user=None, actor_key=None) -> StockMovement:
    """A manual correction of on-hand stock by `delta` units, recorded with its reason and actor.

    Raises ReasonRequired, ActorRequired, InvalidQuantity (zero or non-integer delta),
    InsufficientStock when a negative delta exceeds the available units (reserved units cannot be
    corrected away), NotFound for a variant of another product, VariantRequired.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired("a manual stock adjustment needs a reason.", field="reason")
    if actor_user is None and actor_key is None:
        raise ActorRequired("A manual stock adjustment needs an actor (a user or an API key).")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_UNITS:
        raise InvalidQuantity(
            f"must be a non-zero whole number of units, at most {MAX_UNITS} either way.", field="delta"
        )
    if variant is not None and variant.product_id != product.pk:
        raise NotFound("Variant not found for this product.")
    with checked_then_written():
        change = _change(
            deltas={(product.pk, variant.pk if variant is not None else None): delta}, reason=Reason.ADJUSTMENT,
            sale_id=None, actor_user=actor_user, actor_key=actor_key, note=reason.strip(),
        )  # fmt: skip
        [stock], [movement] = change.stocks, change.movements
        with change.refused_by_constraints():
            [(movement.pk,)] = run_together(change.statements)
        adjusted = NewEvent("stock.adjusted", _stock_data(stock, movement), object_id=str(stock.product_id))
        events_record_many(
            project_id=change.project_id, events=[adjusted, *change.events], actor_user=actor_user,
            actor_key=actor_key,
        )  # fmt: skip
    return movement


def _apply(*, items, reason, sale_id, actor_user, actor_key, note) -> None:
    with checked_then_written():
        change = stock_change(
            items=items, reason=reason, sale_id=sale_id, actor_user=actor_user, actor_key=actor_key, note=note
        )
        with change.refused_by_constraints():
            events_record_with(
                writes=change.statements, project_id=change.project_id, events=change.events,
                actor_user=actor_user, actor_key=actor_key,
            )  # fmt: skip


def _sum_items(items: Iterable[StockItem]) -> dict[_Key, int]:
    """Quantities per product/variant, duplicates summed, in first-seen order."""
    totals: dict[_Key, int] = {}
    for item in items:
        quantity = item.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_UNITS:
            raise InvalidQuantity(
                f"must be a whole number of units from 1 to {MAX_UNITS}, got {quantity!r}.", field="quantity"
            )
        key = (_as_uuid(item.product_id), _as_uuid(item.variant_id) if item.variant_id is not None else None)
        totals[key] = totals.get(key, 0) + quantity
    if not totals:
        raise InvalidQuantity("at least one item is needed.", field="items")
    return totals


def _as_uuid(value) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"Product or variant '{value}' not found.") from None


# The CHECK constraints of the counters (inventory/models.py): the last word against oversell.
_COUNTER_CHECKS = ("stock_on_hand_not_negative", "stock_reserved_not_negative", "stock_reserved_within_on_hand")


@dataclass
class StockChange:
    """A stock change checked under its row locks and not written yet (see `stock_change`)."""

    project_id: int
    stocks: list[Stock]  # the locked rows, with their counters as they will be
    movements: list[StockMovement]  # one per row, without ids
    statements: list[Statement]  # the counters' UPDATE, then the movements' INSERT (RETURNING their ids)
    events: list[NewEvent]  # `stock.low` for each row whose available stock falls to LOW_STOCK or below

    @contextmanager
    def refused_by_constraints(self):
        """Around the writing of `statements`: a violation of the counters' CHECK constraints (a write
        that bypassed the locks) is the InsufficientStock it means, never a 500; the transaction is then
        marked for rollback."""
        try:
            yield
        except IntegrityError as error:
            if not any(name in str(error) for name in _COUNTER_CHECKS):
                raise
            transaction.set_rollback(True)
            # `stocks` hold the counters as the change leaves them: what was available is before it.
            short = [
                {**_describe((stock.product_id, stock.variant_id), stock),
                 "requested": abs(movement.delta_on_hand or movement.delta_reserved),
                 "available": stock.available - movement.delta_on_hand + movement.delta_reserved}
                for stock, movement in zip(self.stocks, self.movements, strict=True)
            ]  # fmt: skip
            raise InsufficientStock(short) from error


def stock_change(
    *, items: list[StockItem], reason: str, sale_id=None, actor_user=None, actor_key=None, note="", locked=None
):
    """Lock the items' stock rows (one query, in primary-key order, so two changes never deadlock), check
    every item and raise as the stock service of `reason` does (`stock_reserve` ...), before any write;
    returns the StockChange to write in the same transaction: its `statements` with the caller's own
    rows (`salesledger.writes.run_together`), inside `refused_by_constraints()`, and its `events`.
    `locked`: the rows `products_with_stock` already locked in this transaction, then not locked again."""
    return _change(
        deltas=_sum_items(items), reason=reason, sale_id=sale_id, actor_user=actor_user, actor_key=actor_key,
        note=note, locked=locked,
    )  # fmt: skip


def products_with_stock(
    *, project_id, references: list[str], ids: list[uuid.UUID], variant_ids: list[uuid.UUID], lock: bool
) -> tuple[list[Product], list[Stock]]:
    """The products of the project whose external id is one of `references` or whose id is one of `ids`, each
    with `has_variants` (whether it has variants), in one query. With `lock`, the same query also locks the
    stock rows a sale of them changes (each product's own row, and those of `variant_ids`), in primary-key
    order as `stock_change` locks them (so two changes never deadlock), and returns them to pass it as
    `locked`. Plain SQL: the ORM spent longer composing this query than the database running it; prepared once
    per connection for each length of its lists (`in_list_shape`), PostgreSQL planned it at every write for
    five times as long as it ran. SQLite has no row locks (a write locks the whole database)."""
    quote = connection.ops.quote_name
    product, stock, variant = (quote(model._meta.db_table) for model in (Product, Stock, Variant))
    prepare = Product._meta.pk.get_db_prep_value  # product and variant ids alike: UUIDs
    references, ids, variant_ids = map(in_list_shape, (references, ids, variant_ids))
    shape = f"{len(references)}_{len(ids)}_{len(variant_ids)}"
    named = f"p.external_id IN ({', '.join(['%s'] * len(references))})"
    if ids:
        named += f" OR p.id IN ({', '.join(['%s'] * len(ids))})"
    # The columns by name: a prepared `p.*` would no longer match the table once a migration adds a column.
    columns = ", ".join(f"p.{quote(field.column)}" for field in Product._meta.concrete_fields)
    columns += f", EXISTS (SELECT 1 FROM {variant} pv WHERE pv.product_id = p.id) AS has_variants"
    where = f"p.project_id = %s AND ({named})"
    params = [project_id, *references, *(prepare(i, connection) for i in ids)]
    if not lock:
        sql = f"SELECT {columns} FROM {product} p WHERE {where}"
        return list(raw_prepared(Product, f"inventory_products_{shape}", sql, params)), []
    rows = "s.variant_id IS NULL"
    if variant_ids:
        rows += f" OR s.variant_id IN ({', '.join(['%s'] * len(variant_ids))})"
    lock_of = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT {columns}, s.id AS stock_id, s.variant_id AS stock_variant_id, s.on_hand AS stock_on_hand, "
        f"s.reserved AS stock_reserved, v.name AS variant_name FROM {product} p "
        f"JOIN {stock} s ON s.product_id = p.id AND ({rows}) LEFT JOIN {variant} v ON v.id = s.variant_id "
        f"WHERE {where} ORDER BY s.id{lock_of}"
    )
    params = [*(prepare(i, connection) for i in variant_ids), *params]
    found = list(raw_prepared(Product, f"inventory_products_with_stock_{shape}", sql, params))
    products, stocks = {}, []
    for row in found:
        products.setdefault(row.pk, row)  # a product with variants comes once per stock row
        variant_id = row.stock_variant_id
        stock = Stock(
            id=row.stock_id, product_id=row.pk, variant_id=None if variant_id is None else _as_uuid(variant_id),
            on_hand=row.stock_on_hand, reserved=row.stock_reserved,
        )  # fmt: skip
        # What `_lock_query` reads beside the counters, for errors and events.
        stock.project_id, stock.product_name, stock.has_variants = row.project_id, row.name, row.has_variants
        stock.variant_name = row.variant_name
        stocks.append(stock)
    return list(products.values()), stocks


def _change(*, deltas: dict[_Key, int], reason, sale_id, actor_user, actor_key, note, locked=None) -> StockChange:
    unit_on_hand, unit_reserved = _UNIT_DELTAS[reason]
    stocks = _lock(deltas.keys(), locked)
    changes = []
    short, unreserved = [], []
    for key, quantity in deltas.items():
        stock = stocks[key]
        new_on_hand = stock.on_hand + unit_on_hand * quantity
        new_reserved = stock.reserved + unit_reserved * quantity
        if max(new_on_hand, new_reserved) > MAX_UNITS:
            raise InvalidQuantity(f"quantity: {_describe(key, stock)['name']} would hold more than {MAX_UNITS} units.")
        if new_reserved < 0:
            unreserved.append({**_describe(key, stock), "requested": quantity, "reserved": stock.reserved})
        elif new_on_hand < 0 or new_reserved > new_on_hand:
            needed = abs(quantity)
            short.append({**_describe(key, stock), "requested": needed, "available": stock.available})
        changes.append((key, stock, new_on_hand, new_reserved))
    if short:
        raise InsufficientStock(short)
    if unreserved:
        raise InsufficientReservation(unreserved)

    now = timezone.now()
    movements, low = [], []
    for (product_id, variant_id), stock, new_on_hand, new_reserved in changes:
        was_available = stock.available
        movements.append(
            StockMovement(
                product_id=product_id,
                variant_id=variant_id,
                delta_on_hand=new_on_hand - stock.on_hand,
                delta_reserved=new_reserved - stock.reserved,
                reason=reason,
                sale_id=sale_id,
                actor_user=actor_user,
                actor_key=actor_key,
                note=note or "",
                created_at=now,
            )
        )
        stock.on_hand, stock.reserved = new_on_hand, new_reserved
        if was_available > LOW_STOCK >= stock.available:
            low.append(stock)
    stocks = [stock for _, stock, _, _ in changes]
    return StockChange(
        project_id=stocks[0].project_id,
        stocks=stocks,
        movements=movements,
        statements=[_counters_update(stocks, movements), _movements_insert(movements)],
        events=[NewEvent("stock.low", _stock_data(stock), object_id=str(stock.product_id)) for stock in low],
    )


def _counters_update(stocks: list[Stock], movements: list[StockMovement]) -> Statement:
    """One UPDATE adding each movement's deltas to its row's counters (the rows are locked: the
    CHECK constraints still refuse any result below zero). The deltas are cast: a prepared statement's
    parameter takes its type from its context, and a CASE's result would otherwise be text."""
    table = connection.ops.quote_name(Stock._meta.db_table)
    cases = " ".join(["WHEN %s THEN CAST(%s AS integer)"] * len(stocks))
    ids = ", ".join(["%s"] * len(stocks))
    sql = (
        f"UPDATE {table} SET on_hand = on_hand + CASE id {cases} END, "
        f"reserved = reserved + CASE id {cases} END WHERE id IN ({ids})"
    )
    pairs = list(zip(stocks, movements, strict=True))
    params = [
        *[value for stock, movement in pairs for value in (stock.pk, movement.delta_on_hand)],
        *[value for stock, movement in pairs for value in (stock.pk, movement.delta_reserved)],
        *[stock.pk for stock in stocks],
    ]
    return sql, params


def _movements_insert(movements: list[StockMovement]) -> Statement:
    names = [field.attname for field in StockMovement._meta.concrete_fields if not field.primary_key]
    return insert_sql(
        StockMovement, [{name: getattr(movement, name) for name in names} for movement in movements], returning="id"
    )


def _stock_data(stock: Stock, movement: StockMovement | None = None) -> dict:
    """A stock row as `adjust-stock` answers it (with the movement of a correction: its reason, note and actor)."""
    from inventory.api.native import AdjustStockResultSerializer  # The native shape; the API imports these services.

    data = AdjustStockResultSerializer(
        {
            "product_id": stock.product_id, "variant_id": stock.variant_id, "on_hand": stock.on_hand,
            "reserved": stock.reserved, "available": stock.available, "movement": movement,
        }
    ).data  # fmt: skip
    data["name"] = _describe((stock.product_id, stock.variant_id), stock)["name"]
    if movement is None:
        del data["movement"]
    return data


def _describe(key: _Key, stock: Stock) -> dict:
    """The item of a locked stock row as errors and events name it."""
    product_id, variant_id = key
    name = stock.product_name if stock.variant_name is None else f"{stock.product_name} / {stock.variant_name}"
    return {"product_id": str(product_id), "variant_id": str(variant_id) if variant_id else None, "name": name}


def _lock_query(keys: list[_Key]):
    """The stock rows of `keys`, locked in primary-key order, with what errors and events say of them:
    `project_id`, `product_name`, `variant_name` and `has_variants` (whether the product has variants).
    Plain SQL, built in microseconds: the ORM spent longer composing this query than the database
    running it; prepared once per connection for each length of its lists, as `products_with_stock`. SQLite
    has no row locks (a write locks the whole database)."""
    quote = connection.ops.quote_name
    stock, product, variant = (quote(model._meta.db_table) for model in (Stock, Product, Variant))
    plain = [product_id for product_id, variant_id in keys if variant_id is None]
    variants = [variant_id for _, variant_id in keys if variant_id is not None]
    plain, variants = map(in_list_shape, (plain, variants))
    conditions = []
    if plain:
        conditions.append(f"(s.variant_id IS NULL AND s.product_id IN ({', '.join(['%s'] * len(plain))}))")
    if variants:
        conditions.append(f"s.variant_id IN ({', '.join(['%s'] * len(variants))})")
    lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT s.id, s.product_id, s.variant_id, s.on_hand, s.reserved, p.project_id, p.name AS product_name, "
        f"v.name AS variant_name, EXISTS (SELECT 1 FROM {variant} pv WHERE pv.product_id = s.product_id) "
        f"AS has_variants FROM {stock} s JOIN {product} p ON p.id = s.product_id "
        f"LEFT JOIN {variant} v ON v.id = s.variant_id WHERE {' OR '.join(conditions)} ORDER BY s.id{lock}"
    )
    prepare = Product._meta.pk.get_db_prep_value  # product and variant ids alike: UUIDs
    params = [prepare(key, connection) for key in (*plain, *variants)]
    return raw_prepared(Stock, f"inventory_stock_lock_{len(plain)}_{len(variants)}", sql, params)


def _lock(keys: Iterable[_Key], locked: list[Stock] | None = None) -> dict[_Key, Stock]:
    """The locked stock row of every key (among `locked`, the rows already locked, when given); NotFound /
    VariantRequired when a key names no stock.

    One query: every product and variant gets its stock row when the catalogue creates it.
    """
    keys = list(keys)
    found = _match(keys, list(_lock_query(keys)) if locked is None else locked)
    for product_id, variant_id in keys:
        if (product_id, variant_id) not in found:
            if variant_id is None:
                raise NotFound(f"Product {product_id} not found.")
            raise NotFound(f"Variant {variant_id} not found for product {product_id}.")
    return found


def _match(keys: list[_Key], rows: list[Stock]) -> dict[_Key, Stock]:
    by_product = {row.product_id: row for row in rows if row.variant_id is None}
    by_variant = {row.variant_id: row for row in rows if row.variant_id is not None}
    found = {}
    for key in keys:
        product_id, variant_id = key
        if variant_id is None:
            row = by_product.get(product_id)
            if row is not None and row.has_variants:
                raise VariantRequired(f"{row.product_name} has variants; name one of them.", field="variant_id")
        else:
            row = by_variant.get(variant_id)
            if row is not None and row.product_id != product_id:
                raise NotFound(f"Variant {variant_id} not found for product {product_id}.")
        if row is not None:
            found[key] = row
    return found
