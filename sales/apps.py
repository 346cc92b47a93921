import datetime
import zoneinfo

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def local_day(at: str | None, zone: str | None) -> str | None:
    """SQLite's `sales_local_day(created_at, time_zone)`: Django stores a moment there as UTC text."""
    if at is None or zone is None:
        return None
    moment = datetime.datetime.fromisoformat(at).replace(tzinfo=datetime.UTC)
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).date().isoformat()


def register_sqlite_functions(sender, connection, **kwargs):
    """Give every SQLite connection the function the rollup triggers call (sales/rollup_models.py)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("sales_local_day", 2, local_day, deterministic=True)


class SalesConfig(AppConfig):
    name = "sales"

    def ready(self):
        connection_created.connect(register_sqlite_functions, dispatch_uid="sales_local_day")
