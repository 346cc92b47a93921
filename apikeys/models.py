"""Projects (the tenants) and their API keys."""

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from apikeys.keys import KEY_PREFIX
from salesledger.money import CURRENCY_CODES


def validate_currency(value):
    if value not in CURRENCY_CODES:
        raise ValidationError(f"'{value}' is not an ISO 4217 currency code.")


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone.")


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    rate_limit = models.PositiveIntegerField(
        default=600, help_text="API requests allowed per key per minute; a client may spend them in a burst."
    )
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="owned_projects", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="project_currency_iso"),
            models.CheckConstraint(condition=models.Q(rate_limit__gte=1), name="project_rate_limit_positive"),
        ]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class APIKey(models.Model):
    """A project key. Only the SHA-256 of the full key is stored; the key exists once, at creation."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        GRACE = "grace", "active (grace period)"
        EXPIRED = "expired"
        REVOKED = "revoked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys",
        help_text="The user this key acts for (its creator).",
    )  # fmt: skip
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    replaced_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self):
        return f"{self.name} ({self.display_prefix}…)"

    @property
    def display_prefix(self) -> str:
        return f"{KEY_PREFIX}{self.prefix}"

    def status_at(self, now) -> str:
        if self.revoked_at is not None and self.revoked_at <= now:
            return self.Status.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return self.Status.EXPIRED
        if self.replaced_by_id is not None:
            return self.Status.GRACE
        return self.Status.ACTIVE

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    def is_usable(self, now) -> bool:
        return self.status_at(now) in (self.Status.ACTIVE, self.Status.GRACE)


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` of a project: claimed while its request runs, then the stored answer.

    The unique constraint is what makes two workers racing with one key run the request once:
    the second insert fails and that request answers 409 (in flight) or replays the stored answer.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    claimed_at = models.DateTimeField(help_text="When the running request took the key; renewed on takeover.")
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="idempotency_key_unique_per_project"),
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True) | models.Q(status_code__isnull=False),
                name="idempotency_key_completed_has_status",
            ),
        ]

    def __str__(self):
        return self.key


class RateCounter(models.Model):
    """A fixed-window hit counter (per key, per client address) when no Redis is configured.

    One row per bucket, bumped by one atomic upsert per hit, so every server process counts together.
    """

    bucket = models.CharField(max_length=200, unique=True)
    period = models.BigIntegerField(help_text="Index of the current window: Unix time // window length.")
    hits = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.bucket}: {self.hits}"


class RequestLog(models.Model):
    """One API request as its client saw it: never the key, never the request body."""

    created_at = models.DateTimeField(default=timezone.now)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    api_key = models.ForeignKey(APIKey, on_delete=models.CASCADE, null=True, blank=True, related_name="requests")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField()
    request_id = models.CharField(max_length=128)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="For 4xx/5xx: the error the client was sent.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["api_key", "-created_at"]),
            models.Index(fields=["project", "-created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self):
        return f"{self.method} {self.path} {self.status_code}"
