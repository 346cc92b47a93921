"""Drop idempotency records whose 24 hours are over (run it hourly or daily from cron)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from apikeys.services import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete expired Idempotency-Key records (older than 24 hours)."

    def handle(self, *args, **options):
        deleted = idempotency_keys_purge(now=timezone.now())
        self.stdout.write(f"Deleted {deleted} expired idempotency records.")
