"""Retention of the request log: `python manage.py purge_request_log --days 30` (run it daily from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apikeys.services import request_log_purge


class Command(BaseCommand):
    help = "Delete request log entries older than --days days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Keep this many days (default 30).")

    def handle(self, *args, days, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        deleted = request_log_purge(before=timezone.now() - timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} request log entries older than {days} days.")
