"""The POS side of the ledger: locations (points of sale), and the record each connecteam deletion leaves
behind, so staff can restore it."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apikeys.models import validate_time_zone


class Location(models.Model):
    """A point of sale of a project (a shop, a till). Integer ids: the connecteam dialect requires them."""

    project = models.ForeignKey("apikeys.Project", on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=500, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["project", "name"], name="sales_location_name")]

    def __str__(self):
        return self.name


class TransactionDeletion(models.Model):
    """One DELETE of connecteam transactions: who asked, when, in which request, and the rows it removed.

    The API deletes for real (the transactions leave the API and every report), but `rows` keeps the
    deleted sales as Django's serializer wrote them, so `pos_deletion_restore` can put them back.
    """

    class Kind(models.TextChoices):
        PERIOD = "period", "by time period"
        SINGLE = "single", "one transaction"

    project = models.ForeignKey("apikeys.Project", on_delete=models.CASCADE, related_name="+")
    # PROTECT: a location with restorable transactions is never deleted, only deactivated.
    location = models.ForeignKey("sales.Location", on_delete=models.PROTECT, related_name="deletions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    start_time = models.DateTimeField(null=True, blank=True, help_text="Period deletes: first instant included.")
    end_time = models.DateTimeField(null=True, blank=True, help_text="Period deletes: first instant excluded.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey("apikeys.APIKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    request_id = models.CharField(max_length=128, db_index=True)
    deleted_at = models.DateTimeField(default=timezone.now)
    count = models.PositiveIntegerField()
    rows = models.JSONField(help_text="The deleted sales, as Django's JSON serializer wrote them.")
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-deleted_at", "-id"]
        indexes = [models.Index(fields=["project", "-deleted_at"], name="sales_deletion_project")]
        constraints = [
            models.CheckConstraint(condition=models.Q(count__gte=1), name="deletion_removes_something"),
            models.CheckConstraint(
                condition=models.Q(kind="single", start_time__isnull=True, end_time__isnull=True)
                | models.Q(kind="period", start_time__lt=models.F("end_time")),
                name="deletion_period_is_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(restored_by__isnull=True) | models.Q(restored_at__isnull=False),
                name="deletion_restorer_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.count} transaction(s) of {self.location_id} deleted {self.deleted_at:%Y-%m-%d %H:%M}"
