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


class ImportJob(models.Model):
    """A file of sale rows imported in the background (`POST /api/v1/imports/`), batch by batch.

    Each batch commits together with the job's counters, so `rows_done` is always exactly what the
    ledger holds of the file, and `resume_from` where a stopped job goes on. The database lets one
    job of a project run at a time; the others wait `queued`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Format(models.TextChoices):
        JSON = "json"
        JSONL = "jsonl"
        CSV = "csv"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("apikeys.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey("apikeys.APIKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    file_name = models.CharField(max_length=255, help_text="The uploaded file's name, as sent.")
    file_format = models.CharField(max_length=5, choices=Format.choices)
    file_size = models.BigIntegerField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="Counted when the job starts.")
    rows_done = models.PositiveIntegerField(default=0, help_text="Rows of the file imported (from its start).")
    transactions_created = models.PositiveIntegerField(default=0)
    transactions_updated = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    errors = models.JSONField(default=list, help_text="The first 1,000 problems: row, field, message.")
    error_count = models.PositiveIntegerField(default=0)
    resume_from = models.PositiveIntegerField(null=True, blank=True, help_text="A stopped job's next row.")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="sales_importjob_project")]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(status="running"), name="importjob_one_running_per_project"
            ),
            models.CheckConstraint(
                condition=models.Q(rows_total__isnull=True) | models.Q(rows_done__lte=models.F("rows_total")),
                name="importjob_done_within_total",
            ),
        ]

    def __str__(self):
        return f"Import {self.file_name} ({self.status})"
