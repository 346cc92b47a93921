"""Reads of the inventory app that are more than a filter: products with their stock counters."""

from django.db.models import F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.models import Product, Stock, StockMovement, Variant


def _stock_total(field: str):
    """The sum of one counter over a product's stock rows (itself, or its variants), 0 when none."""
    totals = (
        Stock.objects.filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(totals, output_field=IntegerField()), 0)


def product_list() -> QuerySet[Product]:
    """Products annotated with `on_hand`, `reserved` and `available`, variants (with stock) prefetched.

    A fixed number of queries whatever the number of products: one for the page, one for the variants.
    """
    return (
        Product.objects.select_related("project")
        .annotate(on_hand=_stock_total("on_hand"), reserved=_stock_total("reserved"))
        .annotate(available=F("on_hand") - F("reserved"))
        .prefetch_related(Prefetch("variants", queryset=Variant.objects.select_related("stock").order_by("name", "id")))
    )


def movement_list() -> QuerySet[StockMovement]:
    """The stock ledger, newest first."""
    return StockMovement.objects.order_by("-created_at", "-id")


def stock_of(*, product: Product, variant: Variant | None = None) -> Stock | None:
    """The counters of a product without variants, or of one variant."""
    if variant is not None:
        return Stock.objects.filter(variant=variant).first()
    return Stock.objects.filter(product=product, variant__isnull=True).first()


def stock_mismatches(*, project_slug: str | None = None) -> tuple[list[dict], int]:
    """Every stock row whose counters differ from the sum of its movements, and how many were checked.

    Two aggregate queries whatever the size: the counters, and the ledger's sums per product/variant.
    A ledger entry with no stock row at all counts as a mismatch against zero counters.
    """
    stocks = Stock.objects.values("product_id", "variant_id", "on_hand", "reserved", "product__name", "variant__name")
    ledger = StockMovement.objects.order_by().values("product_id", "variant_id")
    if project_slug is not None:
        stocks = stocks.filter(product__project__slug=project_slug)
        ledger = ledger.filter(product__project__slug=project_slug)
    sums = {
        (row["product_id"], row["variant_id"]): row
        for row in ledger.annotate(ledger_on_hand=Sum("delta_on_hand"), ledger_reserved=Sum("delta_reserved"))
    }
    mismatches, checked = [], 0
    for row in stocks:
        checked += 1
        key = (row["product_id"], row["variant_id"])
        total = sums.pop(key, {"ledger_on_hand": 0, "ledger_reserved": 0})
        if (row["on_hand"], row["reserved"]) != (total["ledger_on_hand"], total["ledger_reserved"]):
            name = row["product__name"] + (f" / {row['variant__name']}" if row["variant_id"] else "")
            mismatches.append({**_mismatch(key, name, row["on_hand"], row["reserved"]), **_ledger(total)})
    for key, total in sums.items():
        if total["ledger_on_hand"] or total["ledger_reserved"]:
            mismatches.append({**_mismatch(key, "(no stock row)", 0, 0), **_ledger(total)})
    return mismatches, checked


def _mismatch(key, name, on_hand, reserved) -> dict:
    return {"product_id": key[0], "variant_id": key[1], "name": name, "on_hand": on_hand, "reserved": reserved}


def _ledger(total) -> dict:
    return {"ledger_on_hand": total["ledger_on_hand"], "ledger_reserved": total["ledger_reserved"]}
