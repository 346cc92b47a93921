"""Queue every due webhook delivery that nothing is taking care of (`run_tasks` does it every minute)."""

from django.core.management.base import BaseCommand

from events.webhooks.services import deliveries_sweep


class Command(BaseCommand):
    help = "Queue again the due webhook deliveries that no worker holds (for cron, when run_tasks does not sweep)."

    def handle(self, *args, **options):
        self.stdout.write(f"Queued {deliveries_sweep()} due webhook deliveries.")
