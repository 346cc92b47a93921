"""`python manage.py run_tasks`: a worker of the configured task engine (webhook deliveries, import
jobs), plus the webhook sweep. It first queues again the import jobs a dead worker left running.

TASKS_BACKEND=database runs django-tasks-db's `db_worker`; TASKS_BACKEND=rq runs RQ's worker (with
its scheduler, which releases retries when they are due). Start as many as you need, on any machine
that reaches the database (and Redis).
"""

import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from events.webhooks.services import deliveries_sweep
from sales.uploads.jobs import import_jobs_recover

logger = logging.getLogger(__name__)


def sweep_forever(*, every: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            queued = deliveries_sweep()
            if queued:
                logger.info("Sweep queued %d due webhook deliveries.", queued)
        except Exception:
            logger.exception("The webhook sweep failed; it runs again in %s s.", every)
        finally:
            connection.close()
        stop.wait(every)


class Command(BaseCommand):
    help = (
        "Run a worker of the task engine (TASKS_BACKEND): webhook deliveries and import jobs; queue again "
        "the import jobs a dead worker left, and sweep due webhook deliveries every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sweep-every", type=float, default=60.0,
            help="Seconds between sweeps of due webhook deliveries (default 60; 0 turns the sweep off).",
        )  # fmt: skip

    def handle(self, *args, sweep_every, **options):
        for job in import_jobs_recover():
            logger.info("Import %s queued again from row %d (its worker died).", job.pk, job.rows_done)
        stop = threading.Event()
        if sweep_every > 0:
            threading.Thread(
                target=sweep_forever, kwargs={"every": sweep_every, "stop": stop}, name="webhook-sweep", daemon=True
            ).start()
        try:
            if settings.TASKS_BACKEND == "rq":
                call_command(
                    "rqworker", "default", with_scheduler=True, job_class="django_tasks_rq.backend.Job",
                    verbosity=options["verbosity"],
                )  # fmt: skip
            else:
                call_command("db_worker", reload=False, verbosity=options["verbosity"])
        finally:
            stop.set()
