"""Row uploads (custobar): the record each accepted upload leaves, with what it changed."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Upload(models.Model):
    """One accepted upload of sale rows (an API request, or one batch of `import_sales_rows`).

    A rejected upload writes nothing, so it leaves no record either.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("apikeys.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey("apikeys.APIKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    rows = models.PositiveIntegerField(help_text="Rows received.")
    transactions_created = models.PositiveIntegerField(default=0)
    transactions_updated = models.PositiveIntegerField(default=0)
    transactions_unchanged = models.PositiveIntegerField(default=0)
    lines_created = models.PositiveIntegerField(default=0)
    lines_updated = models.PositiveIntegerField(default=0)
    lines_deleted = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="sales_upload_project")]
        constraints = [models.CheckConstraint(condition=models.Q(rows__gte=1), name="upload_has_rows")]

    def __str__(self):
        return f"Upload {self.id} ({self.rows} rows)"
