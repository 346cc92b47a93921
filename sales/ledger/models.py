"""The sales ledger: sales and their lines."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apikeys.models import validate_currency

MONEY = {"max_digits": 20, "decimal_places": 4}


class SaleChannel(models.TextChoices):
    """The door a sale came in by: a dialect, the native API or the admin."""

    COSTTRACK = "costtrack"
    SELLS = "sells"
    CUSTOBAR = "custobar"
    CONNECTEAM = "connecteam"
    ADMIN = "admin"
    NATIVE = "native"


class SaleStatus(models.TextChoices):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Sale(models.Model):
    """One sale in one currency, whichever dialect brought it in. Amounts are totals of the whole sale."""

    Channel = SaleChannel
    Status = SaleStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the four indexes of Meta begin with the project, and serve its lookups.
    project = models.ForeignKey("apikeys.Project", on_delete=models.CASCADE, related_name="sales", db_index=False)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    subtotal = models.DecimalField(**MONEY, default=0)
    discount = models.DecimalField(**MONEY, default=0)
    shipping = models.DecimalField(**MONEY, default=0)
    tax = models.DecimalField(**MONEY, default=0)
    # May be negative: a connecteam REFUND is a sale with a negative amount.
    total = models.DecimalField(**MONEY, default=0)
    category = models.CharField(max_length=200, blank=True)
    customer = models.ForeignKey(
        "tracking.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="sales"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="sales",
        help_text="The acting user: the API key's user, or the staff member who entered the sale.",
    )  # fmt: skip
    api_key = models.ForeignKey(
        "apikeys.APIKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="sales"
    )
    external_id = models.CharField(
        max_length=200, null=True, blank=True, help_text="The sender's id of the sale, unique per channel."
    )
    original_state = models.CharField(max_length=50, blank=True, help_text="The state as the sender named it.")
    # Indexed only where set (Meta): most sales have no location, and a NULL entry is written for nothing.
    location = models.ForeignKey(
        "sales.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="sales", db_index=False
    )
    sale_type = models.CharField(max_length=30, blank=True, help_text="connecteam's SALE, REFUND, VOID, ...")
    stock_applied = models.BooleanField(
        default=False,
        help_text="Whether the lines' stock went through inventory: reserved while pending, deducted once confirmed.",
    )
    extra = models.JSONField(default=dict, blank=True)
    # Settable: POS and upload dialects carry the time the sale happened. Indexed alone for the admin's
    # list of every project's sales; the ledger's reads by time are per project (the indexes of Meta).
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # GET /sells: one user's sales in a project, newest first.
            models.Index(fields=["project", "user", "-created_at", "-id"], name="sales_sale_user_created"),
            models.Index(fields=["project", "status"], name="sales_sale_status"),
            models.Index(fields=["project", "-created_at", "-id"], name="sales_sale_created"),
            # GET /sells totals: a user's sales in currencies other than the project's (to convert them).
            models.Index(fields=["project", "user", "currency"], name="sales_sale_user_currency"),
            # PROTECT: deleting a location looks its sales up.
            models.Index(fields=["location"], condition=models.Q(location__isnull=False), name="sales_sale_location"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "channel", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="sale_external_id_unique_per_channel",
            ),
            models.CheckConstraint(condition=models.Q(channel__in=SaleChannel.values), name="sale_channel_valid"),
            models.CheckConstraint(condition=models.Q(status__in=SaleStatus.values), name="sale_status_valid"),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="sale_currency_iso"),
            # The timestamps tell the status's story: confirmed has confirmed_at, cancelled has cancelled_at.
            models.CheckConstraint(
                condition=(
                    models.Q(status="pending", confirmed_at__isnull=True, cancelled_at__isnull=True)
                    | models.Q(status="confirmed", confirmed_at__isnull=False, cancelled_at__isnull=True)
                    | models.Q(status="cancelled", cancelled_at__isnull=False)
                ),
                name="sale_status_timestamps",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} sale {self.id} ({self.status})"


class SaleLine(models.Model):
    """One line of a sale, with the product's name and image as they were when it was sold."""

    # No index of its own: sale_line_position_unique (sale, position) serves its lookups.
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="lines", db_index=False)
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="sale_lines"
    )
    # Indexed only where set (Meta), as a sale's location.
    variant = models.ForeignKey(
        "inventory.Variant", on_delete=models.PROTECT, null=True, blank=True, related_name="sale_lines", db_index=False
    )
    product_name = models.CharField(max_length=300, blank=True)
    product_image = models.URLField(max_length=1000, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(**MONEY)
    discount = models.DecimalField(**MONEY, default=0)
    line_total = models.DecimalField(**MONEY)
    external_id = models.CharField(max_length=200, null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sale", "position", "id"]
        # PROTECT: deleting a variant looks its lines up.
        indexes = [
            models.Index(fields=["variant"], condition=models.Q(variant__isnull=False), name="sales_saleline_variant")
        ]
        constraints = [
            models.UniqueConstraint(fields=["sale", "position"], name="sale_line_position_unique"),
            models.CheckConstraint(
                condition=models.Q(variant__isnull=True) | models.Q(product__isnull=False),
                name="sale_line_variant_needs_product",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"
