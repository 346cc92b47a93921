"""The upload's tasks on the task engine (django-tasks): thin, they call the services."""

from django_tasks import task

from sales.uploads.jobs import import_job_run


@task()
def import_job_task(job_id: str) -> None:
    """Run import job `job_id` (see `sales.uploads.jobs.import_job_run`)."""
    import_job_run(job_id=job_id)
