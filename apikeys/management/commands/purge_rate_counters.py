"""Drop rate-limit counters of finished windows (database counters only; Redis expires its own)."""

from django.core.management.base import BaseCommand

from apikeys.limits import finished_windows_purge


class Command(BaseCommand):
    help = "Delete rate-limit and failed-login counters whose window has ended."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {finished_windows_purge()} finished rate-limit counters.")
