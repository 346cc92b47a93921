"""Every write of the catalogue: products and their variants, created with their stock counters and
their initial stock movement (the stock ledger itself lives in `inventory.services.stock`)."""

import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.utils import timezone

from inventory.models import MAX_UNITS, Product, Stock, StockMovement, Variant
from inventory.services.stock import InvalidQuantity
from salesledger.errors import Conflict, ServiceError

Reason = StockMovement.Reason


class DuplicateProduct(Conflict):
    """Another product of the project already has this sku, ean or external id (`field`)."""

    code = "duplicate"


class VariantNotAllowed(Conflict):
    code = "product_has_stock"


PRODUCT_FIELDS = ("name", "sku", "ean", "external_id", "price", "cost", "image_url", "active")
VARIANT_FIELDS = ("name", "sku", "price")
UNIQUE_FIELDS = ("sku", "ean", "external_id")
# Rows per INSERT of a bulk create (SQLite allows 999 parameters a statement).
BATCH_SIZE = 1000


def product_create(
    *,
    project,
    name: str,
    price: Decimal,
    sku: str | None = None,
    ean: str | None = None,
    external_id: str | None = None,
    cost: Decimal | None = None,
    image_url: str = "",
    active: bool = True,
    stock_on_hand: int = 0,
    variants: Iterable[dict] = (),
    id: uuid.UUID | None = None,  # the admin saves the id its form already shows
    actor_user=None,
    actor_key=None,
) -> Product:
    """Create a product with its stock: `stock_on_hand` for a product without variants, or each
    variant's own `stock_on_hand` (dicts of name, sku, price, stock_on_hand). Initial stock is
    recorded as `initial` movements.

    Raises DuplicateProduct (sku, ean or external id taken in the project), InvalidQuantity
    (negative stock, or product stock given together with variants).
    """
    variants = [dict(variant) for variant in variants]
    _check_initial_stock(stock_on_hand, "stock_on_hand")
    for index, variant in enumerate(variants):
        _check_initial_stock(variant.get("stock_on_hand", 0), f"variants.{index}.stock_on_hand")
    product_check_stock_placement(stock_on_hand=stock_on_hand, has_variants=bool(variants))
    fields = {"sku": sku, "ean": ean, "external_id": external_id}
    product_check_unique(project=project, fields=fields)
    product = Product(
        id=id or uuid.uuid4(),
        project=project,
        name=name,
        price=price,
        cost=cost,
        image_url=image_url or "",
        active=active,
        **{field: value or None for field, value in fields.items()},
    )
    with transaction.atomic():
        _insert(product, field="sku")
        Stock.objects.create(product=product, on_hand=stock_on_hand)
        initial = []
        if stock_on_hand:
            initial.append((product, None, stock_on_hand))
        for data in variants:
            variant, quantity = _variant_insert(product=product, data=data)
            if quantity:
                initial.append((product, variant, quantity))
        _record_initial(initial, actor_user=actor_user, actor_key=actor_key)
    return product


def products_create_many(*, project, products: list[dict]) -> list[Product]:
    """Create many products at once, each with its stock row: one insert of the products and one of
    their stock rows, whatever their number (an upload's unknown products). Each dict holds the
    `PRODUCT_FIELDS` to set and optionally `stock_on_hand`; initial stock is recorded as `initial`
    movements, only for the products that have some. Returns the products, in order.

    Raises InvalidQuantity (a bad `stock_on_hand`), IntegrityError when another product of the
    project already has one of their sku, ean or external id (callers check first: this is a
    concurrent insert; the caller's transaction is then broken, so nothing stays written).
    """
    created, quantities = [], []
    for index, data in enumerate(products):
        data = dict(data)
        quantity = data.pop("stock_on_hand", 0)
        _check_initial_stock(quantity, f"products.{index}.stock_on_hand")
        unknown = set(data) - set(PRODUCT_FIELDS)
        if unknown:
            raise ServiceError(f"{', '.join(sorted(unknown))}: not a product field.")
        created.append(Product(project=project, **{**data, **{f: data.get(f) or None for f in UNIQUE_FIELDS}}))
        quantities.append(quantity)
    # No savepoint: on an IntegrityError the caller's transaction is broken anyway (see above).
    with transaction.atomic(savepoint=False):
        Product.objects.bulk_create(created, batch_size=BATCH_SIZE)
        Stock.objects.bulk_create(
            [Stock(product=product, on_hand=quantity) for product, quantity in zip(created, quantities, strict=True)],
            batch_size=BATCH_SIZE,
        )
        _record_initial(
            [(product, None, quantity) for product, quantity in zip(created, quantities, strict=True) if quantity],
            actor_user=None,
            actor_key=None,
        )
    return created


def product_update(*, product: Product, actor_user=None, actor_key=None, **fields) -> Product:
    """Change a product's catalogue fields (name, sku, ean, external_id, price, cost, image_url,
    active). Stock never changes here: use `stock_adjust`.

    Raises DuplicateProduct, ServiceError for an unknown field.
    """
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise ServiceError(f"{', '.join(sorted(unknown))}: can't be changed here; stock changes through stock_adjust.")
    for field in UNIQUE_FIELDS:
        if field in fields:
            fields[field] = fields[field] or None
    if "image_url" in fields:
        fields["image_url"] = fields["image_url"] or ""
    product_check_unique(
        project=product.project, fields={f: fields[f] for f in UNIQUE_FIELDS if f in fields}, exclude=product.pk
    )
    for field, value in fields.items():
        setattr(product, field, value)
    with transaction.atomic():
        try:
            with transaction.atomic():
                product.save(update_fields=[*fields, "updated_at"])
        except IntegrityError as error:
            raise _duplicate_from(error) from error
    return product


def product_delete(*, product: Product) -> str:
    """Delete a product, or deactivate it when it served a sale (its history must stay).

    Returns "deleted" or "deactivated".
    """
    with transaction.atomic():
        if not product.movements.filter(sale_id__isnull=False).exists():
            try:
                with transaction.atomic():
                    product.delete()
                return "deleted"
            except (ProtectedError, RestrictedError):
                pass  # Another app's rows (sale lines) point at it: keep it, inactive.
        Product.objects.filter(pk=product.pk).update(active=False, updated_at=timezone.now())
        product.active = False
        return "deactivated"


def variant_create(
    *,
    product: Product,
    name: str,
    sku: str | None = None,
    price: Decimal | None = None,
    stock_on_hand: int = 0,
    id: uuid.UUID | None = None,
    actor_user=None,
    actor_key=None,
) -> Variant:
    """Add a variant with its own initial stock.

    Raises VariantNotAllowed while the product itself holds stock (its stock would be stranded),
    InvalidQuantity, DuplicateProduct (sku taken by another variant of the product).
    """
    _check_initial_stock(stock_on_hand, "stock_on_hand")
    with transaction.atomic():
        own = Stock.objects.select_for_update().filter(product=product, variant__isnull=True).first()
        variant_check_allowed(product=product, own_stock=own)
        variant, quantity = _variant_insert(
            product=product, data={"id": id, "name": name, "sku": sku, "price": price, "stock_on_hand": stock_on_hand}
        )
        if quantity:
            _record_initial([(product, variant, quantity)], actor_user=actor_user, actor_key=actor_key)
    return variant


def variant_update(*, variant: Variant, **fields) -> Variant:
    """Change a variant's name, sku or price override. Raises DuplicateProduct, ServiceError."""
    unknown = set(fields) - set(VARIANT_FIELDS)
    if unknown:
        raise ServiceError(f"{', '.join(sorted(unknown))}: can't be changed here.")
    if "sku" in fields:
        fields["sku"] = fields["sku"] or None
    for field, value in fields.items():
        setattr(variant, field, value)
    with transaction.atomic():
        _insert(variant, field="sku", update_fields=list(fields))
    return variant


def variant_delete(*, variant: Variant) -> None:
    """Delete a variant that has no stock history. Raises Conflict when it has movements."""
    with transaction.atomic():
        if variant.movements.exists():
            raise Conflict(f"{variant}: has stock movements and can't be deleted.")
        variant.delete()


def product_check_stock_placement(*, stock_on_hand: int, has_variants: bool) -> None:
    """Stock lives on the product or on its variants, never both. Raises InvalidQuantity."""
    if has_variants and stock_on_hand:
        raise InvalidQuantity("a product with variants keeps its stock per variant.", field="stock_on_hand")


def variant_check_allowed(*, product: Product, own_stock: Stock | None) -> None:
    """A variant can be added only while the product holds no stock itself (it would be stranded).
    Raises VariantNotAllowed."""
    if own_stock is not None and (own_stock.on_hand or own_stock.reserved):
        raise VariantNotAllowed(
            f"{product.name} holds {own_stock.on_hand} units itself: adjust them to 0 before adding variants."
        )


def _check_initial_stock(value, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UNITS:
        raise InvalidQuantity(f"must be a whole number of units from 0 to {MAX_UNITS}.", field=field)


def product_check_unique(*, project, fields: dict, exclude=None) -> None:
    """Raise DuplicateProduct when another product of `project` has one of these sku/ean/external_id values."""
    wanted = {field: value for field, value in fields.items() if value}
    if not wanted:
        return
    condition = Q()
    for field, value in wanted.items():
        condition |= Q(**{field: value})
    taken = Product.objects.filter(project=project).filter(condition)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    for row in taken.values(*wanted):
        for field, value in wanted.items():
            if row[field] == value:
                raise DuplicateProduct(f"another product of this project has {field} '{value}'.", field=field)


def _insert(obj, *, field: str, update_fields=None) -> None:
    """Save `obj`, turning a lost race on a unique field into DuplicateProduct."""
    try:
        with transaction.atomic():
            if update_fields:
                obj.save(update_fields=update_fields)
            else:
                obj.save(force_insert=True)
    except IntegrityError as error:
        raise _duplicate_from(error, default=field) from error


def _duplicate_from(error: IntegrityError, default: str = "sku") -> DuplicateProduct:
    text = str(error)
    field = next((name for name in ("external_id", "ean", "sku") if name in text), default)
    return DuplicateProduct("already taken in this project.", field=field)


def _variant_insert(*, product: Product, data: dict) -> tuple[Variant, int]:
    variant = Variant(
        id=data.get("id") or uuid.uuid4(),
        product=product,
        name=data["name"],
        sku=data.get("sku") or None,
        price=data.get("price"),
    )
    _insert(variant, field="sku")
    quantity = data.get("stock_on_hand", 0) or 0
    Stock.objects.create(product=product, variant=variant, on_hand=quantity)
    return variant, quantity


def _record_initial(rows, *, actor_user, actor_key) -> None:
    now = timezone.now()
    StockMovement.objects.bulk_create(
        StockMovement(
            product=product,
            variant=variant,
            delta_on_hand=quantity,
            reason=Reason.INITIAL,
            actor_user=actor_user,
            actor_key=actor_key,
            created_at=now,
        )
        for product, variant, quantity in rows
    )
