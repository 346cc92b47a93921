"""Rollups of the ledger that the database keeps exact: the totals of `GET /sells` and the dashboard's
charts read these narrow rows instead of aggregating the sales and their lines.

Database triggers (migration 0004, PostgreSQL and SQLite) write them on every change to a sale or a
line, whichever code path or bulk `COPY` makes it, so no caller can forget them. The triggers only
ever INSERT signed delta rows, never update a shared row: concurrent sales take no lock on them and
cannot deadlock over them. A reader sums the rows of its key; `sales.reporting.services.sales_tally_compact`
folds a key's rows into one when they pile up. A bulk load that bypasses triggers
(`session_replication_role = replica`) runs `manage.py rebuild_sales_rollups` afterwards.

Days are the project's local days, computed by the triggers from its time zone; changing a
project's time zone recomputes its rollups (another trigger), and a sale written meanwhile waits
for that change to commit (its trigger share-locks the project's row) so it lands on the new days.

Their foreign keys have no database constraint: the triggers write rows naming a project, user or
product in the same transaction that deletes it (a cascade deleting sales, a user's sales set to
no user). A deleted project's rows are deleted with it (a trigger); a user's or a product's, which
sum to nothing, may outlive them.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.db import models


def local_day(at: str | None, zone: str | None) -> str | None:
    """SQLite's `sales_local_day(created_at, time_zone)`: Django stores a moment there as UTC text."""
    if at is None or zone is None:
        return None
    moment = datetime.datetime.fromisoformat(at).replace(tzinfo=datetime.UTC)
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).date().isoformat()


def register_sqlite_functions(sender, connection, **kwargs):
    """Give every SQLite connection the function the rollup triggers call."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("sales_local_day", 2, local_day, deterministic=True)


class LocalDay(models.Func):
    """The calendar day of a moment in a time zone (an IANA name): `sales_local_day(at, zone)`, the
    function the triggers call. Migration 0004 creates it on PostgreSQL; `sales.apps` registers
    `register_sqlite_functions` for every SQLite connection."""

    function = "sales_local_day"
    output_field = models.DateField()


UNCONSTRAINED = {"on_delete": models.DO_NOTHING, "db_constraint": False, "db_index": False}


class SalesTally(models.Model):
    """Signed deltas of how many sales a (project, user) has in a status and their summed totals."""

    project = models.ForeignKey("apikeys.Project", related_name="+", **UNCONSTRAINED)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", **UNCONSTRAINED)
    status = models.CharField(max_length=20)
    sales = models.BigIntegerField()
    revenue = models.DecimalField(max_digits=30, decimal_places=4)

    class Meta:
        indexes = [models.Index(fields=["project", "user"], name="sales_tally_user")]

    def __str__(self):
        return f"{self.sales:+} {self.status} sales"


class ChannelSales(models.Model):
    """Signed deltas of the sales of one local day, channel, currency and status: how many and their
    summed totals (the dashboard's revenue per day and sales per status)."""

    project = models.ForeignKey("apikeys.Project", related_name="+", **UNCONSTRAINED)
    day = models.DateField(help_text="The sale's day in the project's time zone.")
    channel = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20)
    sales = models.BigIntegerField()
    revenue = models.DecimalField(max_digits=30, decimal_places=4)

    class Meta:
        verbose_name_plural = "channel sales"
        indexes = [
            models.Index(
                fields=["project", "day"],
                include=["channel", "currency", "status", "sales", "revenue"],
                name="sales_channelsales_day",
            )
        ]

    def __str__(self):
        return f"{self.sales:+} {self.status} {self.channel} sales"


class ProductSales(models.Model):
    """Signed deltas of the lines of a product sold (in sales not cancelled) on one local day, in one
    channel and currency: how many lines, their quantity and their line totals."""

    project = models.ForeignKey("apikeys.Project", related_name="+", **UNCONSTRAINED)
    product = models.ForeignKey("inventory.Product", related_name="+", **UNCONSTRAINED)
    day = models.DateField(help_text="The sale's day in the project's time zone.")
    channel = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    lines = models.BigIntegerField()
    quantity = models.DecimalField(max_digits=30, decimal_places=2)
    revenue = models.DecimalField(max_digits=30, decimal_places=4)

    class Meta:
        verbose_name_plural = "product sales"
        indexes = [
            # The dashboard's top products: an index-only range scan of a project's period.
            models.Index(
                fields=["project", "day"],
                include=["product", "channel", "currency", "lines", "quantity", "revenue"],
                name="sales_productsales_day",
            )
        ]

    def __str__(self):
        return f"{self.lines:+} lines of product {self.product_id}"


class ProductMonthSales(models.Model):
    """ProductSales summed per calendar month, without the channel: signed deltas written by triggers on
    the day rollup itself (migration 0009), so whatever writes or deletes day rows (the triggers of
    migration 0004, a time zone change, `rollups_rebuild`) writes their month's rows in the same
    statement. The dashboard's top products read whole months here and only the days of a partial
    month from the day rows: at one row per product and month, a fraction of the day rows."""

    project = models.ForeignKey("apikeys.Project", related_name="+", **UNCONSTRAINED)
    product = models.ForeignKey("inventory.Product", related_name="+", **UNCONSTRAINED)
    month = models.DateField(help_text="The first day of the sales' month, in the project's time zone.")
    currency = models.CharField(max_length=3)
    lines = models.BigIntegerField()
    quantity = models.DecimalField(max_digits=30, decimal_places=2)
    revenue = models.DecimalField(max_digits=30, decimal_places=4)

    class Meta:
        verbose_name_plural = "product month sales"
        indexes = [
            models.Index(
                fields=["project", "month"],
                include=["product", "currency", "lines", "quantity", "revenue"],
                name="sales_productmonthsales_month",
            )
        ]

    def __str__(self):
        return f"{self.lines:+} lines of product {self.product_id} in {self.month:%Y-%m}"
