"""rebuild_sales_rollups [--project SLUG]: recompute the trigger-kept rollups from the ledger."""

from django.core.management.base import BaseCommand

from apikeys.commands import project_by_slug
from sales.reporting.services import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the rollups behind GET /sells totals and the dashboard's charts from the sales "
        "and lines as they are. Needed only after a bulk load that bypassed triggers "
        "(session_replication_role = replica) or a TRUNCATE; every other write keeps them exact."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", help="The project's slug (default: every project).")

    def handle(self, *args, project=None, **options):
        rollups_rebuild(project=None if project is None else project_by_slug(project))
        self.stdout.write(f"Rebuilt the sales rollups of {project or 'every project'}.")
