"""Retention of events: `python manage.py purge_events --days 30` (run it daily from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from events.services import events_purge

# Past this, `now - days` falls before year 1 (an OverflowError).
MAX_DAYS = 36_500


class Command(BaseCommand):
    help = "Delete events older than --days days, with their webhook deliveries and attempts."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Keep this many days (default 30).")

    def handle(self, *args, days, **options):
        if not 0 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be from 0 to {MAX_DAYS}.")
        deleted = events_purge(before=timezone.now() - timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} events older than {days} days.")
