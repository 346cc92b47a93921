"""The ledger's events: its history and the outbox that webhook deliveries read."""

import uuid

from django.db import models
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

EVENT_ID_PREFIX = "evt_"


class Actor(models.TextChoices):
    USER = "user"
    API_KEY = "api_key", "API key"
    SYSTEM = "system"


class Event(models.Model):
    """One change that committed: written in the transaction of the change, by the service making it.

    `data` is the changed object in the native API's shape at that moment; `object_id` names it, so a
    sale's timeline is one indexed read.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: event_project_created_idx begins with the project.
    project = models.ForeignKey("apikeys.Project", on_delete=models.CASCADE, related_name="+", db_index=False)
    type = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    actor_type = models.CharField(max_length=10, choices=Actor.choices, default=Actor.SYSTEM)
    actor = models.CharField(max_length=150, blank=True, help_text="The user name or the API key's prefix.")
    request_id = models.CharField(max_length=128, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # DRF's encoder: money (Decimal) is a JSON number, as the native API renders it.
    data = models.JSONField(default=dict, encoder=JSONEncoder)
    previous_status = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["project", "-created", "-id"], name="event_project_created_idx"),
            models.Index(fields=["object_id", "created"], name="event_object_idx"),
            models.Index(fields=["created"], name="event_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(type=""), name="event_type_not_blank"),
        ]

    def __str__(self):
        return f"{self.public_id} {self.type}"

    @property
    def public_id(self) -> str:
        return f"{EVENT_ID_PREFIX}{self.id.hex}"

    @property
    def actor_display(self) -> str:
        return f"{self.get_actor_type_display()} {self.actor}".strip()


# Webhook models live in their sub-package; imported here so Django registers them with this app.
from events.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: E402,F401
