"""compact_sales_rollups: fold the GET /sells tallies and the dashboard's product months that have piled up
delta rows (run it from cron)."""

from django.core.management.base import BaseCommand

from sales.reporting.services import TALLY_COMPACT_ROWS, product_months_compact_all, sales_tallies_compact


class Command(BaseCommand):
    help = (
        "Fold each user's GET /sells tally into one row per status once it holds more than --min-rows "
        "delta rows. Upkeep only: totals are exact either way, reads just stay short. Run it every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--min-rows", type=int, default=TALLY_COMPACT_ROWS, help="Fold tallies longer than this.")

    def handle(self, *args, min_rows, **options):
        folded = sales_tallies_compact(min_rows=max(min_rows, 0))
        self.stdout.write(f"Compacted {folded} sales tall{'y' if folded == 1 else 'ies'}.")
        months = product_months_compact_all()
        self.stdout.write(f"Compacted {months} product month{'' if months == 1 else 's'}.")
