"""check_ledger: report sales whose stored times are outside the business range (exit status 1 if any)."""

from django.core.management.base import BaseCommand, CommandError

from sales.ledger.selectors import sales_with_times_out_of_range
from salesledger import times


class Command(BaseCommand):
    help = (
        "List the sales holding a time outside "
        f"{times.EARLIEST:%Y-%m-%d} - {times.LATEST:%Y-%m-%d} (UTC), with the value as stored. Every input is "
        "checked against that range now; such rows were stored before, and reads show them clamped to "
        "the years 1 or 9999. Correct them by uploading the sale again with its right date, or in the admin."
    )

    def handle(self, *args, **options):
        found = sales_with_times_out_of_range()
        for row in found:
            self.stdout.write(
                f"{row.project} sale {row.sale_id} ({row.channel} {row.external_id or '-'}): {row.field} = {row.stored}"
            )
        if found:
            raise CommandError(f"{len(found)} stored time(s) out of range.")
        self.stdout.write("Every sale's times are within the business range.")
