"""What the management commands share."""

from django.core.management.base import CommandError

from apikeys.models import Project


def project_by_slug(slug: str) -> Project:
    """The project a command's `--project`/`--slug` names, or the command's error naming the slug."""
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"No project with slug '{slug}'.")
    return project
