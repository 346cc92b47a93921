"""Conversion tracking: customers, their lead and sale events (attribution, not bookkeeping), exchange rates."""

import secrets
import string
import uuid

from django.db import models
from django.utils import timezone

from apikeys.models import Project
from salesledger.money import RATE_MAX, RATE_MIN, RATE_RANGE_MESSAGE

_PUBLIC_ID_ALPHABET = string.ascii_letters + string.digits


def new_customer_public_id() -> str:
    """`cus_` and 24 random alphanumerics: the id the track dialect shows for a customer.

    Drawn from one read of random bytes rather than one per character (a bulk import creates
    thousands): each byte below 248, a multiple of 62, picks a character without bias.
    """
    characters: list[str] = []
    while len(characters) < 24:
        characters += [_PUBLIC_ID_ALPHABET[byte % 62] for byte in secrets.token_bytes(32) if byte < 248]
    return "cus_" + "".join(characters[:24])


class Customer(models.Model):
    """Someone who converted, known by the id the integration gives it (`external_id`), a phone or an email."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    public_id = models.CharField(max_length=28, unique=True, default=new_customer_public_id, editable=False)
    # No index of its own: customer_external_id_unique and the indexes of Meta begin with the project.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="customers", db_index=False)
    # NULL for customers known only by phone or email; NULLs never collide in the unique constraint.
    external_id = models.CharField(max_length=100, null=True, blank=True)
    name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    avatar = models.CharField(max_length=2048, blank=True, help_text="URL of the customer's picture.")
    click_id = models.CharField(max_length=255, blank=True, help_text="The click the customer is attributed to.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="customer_external_id_unique"),
            models.CheckConstraint(
                condition=~models.Q(external_id=""),
                name="customer_external_id_not_blank",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "email"], name="customer_project_email"),
            models.Index(fields=["project", "phone"], name="customer_project_phone"),
            models.Index(fields=["project", "-created_at"], name="customer_project_created"),
        ]

    def __str__(self):
        return f"{self.name} ({self.external_id or self.public_id})"


class LeadEvent(models.Model):
    """A customer did something worth attributing (signed up, started a trial) after a click."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="lead_events")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="lead_events")
    event_name = models.CharField(max_length=255)
    click_id = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(event_name=""), name="lead_event_name_not_blank"),
        ]
        indexes = [
            # The duplicate window and `leadEventName` linking both look up a customer's latest lead by name.
            models.Index(fields=["customer", "event_name", "-created_at"], name="lead_customer_name_created"),
            models.Index(fields=["project", "-created_at"], name="lead_project_created"),
        ]

    def __str__(self):
        return f"{self.event_name} by {self.customer_id}"


class PaymentProcessor(models.TextChoices):
    """The seed's processors, plus `apple`, `dub` and `lemonsqueezy`, which current clients send."""

    STRIPE = "stripe"
    SHOPIFY = "shopify"
    POLAR = "polar"
    PADDLE = "paddle"
    REVENUECAT = "revenuecat"
    CUSTOM = "custom"
    MANUAL = "manual"
    APPLE = "apple"
    DUB = "dub"
    LEMONSQUEEZY = "lemonsqueezy"


class SaleEvent(models.Model):
    """A customer paid: the amount as it was sent, and in USD cents once converted.

    A sale in a currency with no exchange rate yet is recorded with `amount` NULL (conversion pending)
    and converted when a rate for its currency is loaded.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sale_events")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="sale_events")
    lead_event = models.ForeignKey(
        LeadEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="sale_events"
    )
    event_name = models.CharField(max_length=255)
    amount = models.BigIntegerField(
        null=True, blank=True, help_text="USD cents; empty while the conversion is pending."
    )
    original_amount = models.BigIntegerField(help_text="Minor units of the original currency, as sent.")
    original_currency = models.CharField(max_length=3, help_text="ISO 4217, lower case.")
    exchange_rate = models.DecimalField(
        max_digits=20, decimal_places=10, null=True, blank=True,
        help_text="Units of the original currency per 1 USD used for `amount` (1 for USD).",
    )  # fmt: skip
    exchange_rate_date = models.DateField(null=True, blank=True, help_text="The effective date of that rate.")
    payment_processor = models.CharField(max_length=20, choices=PaymentProcessor.choices)
    # The idempotency key of the track dialect: the unique constraint decides which request records the sale.
    invoice_id = models.CharField(max_length=255, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "invoice_id"], name="sale_event_invoice_unique"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="sale_event_amount_non_negative"),
            models.CheckConstraint(
                condition=models.Q(original_amount__gte=0), name="sale_event_original_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(original_currency__regex=r"^[a-z]{3}$"), name="sale_event_currency_iso_lower"
            ),
            models.CheckConstraint(
                condition=models.Q(payment_processor__in=PaymentProcessor.values), name="sale_event_processor_known"
            ),
            models.CheckConstraint(condition=~models.Q(event_name=""), name="sale_event_name_not_blank"),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=False) | models.Q(exchange_rate__isnull=True),
                name="sale_event_pending_has_no_rate",
            ),
        ]
        indexes = [
            # The pending conversions a newly loaded rate settles.
            models.Index(
                fields=["original_currency"], condition=models.Q(amount__isnull=True), name="sale_event_pending"
            ),
            models.Index(fields=["customer", "-created_at"], name="sale_customer_created"),
            # Also the dashboard's conversions per day: with the amount in it, an index-only scan of the period.
            models.Index(fields=["project", "-created_at"], include=["amount"], name="sale_project_created"),
        ]

    def __str__(self):
        if self.conversion_pending:
            return f"{self.event_name}: {self.original_amount} {self.original_currency} (conversion pending)"
        return f"{self.event_name}: {self.amount} USD cents"

    @property
    def conversion_pending(self) -> bool:
        return self.amount is None


class ExchangeRate(models.Model):
    """How many units of `currency` one US dollar buys from `effective_date` on; the latest date applies."""

    currency = models.CharField(max_length=3, help_text="ISO 4217, upper case.")
    rate = models.DecimalField(max_digits=20, decimal_places=10, help_text="Units of the currency per 1 USD.")
    effective_date = models.DateField(default=timezone.localdate)

    class Meta:
        ordering = ["currency", "-effective_date"]
        constraints = [
            # Also the index that finds a currency's latest rate (scanned backwards).
            models.UniqueConstraint(
                fields=["currency", "effective_date"],
                name="exchange_rate_currency_date_unique",
                violation_error_message="There is already a rate for this currency on this date: edit that one.",
            ),
            # The range every rate is accepted in (salesledger.money): converted amounts stay storable.
            models.CheckConstraint(
                condition=models.Q(rate__gte=RATE_MIN, rate__lte=RATE_MAX),
                name="exchange_rate_sane_range",
                violation_error_message=f"The rate {RATE_RANGE_MESSAGE}",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"),
                name="exchange_rate_currency_iso",
                violation_error_message="The currency must be a three-letter ISO 4217 code.",
            ),
        ]

    def __str__(self):
        return f"1 USD = {self.rate} {self.currency} from {self.effective_date}"
