"""Webhook endpoints of a project, one delivery per (event, endpoint), and each attempt at it."""

import uuid

from django.db import models
from django.utils import timezone

ENDPOINT_ID_PREFIX = "we_"
DELIVERY_ID_PREFIX = "msg_"
RESPONSE_BODY_LIMIT = 2048
# The test event: sent to one endpoint on request, never to those subscribed to "*".
PING = "ping"


class WebhookEndpoint(models.Model):
    """Where a project's events are posted. `secret` signs them (Standard Webhooks); shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("apikeys.Project", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list, help_text='Types to send: "*", "sale.*" or exact types.')
    description = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Start of the current run of failed attempts."
    )
    disabled_reason = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "enabled"], name="webhook_endpoint_project_idx")]

    def __str__(self):
        return self.url

    @property
    def public_id(self) -> str:
        return f"{ENDPOINT_ID_PREFIX}{self.id.hex}"

    def wants(self, event_type: str) -> bool:
        if event_type == PING:
            return False
        family = event_type.split(".", 1)[0] + ".*"
        return any(wanted in ("*", event_type, family) for wanted in self.event_types)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the unit of retry, and the state that survives any queue.

    A pending delivery is due at `next_attempt_at`. A worker holds it while `claimed_until` is in
    the future; `enqueued_at` is when the task last queued for its next attempt is due to run, so the
    sweep only re-enqueues what no queued task or worker is taking care of.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=models.Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
                | (~models.Q(status=DeliveryStatus.PENDING) & models.Q(next_attempt_at__isnull=True)),
                name="webhook_delivery_pending_has_next_attempt",
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status=DeliveryStatus.PENDING),
                name="webhook_delivery_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.event.type} -> {self.endpoint.url}"

    @property
    def public_id(self) -> str:
        return f"{DELIVERY_ID_PREFIX}{self.id.hex}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: when, the answer (status, first 2 KB of the body), how long, or the error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    response_body = models.TextField(blank=True)

    class Meta:
        ordering = ["-attempted_at"]
        indexes = [models.Index(fields=["delivery", "-attempted_at"], name="webhook_attempt_delivery_idx")]

    def __str__(self):
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
