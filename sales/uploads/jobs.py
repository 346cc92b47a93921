"""Import jobs: a file of sale rows stored on disk and imported in the background by the task engine,
one job per project at a time, with its progress committed batch by batch.

A job's worker holds a PostgreSQL advisory lock while the job runs: when the worker dies, the lock goes
with its connection, and `import_jobs_recover` (run before a worker starts) queues the job again from
its last committed batch. Never half a batch: each batch commits with the job's counters.
"""

import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from sales.uploads.imports import FORMATS, BatchInvalid, FileUnreadable, rows_count, sales_import
from sales.uploads.models import ImportJob
from salesledger.errors import ServiceError

logger = logging.getLogger(__name__)
Status = ImportJob.Status
MAX_FILE_SIZE = 1024 * 1024 * 1024
ERRORS_LISTED = 1000
# How long a queued job waits before trying again while another job of its project runs.
RETRY_AFTER = timedelta(seconds=2)
# pg_advisory_lock's first key: the namespace of running import jobs (any constant int4).
_LOCK_NAMESPACE = 0x1A0B


class ImportRefused(ServiceError):
    """The file is refused (nothing stored): `field` names the field at fault, the message says why."""

    code = "invalid_import"


def import_job_create(*, project, file, file_format: str | None = None, skip: int = 0, user=None, api_key=None):
    """Store `file` (an uploaded file, already streamed to disk by Django past 2.5 MB) and queue its import.

    The format is `file_format` (json, jsonl, csv), else the file name's extension. `skip` resumes a
    stopped import after its first `skip` rows. Raises ImportRefused (unknown format, empty or over
    1 GB, negative skip).
    """
    file_format = file_format or FORMATS.get(Path(file.name or "").suffix.lower())
    if file_format not in ImportJob.Format.values:
        raise ImportRefused(
            "Can't tell the file's format from its name; send format json, jsonl or csv.", field="format"
        )
    if not 0 < file.size <= MAX_FILE_SIZE:
        raise ImportRefused("The file must hold 1 byte to 1 GB.", field="file")
    if skip < 0:
        raise ImportRefused("Must be 0 or more.", field="skip")
    job = ImportJob(
        project=project,
        user=user,
        api_key=api_key,
        file_name=(file.name or "upload")[:255],
        file_format=file_format,
        file_size=file.size,
        rows_done=skip,
    )
    path = job_file(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(file, "temporary_file_path"):
        shutil.move(file.temporary_file_path(), path)  # a rename when both are on one disk
    else:
        with path.open("wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
    with transaction.atomic():
        job.save(force_insert=True)
        transaction.on_commit(lambda: _enqueue(job))
    return job


def job_file(job: ImportJob) -> Path:
    return Path(settings.IMPORTS_DIR) / f"{job.pk}.{job.file_format}"


def _enqueue(job: ImportJob, *, run_after=None) -> None:
    from sales.uploads.tasks import import_job_task

    task = import_job_task if run_after is None else import_job_task.using(run_after=run_after)
    task.enqueue(str(job.pk))


def import_job_run(*, job_id) -> ImportJob | None:
    """Run a queued job (the task's body): count its rows, import them batch by batch, end it
    `succeeded` or `failed` (with its problems and where to resume). Returns None when the job is not
    queued, or waits: another job of its project runs, and this one is tried again shortly."""
    job = _claim(job_id)
    if job is None:
        return None
    try:
        return _run(job)
    finally:
        _unlock(job)


def _claim(job_id) -> ImportJob | None:
    job = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).first()
    if job is None or not _lock(job):
        return None
    try:
        with transaction.atomic():
            claimed = ImportJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
                status=Status.RUNNING, started_at=timezone.now()
            )
    except IntegrityError:  # another job of the project is running
        _unlock(job)
        _enqueue(job, run_after=timezone.now() + RETRY_AFTER)
        return None
    if not claimed:
        _unlock(job)
        return None
    job.refresh_from_db()
    return job


def _run(job: ImportJob) -> ImportJob:
    path = job_file(job)
    try:
        with path.open("rb") as stream:
            ImportJob.objects.filter(pk=job.pk).update(
                rows_total=max(rows_count(stream, job.file_format), job.rows_done)
            )

        def advance(done, upload, totals):
            ImportJob.objects.filter(pk=job.pk).update(
                rows_done=done,
                transactions_created=F("transactions_created") + upload.transactions_created,
                transactions_updated=F("transactions_updated") + upload.transactions_updated,
            )

        with path.open("rb") as stream:
            sales_import(
                project=job.project, stream=stream, file_format=job.file_format, skip=job.rows_done,
                batch_size=settings.IMPORT_BATCH_SIZE, on_batch=advance, user=job.user, api_key=job.api_key,
            )  # fmt: skip
    except BatchInvalid as error:
        count = len(error.problems)
        return _finish(
            job, Status.FAILED, resume_from=error.start, errors=error.problems[:ERRORS_LISTED], error_count=count,
            message=f"Rows {error.start} to {error.start + error.count - 1} were refused ({count} problem"
            f"{'s' if count != 1 else ''}); the rows before {error.start} are imported. Fix the file and "
            f"import it again with skip {error.start}.",
        )  # fmt: skip
    except FileUnreadable as error:
        return _finish(
            job, Status.FAILED, resume_from=error.imported,
            message=f"The file can't be read on: {error.reason}. The first {error.imported} rows are imported; "
            f"fix the file and import it again with skip {error.imported}.",
        )  # fmt: skip
    except Exception:
        logger.exception("import job %s stopped", job.pk)
        done = ImportJob.objects.values_list("rows_done", flat=True).get(pk=job.pk)
        return _finish(
            job, Status.FAILED, resume_from=done,
            message=f"The import stopped on an unexpected error; the first {done} rows are imported. Import the "
            f"file again with skip {done}.",
        )  # fmt: skip
    path.unlink(missing_ok=True)
    return _finish(job, Status.SUCCEEDED)


def _finish(job: ImportJob, status: str, **fields) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)
    job.refresh_from_db()
    return job


def import_jobs_recover() -> list[ImportJob]:
    """Queue again, from their last committed batch, the running jobs whose worker died; returns them.

    On PostgreSQL a job's worker holds its advisory lock, so a job is taken only when nobody holds
    it; on SQLite (one worker, for development) every running job is taken: run this before a worker
    starts, never beside one.
    """
    recovered = []
    for job in ImportJob.objects.filter(status=Status.RUNNING):
        if not _lock(job):
            continue
        try:
            if ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(status=Status.QUEUED):
                job.refresh_from_db()
                _enqueue(job)
                recovered.append(job)
        finally:
            _unlock(job)
    return recovered


def _lock_key(job: ImportJob) -> list[int]:
    return [_LOCK_NAMESPACE, job.pk.int % 2**31]


def _lock(job: ImportJob) -> bool:
    """Hold the job's session lock (PostgreSQL), while it runs; False when another session holds it."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", _lock_key(job))
        return cursor.fetchone()[0]


def _unlock(job: ImportJob) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", _lock_key(job))
