"""create_api_key SLUG --name NAME: prints only the new key, so `KEY=$(... create_api_key ...)` works."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apikeys.commands import project_by_slug
from apikeys.models import APIKey
from apikeys.services import api_key_create


class Command(BaseCommand):
    help = "Issue an API key for a project and print it (only the key, on stdout)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--user", help="User name the key acts for (default: the project's first owner).")

    def handle(self, *args, **options):
        try:
            APIKey._meta.get_field("name").clean(options["name"], None)
        except ValidationError as error:
            raise CommandError(f"--name: {' '.join(error.messages)}") from error
        project = project_by_slug(options["slug"])
        owners = project.owners.order_by("pk")
        user = owners.filter(username=options["user"]).first() if options["user"] else owners.first()
        if user is None:
            raise CommandError("The key needs a user to act for: give --user NAME of one of the project's owners.")
        issued = api_key_create(project=project, name=options["name"], user=user)
        self.stdout.write(issued.secret)
