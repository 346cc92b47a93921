"""Custobar-style uploads of sale rows: rows checked by `sales.uploads.parse`, then whole transactions
upserted in batches.

Rows with the same `sale_external_id` form one ledger sale (channel custobar). The document's money
is in minor units (cents) of a currency and is converted with that currency's exponent by
`salesledger.money`. The ledger keeps custobar sales in the project's currency (the document's
"default currency"); only the `*_in_currency` fields are in `sale_currency`, converted with
`amount / sale_exchange_rate`. Inventory stock is never touched: an upload describes sales
already made elsewhere.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from psycopg import sql

from inventory.models import Product
from inventory.services.catalogue import products_create_many
from sales.ledger.models import Sale, SaleChannel, SaleLine
from sales.ledger.services import sale_events_record_stored, sale_status_allowed, sale_status_columns
from sales.uploads.models import Upload
from sales.uploads.parse import (
    COMPANY_FIELD,
    CUSTOMER_FIELDS,
    DEFAULT_STATE,
    EXTRA_FIELDS,
    MAX_AMOUNT,
    STATE_STATUS,
    ParsedRows,
    Problems,
    Row,
    Transaction,
    UploadInvalid,
    sale_rows_parse,
)
from salesledger.bulk import BATCH_SIZE, copy_rows, rows_insert
from salesledger.collector import collector_paused
from salesledger.errors import Busy, Conflict
from salesledger.metrics import sales_written
from salesledger.money import convert, from_minor, quantize
from tracking.services import customer_identity, customer_ids_get_or_create

# pg_advisory_xact_lock's first key: the namespace of custobar upload locks (any constant int4).
_LOCK_NAMESPACE = 0x0C57


class UploadRunning(Busy):
    code = "upload_running"


def sales_upload(*, project, rows: list, api_key=None, user=None, row_offset: int = 0) -> Upload:
    """Upsert the custobar sales that `rows` describe, in one transaction; returns the Upload record.

    Every row is checked before anything is written. Rows are grouped by `sale_external_id` into
    transactions; a transaction's `sale_*` fields may come on any of its rows. Products are matched
    by `product_id` (a product's external id), else by `product_sku` then `product_ean`, and created
    when unmatched; customers are matched or created through tracking. A row with an `external_id`
    updates that row of its sale; rows without one replace the sale's rows that have none; uploading
    the same rows again changes nothing. `row_offset` numbers the rows in problems (an import's batch).
    The queries are batched: their number does not grow with the number of rows, only with batches.

    Raises UploadInvalid (every problem, with its row index and field) and writes nothing when any row
    is invalid; UploadRunning (429) at once when another upload of the project is running (PostgreSQL);
    Conflict when a concurrent request created one of the same products first (retry).
    """
    parsed = sale_rows_parse(project=project, rows=rows, row_offset=row_offset)
    return sales_upload_parsed(project=project, parsed=parsed, api_key=api_key, user=user)


def sales_upload_parsed(*, project, parsed: ParsedRows, api_key=None, user=None, wait: bool = False) -> Upload:
    """`sales_upload` of rows already parsed by `sale_rows_parse` for the same project; raises the same.

    With `wait` (the import command), it waits for another upload of the project to finish instead
    of raising UploadRunning."""
    problems = Problems(parsed.problems)
    try:
        with collector_paused(), transaction.atomic():
            _lock_uploads(project, wait=wait)
            existing = _existing_sales(project, parsed.transactions)
            problems += _check(parsed.transactions, existing)
            if problems:
                raise UploadInvalid(problems)
            return _write(
                project=project, transactions=parsed.transactions, existing=existing, api_key=api_key, user=user,
                row_count=parsed.count,
            )  # fmt: skip
    except IntegrityError as error:
        raise Conflict(
            "Another request wrote the same products or sales at the same time; nothing was written: retry."
        ) from error


def _lock_uploads(project, *, wait: bool) -> None:
    """Uploads of one project run one at a time (PostgreSQL), so two uploads of a new transaction
    cannot both create it, and one project's uploads never hold more than one worker: another upload
    is refused at once (or waits, with `wait`). SQLite serialises writers by itself."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, project.pk % 2**31])
            return
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, project.pk % 2**31])
        if not cursor.fetchone()[0]:
            raise UploadRunning("Another upload of this project is running; retry when it has finished.")


def _existing_sales(project, transactions) -> dict[str, Sale]:
    if not transactions:
        return {}
    sales = Sale.objects.filter(project=project, channel=SaleChannel.CUSTOBAR, external_id__in=list(transactions))
    return {sale.external_id: sale for sale in sales}


def _check(transactions: dict[str, Transaction], existing: dict[str, Sale]) -> list[dict]:
    """Problems that need the whole transaction, or what the ledger already knows of it."""
    problems = Problems()
    for sale_id, txn in transactions.items():
        fields, sale = txn.fields, existing.get(sale_id)
        sent = fields.keys() | txn.invalid
        known = sale.extra if sale is not None else {}
        has_currency = "sale_currency" in sent or known.get("sale_currency") is not None
        has_rate = "sale_exchange_rate" in sent or known.get("sale_exchange_rate") is not None
        if "sale_currency" in fields and not has_rate:
            problems.add(txn.field_rows["sale_currency"], "sale_exchange_rate", "Required with sale_currency.")
        if "sale_exchange_rate" in fields and not has_currency:
            problems.add(txn.field_rows["sale_exchange_rate"], "sale_currency", "Required with sale_exchange_rate.")
        in_currency = "Needs sale_currency and sale_exchange_rate on the transaction."
        if "sale_shipping_in_currency" in fields and not has_currency:
            problems.add(txn.field_rows["sale_shipping_in_currency"], "sale_shipping_in_currency", in_currency)
        for row in txn.rows:
            if row.unit_price is None and row.unit_price_in_currency is not None and not has_currency:
                problems.add(row.row, "unit_price_in_currency", in_currency)
            if (row.unit_price, row.unit_price_in_currency, row.total) == (None, None, None) and (
                "sale_total" not in sent
            ):
                problems.add(
                    row.row,
                    "unit_price",
                    "Required (or unit_price_in_currency, or total, or the transaction's sale_total).",
                )
        if sale is None:
            if "sale_date" not in sent:
                problems.add(txn.first_row, "sale_date", f"Required: transaction '{sale_id}' is not in the ledger yet.")
            if not sent & CUSTOMER_FIELDS.keys():
                problems.add(
                    txn.first_row,
                    "sale_customer_id",
                    f"Transaction '{sale_id}' is not in the ledger yet: identify its customer with "
                    "sale_customer_id, sale_phone_number or sale_email.",
                )
        elif "sale_state" in fields:
            target = STATE_STATUS[fields["sale_state"]]
            if target != sale.status and not sale_status_allowed(sale.status, target):
                problems.add(
                    txn.field_rows["sale_state"],
                    "sale_state",
                    f"Transaction '{sale_id}' is {sale.status} ({sale.original_state or DEFAULT_STATE}) "
                    f"and cannot become {target} ({fields['sale_state']}).",
                )
    return problems


# Writing --------------------------------------------------------------------------------------

SALE_UPDATE_FIELDS = [
    "status",
    "original_state",
    "subtotal",
    "discount",
    "shipping",
    "total",
    "customer",
    "extra",
    "created_at",
    "confirmed_at",
    "cancelled_at",
]
LINE_UPDATE_FIELDS = ["product", "product_name", "quantity", "unit_price", "discount", "line_total", "tags"]


@dataclass(slots=True)
class ProductWanted:
    """A product a sale row names: its `product_id` (external id), sku, ean, and the price to create it with."""

    product_id: str | None
    sku: str | None
    ean: str | None
    price: Decimal


def synthetic_external_id(*, sku: str | None, ean: str | None) -> str:
    """The external id of a product created from a row without `product_id`: built from its sku, else its ean."""
    return f"sku:{sku}" if sku else f"ean:{ean}"


def products_get_or_create(*, project, wanted: list[ProductWanted]) -> tuple[list[Product], int]:
    """The product of each `wanted` row, in order, and how many were created; one lookup and one insert.

    A `product_id` matches a product's external id only; without it the sku, then the ean, then the
    synthetic external id match. Unmatched products are created with the row's details: a `product_id`,
    else the synthetic id (`sku:...`/`ean:...`), as external id and as name; the sku and ean unless
    another product has them, through `products_create_many` (with their stock rows, no stock). Rows
    later in `wanted` see products created for earlier ones. Raises IntegrityError when a concurrent
    request inserted the same product.
    """
    external_ids, skus, eans = set(), set(), set()
    for item in wanted:
        external_ids.add(item.product_id or synthetic_external_id(sku=item.sku, ean=item.ean))
        if item.sku:
            skus.add(item.sku)
        if item.ean:
            eans.add(item.ean)
    by_external, by_sku, by_ean = {}, {}, {}
    found = Product.objects.filter(project=project).filter(
        Q(external_id__in=external_ids) | Q(sku__in=skus) | Q(ean__in=eans)
    )
    for product in found.only("id", "name", "sku", "ean", "external_id"):
        for index, key in ((by_external, product.external_id), (by_sku, product.sku), (by_ean, product.ean)):
            if key:
                index[key] = product
    # Each row's Product, or the index in `new` of the product it creates (rows later on may name it too).
    new, products = [], []
    for item in wanted:
        if item.product_id:
            product = by_external.get(item.product_id)
        else:
            synthetic = synthetic_external_id(sku=item.sku, ean=item.ean)
            # (`is not None`, not `or`: a product made here is its index in `new`, and may be 0.)
            product = next(
                (found for found in (by_sku.get(item.sku), by_ean.get(item.ean), by_external.get(synthetic))
                 if found is not None),
                None,
            )  # fmt: skip
        if product is None:
            external_id = item.product_id or synthetic
            sku = item.sku if item.sku and item.sku not in by_sku else None
            ean = item.ean if item.ean and item.ean not in by_ean else None
            product = len(new)
            new.append({"name": external_id, "external_id": external_id, "sku": sku, "ean": ean,
                        "price": max(item.price, Decimal(0))})  # fmt: skip
            for index, key in ((by_external, external_id), (by_sku, sku), (by_ean, ean)):
                if key:
                    index[key] = product
        products.append(product)
    # Through the catalogue, so each new product gets its stock row (and no movement: an upload adds no stock).
    created = products_create_many(project=project, products=new) if new else []
    return [created[product] if isinstance(product, int) else product for product in products], len(new)


@dataclass(slots=True)
class _Counts:
    transactions_created: int = 0
    transactions_updated: int = 0
    transactions_unchanged: int = 0
    lines_created: int = 0
    lines_updated: int = 0
    lines_deleted: int = 0


def _write(*, project, transactions, existing, api_key, user, row_count) -> Upload:
    currency = project.currency
    minor_unit = from_minor(1, currency)
    now = timezone.now()
    prices = {}
    wanted = []
    too_large = Problems()
    for sale_id, txn in transactions.items():
        sale_currency, rate = _conversion(txn, existing.get(sale_id))
        for row in txn.rows:
            amounts = _amounts(row, currency=currency, minor_unit=minor_unit, sale_currency=sale_currency, rate=rate)
            prices[row.row] = amounts
            if any(abs(amount) >= MAX_AMOUNT for amount in amounts):
                too_large.add(row.row, "total", f"The row's amounts exceed {MAX_AMOUNT:,} {currency}.")
            wanted.append(ProductWanted(product_id=row.product_id, sku=row.sku, ean=row.ean, price=amounts[0]))
    if too_large:
        raise UploadInvalid(too_large)
    customers = _customers(project, transactions)
    products, products_created = products_get_or_create(project=project, wanted=wanted) if wanted else ([], 0)
    product_of = iter(products)
    lines_of = _lines_by_sale(existing.values())
    new_sale = {
        **_defaults(Sale),
        "project_id": project.pk,
        "channel": SaleChannel.CUSTOBAR,
        "currency": currency,
        "user_id": user.pk if user is not None else None,
        "api_key_id": api_key.pk if api_key is not None else None,
    }
    new_line = _defaults(SaleLine)
    # New rows are kept as tuples of their columns' values, not dicts: a large upload holds hundreds of
    # thousands of them at once (about a quarter of its memory as dicts).
    sale_row, line_row = itemgetter(*new_sale), itemgetter(*new_line)

    counts = _Counts()
    new_sales, changed_sales, new_lines, changed_lines, deleted_lines = [], [], [], [], []
    changes, previous = [], {}
    for sale_id, txn in transactions.items():
        sale = existing.get(sale_id)
        sale_pk = sale.pk if sale is not None else uuid.uuid4()
        desired = [(row, next(product_of), *prices[row.row]) for row in txn.rows]
        subtotal, created, updated, deleted = _merge_lines(
            lines_of.get(sale_pk, []), desired, {**new_line, "sale_id": sale_pk}
        )
        lines_changed = bool(created or updated or deleted)
        values = _sale_values(
            txn, sale, currency=currency, customers=customers, subtotal=subtotal, lines_changed=lines_changed, now=now
        )
        if max(abs(values["subtotal"]), abs(values["total"])) >= MAX_AMOUNT:
            too_large.add(txn.first_row, "sale_total", f"The transaction's total exceeds {MAX_AMOUNT:,} {currency}.")
        if abs(values["shipping"]) >= MAX_AMOUNT:
            field_name = "sale_shipping" if "sale_shipping" in txn.fields else "sale_shipping_in_currency"
            too_large.add(txn.field_rows[field_name], field_name, f"Exceeds {MAX_AMOUNT:,} {currency}.")
        if sale is None:
            new_sales.append(sale_row({**new_sale, "id": sale_pk, "external_id": sale_id, **values}))
            changes.append(("sale.created", sale_pk, ""))
            counts.transactions_created += 1
        elif lines_changed or any(getattr(sale, name) != value for name, value in values.items()):
            if values.get("status", sale.status) != sale.status:
                previous[sale.pk] = sale.status
            for name, value in values.items():
                setattr(sale, name, value)
            changed_sales.append(sale)
            counts.transactions_updated += 1
        else:
            counts.transactions_unchanged += 1
        new_lines += map(line_row, created)
        changed_lines += updated
        deleted_lines += deleted
    if too_large:
        raise UploadInvalid(too_large)  # Raised inside the upload's transaction: nothing stays written.
    counts.lines_created, counts.lines_updated, counts.lines_deleted = (
        len(new_lines),
        len(changed_lines),
        len(deleted_lines),
    )

    # Lines first, their new sales after (the foreign keys are checked at commit): the rollups'
    # line trigger then meets no new sale to lock and count under, and the sale trigger counts
    # each new sale's lines at once, by the sale's key.
    for start in range(0, len(deleted_lines), BATCH_SIZE * 10):
        SaleLine.objects.filter(pk__in=[line.pk for line in deleted_lines[start : start + BATCH_SIZE * 10]]).delete()
    rows_insert(SaleLine, list(new_line), new_lines)
    _update(SaleLine, changed_lines, LINE_UPDATE_FIELDS)
    rows_insert(Sale, list(new_sale), new_sales)
    _update(Sale, changed_sales, SALE_UPDATE_FIELDS)
    # `sale.created` for each new sale, `sale.updated` (with the previous status when it moved) for each
    # changed one, with their lines as they now are, read from what was just written.
    changes += [("sale.updated", sale.pk, previous.get(sale.pk, "")) for sale in changed_sales]
    sale_events_record_stored(project_id=project.pk, changes=changes, user=user, api_key=api_key)
    sales_written(channel=Sale.Channel.CUSTOBAR, count=counts.transactions_created)
    return Upload.objects.create(
        project=project,
        user=user,
        api_key=api_key,
        created_at=now,
        rows=row_count,
        products_created=products_created,
        **{name: getattr(counts, name) for name in _Counts.__slots__},
    )


def _defaults(model) -> dict:
    """The column values a new row of `model` starts with (its auto primary key left to the database)."""
    return {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if not isinstance(field, models.AutoField)
    }


def _update(model, objs: list, names: list[str]) -> None:
    """Write the fields `names` of `objs` (instances already changed), whatever their number: on
    PostgreSQL one binary COPY into a temporary staging table and one `UPDATE ... FROM` it (the
    table is dropped at once, so uploads in one transaction don't meet), else batched `bulk_update`."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, names, batch_size=BATCH_SIZE)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in names)]
    staging_name = f"{meta.db_table}_staging"
    table, staging = sql.Identifier(meta.db_table), sql.Identifier(staging_name)
    changed = sql.SQL(", ").join(sql.Identifier(field.column) for field in columns)
    with connection.cursor() as cursor:

        def execute(statement):
            cursor.execute(statement.as_string(cursor.cursor))

        execute(sql.SQL("CREATE TEMPORARY TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(staging, changed, table))
        copy_rows(cursor, staging_name, columns, ([getattr(obj, f.attname) for f in columns] for obj in objs))
        execute(
            sql.SQL("UPDATE {} AS target SET {} FROM {} AS source WHERE target.{} = source.{}").format(
                table,
                sql.SQL(", ").join(
                    sql.SQL("{} = source.{}").format(sql.Identifier(f.column), sql.Identifier(f.column))
                    for f in columns[1:]
                ),
                staging,
                sql.Identifier(meta.pk.column),
                sql.Identifier(meta.pk.column),
            )
        )
        execute(sql.SQL("DROP TABLE {}").format(staging))


def _customers(project, transactions) -> dict[str, Any]:
    """The customer id of each transaction that identifies one, by sale external id (one batched call)."""
    identities = {}
    for sale_id, txn in transactions.items():
        identity = {key: txn.fields[name] for name, key in CUSTOMER_FIELDS.items() if name in txn.fields}
        if identity:
            identities[sale_id] = identity
    if not identities:
        return {}
    found = customer_ids_get_or_create(project=project, identities=list(identities.values()))
    return {sale_id: found[customer_identity(identity)] for sale_id, identity in identities.items()}


def _conversion(txn: Transaction, sale: Sale | None) -> tuple[str | None, Decimal | None]:
    """The transaction's sale currency and exchange rate: sent now, or known from an earlier upload."""
    known = sale.extra if sale is not None else {}
    rate = txn.fields.get("sale_exchange_rate")
    if rate is None and known.get("sale_exchange_rate") is not None:
        rate = Decimal(known["sale_exchange_rate"])
    return txn.fields.get("sale_currency", known.get("sale_currency")), rate


def _amounts(row: Row, *, currency, minor_unit, sale_currency, rate) -> tuple[Decimal, Decimal, Decimal]:
    """(unit price, discount, row total) in the project's currency, defaults as the document says.

    `minor_unit` is `from_minor(1, currency)`: whole minor units times it are exact amounts, and only
    the computed total needs rounding.
    """
    if row.unit_price is not None:
        unit_price = row.unit_price * minor_unit
    elif row.unit_price_in_currency is not None:
        unit_price = convert(from_minor(row.unit_price_in_currency, sale_currency), rate=rate, to_currency=currency)
    elif row.total is not None and row.quantity:
        unit_price = quantize(row.total * minor_unit / row.quantity, currency)
    else:
        unit_price = Decimal(0)  # Priced by the transaction's sale_total only, as the document allows.
    discount = row.discount * minor_unit
    if row.total is not None:
        total = row.total * minor_unit
    elif abs(unit_price) >= MAX_AMOUNT:
        total = unit_price  # refused by the caller as too large; no need to multiply it out
    else:
        total = quantize(unit_price * row.quantity - discount, currency)
    return unit_price, discount, total


def _lines_by_sale(sales) -> dict:
    sale_ids = [sale.pk for sale in sales]
    lines = defaultdict(list)
    if sale_ids:
        for line in SaleLine.objects.filter(sale_id__in=sale_ids).order_by("sale_id", "position", "id"):
            lines[line.sale_id].append(line)
    return lines


def _line_values(product, row: Row, unit_price, discount, total) -> dict:
    return {
        "product_id": product.pk,
        "product_name": product.name,
        "quantity": row.quantity,
        "unit_price": unit_price,
        "discount": discount,
        "line_total": total,
        "tags": row.tags,
    }


def _differs(line: SaleLine, values: dict) -> bool:
    return any(getattr(line, name) != value for name, value in values.items())


def _merge_lines(old_lines: list[SaleLine], desired: list, new: dict) -> tuple[Decimal, list[dict], list, list]:
    """The sale's subtotal after the upload, the lines to create (`new` columns updated), to update and to delete.

    A row with an external id updates the line with that id (or adds it); the rows without one
    replace the lines without one, unless they are the same as before (a replayed upload).
    """
    by_id = {line.external_id: line for line in old_lines if line.external_id is not None}
    old_plain = [line for line in old_lines if line.external_id is None]
    plain = [_line_values(product, row, *amounts) for row, product, *amounts in desired if row.external_id is None]
    position = max((line.position for line in old_lines), default=-1) + 1
    created, updated = [], []
    totals = {}
    for row, product, *amounts in desired:
        if row.external_id is None:
            continue
        values = _line_values(product, row, *amounts)
        line = by_id.get(row.external_id)
        if line is None:
            created.append({**new, **values, "external_id": row.external_id, "position": position})
            position += 1
        elif _differs(line, values):
            for name, value in values.items():
                setattr(line, name, value)
            updated.append(line)
        totals[row.external_id] = values["line_total"]
    subtotal = sum((line.line_total for key, line in by_id.items() if key not in totals), Decimal(0))
    subtotal += sum(totals.values(), Decimal(0))
    deleted = []
    if plain and (len(plain) != len(old_plain) or any(map(_differs, old_plain, plain))):
        deleted = old_plain
        for values in plain:
            created.append({**new, **values, "position": position})
            position += 1
        subtotal += sum((values["line_total"] for values in plain), Decimal(0))
    else:
        subtotal += sum((line.line_total for line in old_plain), Decimal(0))
    return subtotal, created, updated, deleted


def _sale_values(txn, sale, *, currency, customers, subtotal, lines_changed, now) -> dict:
    """The sale's columns after the upload: what this upload sends, else what the ledger has."""
    fields = txn.fields
    known = dict(sale.extra) if sale is not None else {}
    known_customer = sale.customer_id if sale is not None else None
    extra = {**known, **{name: _json(fields[name]) for name in EXTRA_FIELDS if name in fields}}
    extra.update((name, value) for name, value in fields.items() if COMPANY_FIELD.match(name))
    if "sale_total" not in fields and lines_changed:
        # A sale_total sent earlier described the earlier rows: the total follows the rows again.
        extra.pop("sale_total", None)
    sale_currency = extra.get("sale_currency")
    discount = _column(fields, "sale_discount", sale, "discount", currency)
    if "sale_shipping" in fields or "sale_shipping_in_currency" not in fields:
        shipping = _column(fields, "sale_shipping", sale, "shipping", currency)
    else:
        shipping = convert(
            from_minor(fields["sale_shipping_in_currency"], sale_currency),
            rate=Decimal(extra["sale_exchange_rate"]),
            to_currency=currency,
        )
    declared = extra.get("sale_total")
    total = from_minor(declared, currency) if declared is not None else quantize(subtotal - discount, currency)
    state = fields.get("sale_state", sale.original_state if sale is not None else "")
    status = STATE_STATUS[state or DEFAULT_STATE] if "sale_state" in fields or sale is None else sale.status
    values = {
        "status": status,
        "original_state": state,
        "subtotal": subtotal,
        "discount": discount,
        "shipping": shipping,
        "total": total,
        "customer_id": customers.get(txn.external_id, known_customer),
        "extra": extra,
        "created_at": fields.get("sale_date", sale.created_at if sale is not None else None),
        "confirmed_at": sale.confirmed_at if sale is not None else None,
        "cancelled_at": sale.cancelled_at if sale is not None else None,
    }
    if sale is None or status != sale.status:  # created in its status, or moved as the ledger allows (`_check`)
        values.update(sale_status_columns(status, now=now))
    return values


def _column(fields, name, sale, column, currency) -> Decimal:
    if name in fields:
        return from_minor(fields[name], currency)
    return getattr(sale, column) if sale is not None else Decimal(0)


def _json(value):
    return str(value) if isinstance(value, Decimal) else value
