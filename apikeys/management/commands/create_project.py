"""create_project SLUG --name NAME --owner USERNAME [--currency USD] [--timezone UTC] [--password PW]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apikeys.services import project_create, user_get_or_create


class Command(BaseCommand):
    help = "Create a project and its owner (the owner is created when missing)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner", required=True, help="User name of the owner; created if missing.")
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--password", help="Set the owner's password (needed to log in to the owner pages).")

    def handle(self, *args, **options):
        try:
            with transaction.atomic():  # A new owner is kept only together with the project.
                owner = user_get_or_create(username=options["owner"], password=options["password"])
                project = project_create(
                    slug=options["slug"], name=options["name"], owner=owner,
                    currency=options["currency"], time_zone=options["timezone"],
                )  # fmt: skip
        except ValidationError as error:
            message = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
            raise CommandError(message) from error
        self.stdout.write(f"Created project '{project.slug}' owned by {owner.username}.")
