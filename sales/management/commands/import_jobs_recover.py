"""import_jobs_recover: queue again the import jobs whose worker died (run it before `db_worker`)."""

from django.core.management.base import BaseCommand

from sales.uploads.jobs import import_jobs_recover


class Command(BaseCommand):
    help = (
        "Queue again, from their last committed batch, the import jobs left running by a worker that died. "
        "Run it before starting a worker (python manage.py import_jobs_recover && python manage.py db_worker)."
    )

    def handle(self, *args, **options):
        jobs = import_jobs_recover()
        for job in jobs:
            self.stdout.write(f"Import {job.pk} ({job.file_name}) queued again from row {job.rows_done}.")
        self.stdout.write(self.style.SUCCESS(f"{len(jobs)} import job{'s' if len(jobs) != 1 else ''} recovered."))
