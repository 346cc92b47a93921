"""check_stock: recompute every stock counter from the ledger; exit non-zero listing each mismatch."""

from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import stock_mismatches


class Command(BaseCommand):
    help = "Recompute every stock counter from the stock movements and report each counter that differs."

    def add_arguments(self, parser):
        parser.add_argument("--project", help="Only this project (its slug).")

    def handle(self, *args, project=None, **options):
        mismatches, checked = stock_mismatches(project_slug=project)
        for item in mismatches:
            self.stderr.write(
                f"MISMATCH {item['name']} (product {item['product_id']}"
                + (f", variant {item['variant_id']}" if item["variant_id"] else "")
                + f"): on hand {item['on_hand']} but movements say {item['ledger_on_hand']}; "
                f"reserved {item['reserved']} but movements say {item['ledger_reserved']}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} stock counter(s) differ from the ledger.")
        self.stdout.write(self.style.SUCCESS(f"OK: {checked} stock counter(s) match their movements."))
