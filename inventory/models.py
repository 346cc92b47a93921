"""Products, their variants, stock counters and the stock ledger (one movement per change)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apikeys.models import APIKey, Project


class Product(models.Model):
    """Something a project sells. Its currency is the project's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=100, null=True, blank=True)
    ean = models.CharField(max_length=14, null=True, blank=True)
    external_id = models.CharField(max_length=200, null=True, blank=True)
    price = models.DecimalField(max_digits=20, decimal_places=4)
    cost = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    image_url = models.URLField(max_length=1000, blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "sku"], condition=Q(sku__isnull=False), name="product_sku_unique_per_project"
            ),
            models.UniqueConstraint(
                fields=["project", "ean"], condition=Q(ean__isnull=False), name="product_ean_unique_per_project"
            ),
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=Q(external_id__isnull=False),
                name="product_external_id_unique_per_project",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(cost__isnull=True) | Q(cost__gte=0), name="product_cost_not_negative"),
        ]
        indexes = [models.Index(fields=["project", "name"]), models.Index(fields=["project", "active"])]

    def __str__(self):
        return self.name


class Variant(models.Model):
    """A kind of a product (size, colour); a product with variants keeps its stock per variant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=100, null=True, blank=True)
    price = models.DecimalField(
        max_digits=20, decimal_places=4, null=True, blank=True, help_text="Overrides the product's price when set."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "sku"], condition=Q(sku__isnull=False), name="variant_sku_unique_per_product"
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0), name="variant_price_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.product.name} / {self.name}"


# The counters are 32-bit integers: every quantity is checked against this before it reaches them.
MAX_UNITS = 2_147_483_647
# Available stock at or below this is low: the admin's filter, and the `stock.low` event when a change crosses it.
LOW_STOCK = 5


class Stock(models.Model):
    """The counters of one stock-keeping unit: a product without variants, or one variant.

    Written only by `inventory.services`, always in the same transaction as the movements
    that explain the change; the database refuses any write that would go negative.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stocks")
    variant = models.OneToOneField(Variant, on_delete=models.CASCADE, null=True, blank=True, related_name="stock")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product"], condition=Q(variant__isnull=True), name="stock_one_per_product"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]
        indexes = [
            # The dashboard's low stock (`available <= threshold`): a range of this index, not a scan of every row.
            models.Index(F("on_hand") - F("reserved"), name="stock_available"),
        ]

    def __str__(self):
        return f"{self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """One change of stock, never edited or deleted: the counters are the sum of these."""

    class Reason(models.TextChoices):
        INITIAL = "initial"
        RESERVE = "reserve"
        RELEASE = "release"
        COMMIT = "commit", "commit (reservation becomes a deduction)"
        DEDUCT = "deduct"
        RESTORE = "restore"
        ADJUSTMENT = "adjustment"

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="movements")
    # RESTRICT: a variant with history can't be deleted on its own, only along with its product.
    variant = models.ForeignKey(Variant, on_delete=models.RESTRICT, null=True, blank=True, related_name="movements")
    delta_on_hand = models.IntegerField(default=0)
    delta_reserved = models.IntegerField(default=0)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # A plain UUID, not a foreign key: inventory knows no sale model.
    sale_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_key = models.ForeignKey(APIKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-created_at"]),
            models.Index(fields=["reason", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.reason} {self.delta_on_hand:+d} on hand, {self.delta_reserved:+d} reserved"
