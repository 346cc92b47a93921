"""rebuild_sales_rollups [--project SLUG]: recompute the trigger-kept rollups from the ledger."""

from django.core.management.base import BaseCommand, CommandError

from apikeys.models import Project
from sales.rollup_services import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the rollups behind GET /sells totals and the dashboard's top products from the sales "
        "and lines as they are. Needed only after a bulk load that bypassed triggers "
        "(session_replication_role = replica); every other write keeps them exact."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", help="The project's slug (default: every project).")

    def handle(self, *args, project=None, **options):
        target = None
        if project is not None:
            target = Project.objects.filter(slug=project).first()
            if target is None:
                raise CommandError(f"No project with slug '{project}'.")
        rollups_rebuild(project=target)
        self.stdout.write(f"Rebuilt the sales rollups of {project or 'every project'}.")
