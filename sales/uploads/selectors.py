"""Reads of the upload package: a project's import jobs."""

from sales.uploads.models import ImportJob


def import_jobs_of(project):
    """The project's import jobs, newest first."""
    return ImportJob.objects.filter(project=project).order_by("-created_at", "-id")


def import_job_list():
    """Every import job, newest first (the API scopes it to the key's project)."""
    return ImportJob.objects.order_by("-created_at", "-id")
