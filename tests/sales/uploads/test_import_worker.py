"""A real `db_worker` process killed (SIGKILL) in the middle of an import job: the ledger holds whole
batches only, and after `import_jobs_recover` and a new worker the job finishes."""

import json
import os
import subprocess
import sys
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sales.ledger.models import SaleLine
from sales.uploads.jobs import import_job_create, import_jobs_recover
from sales.uploads.models import ImportJob
from tests.reliability.servers import ROOT, _database_url
from tests.sales.uploads.test_import_command import rows_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROWS, BATCH = 30_000, 300


def worker(imports_dir) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "IMPORTS_DIR": str(imports_dir),
        "IMPORT_BATCH_SIZE": str(BATCH),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_for(condition, what: str, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")


def test_a_worker_killed_mid_job_leaves_whole_batches_and_the_job_finishes_after_restart(project, settings, tmp_path):
    settings.IMPORTS_DIR = tmp_path
    content = json.dumps({"sales": rows_of(ROWS)}).encode()
    job = import_job_create(project=project, file=SimpleUploadedFile("big.json", content))

    first = worker(tmp_path)
    try:
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).rows_done > 0, "the first batches")
    finally:
        first.kill()
        first.wait()

    job.refresh_from_db()
    assert job.status == "running"
    assert 0 < job.rows_done < ROWS
    # Every row has its own id: one line per row, and exactly the rows of the committed batches.
    assert SaleLine.objects.filter(sale__project=project).count() == job.rows_done

    # PostgreSQL drops the dead worker's session, and its lock with it.
    assert wait_for(import_jobs_recover, "the dead worker's lock to go", seconds=30) == [job]
    second = worker(tmp_path)
    try:
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status in {"succeeded", "failed"}, "the job to end")
    finally:
        second.terminate()
        second.wait()

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total) == ("succeeded", ROWS, ROWS)
    assert SaleLine.objects.filter(sale__project=project).count() == ROWS
