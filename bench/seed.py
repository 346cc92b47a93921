"""A fresh benchmark database: migrate, then one project with its products, customers and a year of
ledger sales, written by PostgreSQL COPY (psycopg 3 `cursor.copy`), never through the API.

    .venv/bin/python bench/seed.py [--small] [--database postgres://root@127.0.0.1:5432/h_bench]

The rows are what the services would have written: every product's stock counter has its
`initial` movement (so `check_stock` holds), every sale's timestamps match its status, every
sale's total is the sum of its lines. Seeded sales never touched stock (`stock_applied` false).
"""

import argparse
import contextlib
import datetime
import json
import operator
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://root@127.0.0.1:5432/h_bench"
PRODUCT_STOCK = 1_000_000
CONTENDED_PRODUCTS = 10
CONTENDED_STOCK = 100
SIZES = {
    "full": {"products": 5_000, "sales": 200_000, "customers": 50_000, "conversions": 20_000},
    "small": {"products": 500, "sales": 2_000, "customers": 1_000, "conversions": 500},
}
UPLOAD_PROJECTS = 2  # as many as custobar_upload_1000 has connections
CHANNELS = ("costtrack", "sells", "custobar", "connecteam", "admin", "native")
# Weighted like a real ledger: most sales confirmed, some still pending, a few cancelled.
STATUSES = ("confirmed",) * 7 + ("pending",) * 2 + ("cancelled",)


@dataclass
class Seeded:
    """What the benchmark needs to know about the seeded database."""

    database_url: str
    project_id: int = 0
    project_slug: str = "bench"
    api_key: str = ""
    # Keys of projects of their own for `custobar_upload_1000`: one upload per project runs at a time
    # (another is refused at once), so each connection uploads as another integration would.
    upload_keys: list[str] = field(default_factory=list)
    owner_username: str = "bench-owner"
    location_id: int = 0
    products: list[str] = field(default_factory=list)  # UUIDs of products with plenty of stock
    product_external_ids: list[str] = field(default_factory=list)
    contended: list[str] = field(default_factory=list)  # UUIDs of the 10 products with little stock
    customers: list[str] = field(default_factory=list)  # customer external ids
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0


def database_env(database_url: str) -> dict:
    """The environment a process of this checkout needs to run against `database_url`."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "salesledger.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }


def recreate_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def migrate(database_url: str) -> None:
    command = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(command, cwd=ROOT, env=database_env(database_url), check=True)


@contextlib.contextmanager
def _copy_into(cursor, model):
    """A COPY into `model`'s table; yields a function writing one row, a dict by attname. A missing
    column takes the model field's default; an auto-increment id is left to the database."""
    from django.db.models import AutoField

    fields = [model_field for model_field in model._meta.concrete_fields if not isinstance(model_field, AutoField)]
    defaults = {}
    for model_field in fields:
        default = model_field.get_default()
        defaults[model_field.attname] = json.dumps(default) if isinstance(default, dict | list) else default
    columns = operator.itemgetter(*defaults)
    names = ", ".join(f'"{model_field.column}"' for model_field in fields)
    with cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy:
        yield lambda row: copy.write_row(columns({**defaults, **row}))


def _copy(cursor, model, rows) -> int:
    rows = list(rows)
    with _copy_into(cursor, model) as write:
        for row in rows:
            write(row)
    return len(rows)


SECONDARY_INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = ANY(%s)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = indexname)
"""


@contextlib.contextmanager
def _bulk_load(cursor, tables: list[str]):
    """Load without per-row work: no foreign-key triggers (the rows are consistent by construction;
    CHECK and UNIQUE constraints still apply) and the tables' plain indexes built once at the end,
    which is several times faster than maintaining them row by row."""
    cursor.execute("SET session_replication_role = replica")
    cursor.execute("SET maintenance_work_mem = '256MB'")
    indexes = cursor.execute(SECONDARY_INDEXES, [tables]).fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _, definition in indexes:
        cursor.execute(definition)
    cursor.execute("SET session_replication_role = DEFAULT")


def seed_rows(seeded: Seeded, *, sizes: dict, rng: random.Random) -> None:
    """Create the project, its owner, key and location through the services, then COPY the bulk."""
    import psycopg
    from django.db import connection
    from django.utils import timezone

    from apikeys.models import Project
    from apikeys.services import api_key_create, project_create, user_get_or_create
    from bench.floor import FLOOR_TABLE_SQL
    from inventory.models import Product, Stock, StockMovement
    from sales.ledger.models import Sale, SaleLine
    from sales.pos.services import location_create
    from sales.reporting.services import rollups_rebuild
    from tracking.models import Customer, SaleEvent

    owner = user_get_or_create(username=seeded.owner_username, password=uuid.uuid4().hex)
    project = project_create(slug=seeded.project_slug, name="Benchmark shop", owner=owner, currency="USD")
    # The benchmark measures throughput, not the rate limit: give its key all the room there is.
    Project.objects.filter(pk=project.pk).update(rate_limit=2_000_000_000)
    issued = api_key_create(project=project, name="bench", user=owner)
    seeded.project_id, seeded.api_key = project.pk, issued.secret
    seeded.location_id = location_create(project=project, name="Bench till").pk
    for index in range(UPLOAD_PROJECTS):
        uploads = project_create(slug=f"bench-uploads-{index}", name=f"Uploads {index}", owner=owner, currency="USD")
        Project.objects.filter(pk=uploads.pk).update(rate_limit=2_000_000_000)
        seeded.upload_keys.append(api_key_create(project=uploads, name="bench", user=owner).secret)

    now = timezone.now()

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def moment() -> datetime.datetime:
        return now - datetime.timedelta(seconds=rng.randrange(365 * 24 * 3600))

    products = [
        {
            "id": new_id(),
            "project_id": project.pk,
            "name": f"Product {index:05d}",
            "sku": f"SKU-{index:05d}",
            "external_id": f"P-{index:05d}",
            "price": Decimal(rng.randint(100, 20000)) / 100,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(sizes["products"])
    ]
    contended = products[:CONTENDED_PRODUCTS]
    seeded.contended = [str(product["id"]) for product in contended]
    seeded.products = [str(product["id"]) for product in products[CONTENDED_PRODUCTS:]]
    seeded.product_external_ids = [product["external_id"] for product in products[CONTENDED_PRODUCTS:]]
    stock = [(product["id"], CONTENDED_STOCK if index < CONTENDED_PRODUCTS else PRODUCT_STOCK)
             for index, product in enumerate(products)]  # fmt: skip
    customer_ids = [new_id() for _ in range(sizes["customers"])]
    seeded.customers = [f"C-{index:06d}" for index in range(min(1000, len(customer_ids)))]

    def customers():
        for index, customer_id in enumerate(customer_ids):
            yield {
                "id": customer_id,
                "public_id": f"cus_{customer_id.hex[:24]}",
                "project_id": project.pk,
                "external_id": f"C-{index:06d}",
                "name": f"Customer {index}",
                "email": f"customer{index}@example.com",
                "created_at": moment(),
            }

    def ledger():
        """(sale, lines) pairs, generated as they are written: 600,000 rows never sit in memory.

        Oldest first, as a ledger grows: the rows of a recent period sit together on disk, as they
        would in production, rather than spread over every page of the tables."""
        ages = sorted((rng.randrange(365 * 24 * 3600) for _ in range(sizes["sales"])), reverse=True)
        for age in ages:
            sale_id = new_id()
            created_at = now - datetime.timedelta(seconds=age)
            status = rng.choice(STATUSES)
            lines = []
            for position in range(rng.randint(1, 3)):
                product = products[rng.randrange(CONTENDED_PRODUCTS, len(products))]
                quantity = rng.randint(1, 3)
                lines.append(
                    {
                        "sale_id": sale_id,
                        "product_id": product["id"],
                        "product_name": product["name"],
                        "quantity": quantity,
                        "unit_price": product["price"],
                        "line_total": product["price"] * quantity,
                        "position": position,
                    }
                )
            total = sum(line["line_total"] for line in lines)
            sale = {
                "id": sale_id,
                "project_id": project.pk,
                "channel": rng.choice(CHANNELS),
                "status": status,
                "currency": "USD",
                "subtotal": total,
                "total": total,
                "customer_id": customer_ids[rng.randrange(len(customer_ids))],
                "user_id": owner.pk,
                "api_key_id": issued.api_key.pk,
                "created_at": created_at,
                "confirmed_at": created_at if status == "confirmed" else None,
                "cancelled_at": created_at if status == "cancelled" else None,
            }
            yield sale, lines

    def conversions():
        for index in range(sizes["conversions"]):
            amount = rng.randint(500, 50000)
            yield {
                "id": new_id(),
                "project_id": project.pk,
                "customer_id": customer_ids[rng.randrange(len(customer_ids))],
                "event_name": "Purchase",
                "amount": amount,
                "original_amount": amount,
                "original_currency": "usd",
                "payment_processor": "stripe",
                "invoice_id": f"seed-{index}",
                "created_at": moment(),
            }

    tables = [model._meta.db_table for model in (Customer, Sale, SaleLine, SaleEvent)]
    counts = {"sales": 0, "sale_lines": 0}
    with (
        connection.cursor() as django_cursor,
        psycopg.connect(seeded.database_url, autocommit=True) as lines_connection,
    ):
        cursor = django_cursor.cursor  # the psycopg 3 cursor underneath, for COPY
        lines_cursor = lines_connection.cursor()
        lines_cursor.execute("SET session_replication_role = replica")
        with _bulk_load(cursor, tables):
            counts["products"] = _copy(cursor, Product, products)
            counts["stock"] = _copy(cursor, Stock, ({"product_id": pid, "on_hand": n} for pid, n in stock))
            counts["stock_movements"] = _copy(
                cursor,
                StockMovement,
                ({"product_id": pid, "delta_on_hand": n, "reason": "initial", "created_at": now} for pid, n in stock),
            )
            counts["customers"] = _copy(cursor, Customer, customers())
            # Sales and their lines in one pass, each through its own connection's COPY.
            with _copy_into(cursor, Sale) as write_sale, _copy_into(lines_cursor, SaleLine) as write_line:
                for sale, lines in ledger():
                    write_sale(sale)
                    counts["sales"] += 1
                    for line in lines:
                        write_line(line)
                    counts["sale_lines"] += len(lines)
            counts["conversions"] = _copy(cursor, SaleEvent, conversions())
        # The load bypassed the triggers that keep the sales rollups; compute them once, as a bulk loader must.
        rollups_rebuild(project=project)
        cursor.execute(FLOOR_TABLE_SQL)
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would: index-only scans need the visibility map
    seeded.counts = counts


def seed(database_url: str = DEFAULT_DATABASE, *, small: bool = False, rng_seed: int = 9) -> Seeded:
    """Recreate `database_url`, migrate it and seed it; returns what was seeded and how long it took."""
    recreate_database(database_url)
    migrate(database_url)
    os.environ.update(database_env(database_url))
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    seeded = Seeded(database_url=database_url)
    started = time.perf_counter()
    seed_rows(seeded, sizes=SIZES["small" if small else "full"], rng=random.Random(rng_seed))
    seeded.seconds = round(time.perf_counter() - started, 2)
    return seeded


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--small", action="store_true", help="2,000 sales instead of 200,000")
    args = parser.parse_args()
    seeded = seed(args.database, small=args.small)
    print(json.dumps({"seconds": seeded.seconds, **seeded.counts}))


if __name__ == "__main__":
    main()
