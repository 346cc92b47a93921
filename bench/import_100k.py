"""Time `import_sales_rows` on 100,000 custobar rows (target: under 10 s on PostgreSQL, 2 cores).

    DATABASE_URL=postgres://root@127.0.0.1:5432/h_custobar .venv/bin/python bench/import_100k.py [--rows N]

Needs PostgreSQL (on this machine, it also reads the database backend's CPU time from /proc).
Migrates the database, writes a file of `--rows` rows (3 rows per transaction, 1,000 products,
10,000 customers, row ids on every row) in the document's JSON, JSON lines or CSV, imports it into a
fresh project, and prints the seconds, rows per second and how much the process grew while
importing (flat in the file's size: the file is streamed in batches). The project and its data
are deleted afterwards. `run(rows=..., file_format=...)` returns the same figures as a dict, for
the benchmark suite.
"""

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [
    "sale_external_id", "sale_date", "sale_customer_id", "sale_payment_method", "external_id", "product_id",
    "quantity", "unit_price", "discount",
]  # fmt: skip


def generate(rows: int):
    """The rows, one at a time: transactions of 3 rows, every 10th sale with a discounted row."""
    for index in range(rows):
        sale = index // 3
        row = {
            "sale_external_id": f"B{sale}",
            "sale_date": f"2024-{1 + sale % 12:02d}-{1 + sale % 28:02d}T12:00:00Z",
            "sale_customer_id": f"C{sale % 10_000}",
            "external_id": f"B{sale}-{index % 3}",
            "product_id": f"SKU{index % 1_000:04d}",
            "quantity": 1 + index % 4,
            "unit_price": 100 + index % 5_000,
        }
        if index % 3 == 0:
            row["sale_payment_method"] = "card"
        if sale % 10 == 0:
            row["discount"] = 50
        yield row


def write_file(path: Path, rows: int, file_format: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        if file_format == "json":
            out.write('{"sales": [\n')
            for index, row in enumerate(generate(rows)):
                out.write(("," if index else "") + json.dumps(row) + "\n")
            out.write("]}\n")
        elif file_format == "jsonl":
            out.writelines(json.dumps(row) + "\n" for row in generate(rows))
        else:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(generate(rows))


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    import django

    django.setup()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a local process, from /proc; NaN when the database runs elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(*, rows: int = 100_000, file_format: str = "json", batch_size: int = 5000) -> dict:
    """Generate, import and clean up; returns rows, seconds, rows_per_second, grown_mb and the counts line."""
    from django.core.management import call_command

    from apikeys.models import Project
    from sales.ledger.models import Sale, SaleLine
    from sales.uploads.models import Upload

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="Bench import", slug=f"bench-import-{uuid.uuid4().hex[:8]}", currency="EUR")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"sales.{file_format}"
        write_file(path, rows, file_format)
        out, before = StringIO(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        backend = _backend_pid()
        started, cpu, db_cpu = time.perf_counter(), _cpu_seconds(), _process_cpu_seconds(backend)
        call_command(
            "import_sales_rows", str(path), "--project", project.slug, "--batch-size", str(batch_size),
            stdout=out, stderr=StringIO(),
        )  # fmt: skip
        seconds = time.perf_counter() - started
        cpu, db_cpu = _cpu_seconds() - cpu, _process_cpu_seconds(backend) - db_cpu
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    try:
        return {
            "rows": rows,
            "format": file_format,
            "seconds": round(seconds, 2),
            "rows_per_second": round(rows / seconds),
            # CPU spent by this process and by its PostgreSQL backend: on a machine shared with other
            # work, their sum is what the import costs, whatever the wall clock says.
            "python_cpu_seconds": round(cpu, 2),
            "postgres_cpu_seconds": round(db_cpu, 2),
            "grown_mb": round(grown / 1024, 1),
            "result": out.getvalue().strip(),
        }
    finally:
        SaleLine.objects.filter(sale__project=project).delete()
        Sale.objects.filter(project=project).delete()
        Upload.objects.filter(project=project).delete()
        project.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["json", "jsonl", "csv"], default="json")
    parser.add_argument("--batch-size", type=int, default=5000)
    options = parser.parse_args()
    setup_django()
    figures = run(rows=options.rows, file_format=options.format, batch_size=options.batch_size)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
