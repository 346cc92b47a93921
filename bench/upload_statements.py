"""Where PostgreSQL's time goes in one upload: each statement's time, and the statements its triggers run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/DB .venv/bin/python bench/upload_statements.py [--rows N] [--explain]

Uploads `--rows` new custobar rows (3 rows a transaction, as bench/import_100k.py) in-process with
`sales_upload_parsed` into a new project, and prints each statement's wall time from the client (COPYs
included), then the deferred foreign-key checks, timed by `SET CONSTRAINTS ALL IMMEDIATE` before COMMIT,
and the CPU seconds of this process and of its PostgreSQL backend. With `--explain`, `auto_explain` is
loaded in the session (a superuser's) and the plans of every statement of 1 ms or more, nested ones (the
rollup triggers') included, with their triggers' times, are written to `--plans` (the client reads them
as notices); timing each plan node slows the statements down. The project's rows stay (a benchmark
database is seeded again by bench/run.py).
"""

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_100k import _backend_pid, _cpu_seconds, _process_cpu_seconds, generate, setup_django  # noqa: E402

AUTO_EXPLAIN = ("log_min_duration = 1", "log_analyze = on", "log_triggers = on", "log_nested_statements = on",
                "log_level = notice", "log_timing = on")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--explain", action="store_true", help="auto_explain every statement of 1 ms or more")
    parser.add_argument("--plans", type=Path, default=Path("/tmp/upload_plans.txt"))
    options = parser.parse_args()
    setup_django()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from apikeys.models import Project
    from sales.uploads.decode import sale_rows_read
    from sales.uploads.services import sales_upload_parsed

    slug = f"statements-{uuid.uuid4().hex[:8]}"
    project = Project.objects.create(name="Upload statements", slug=slug, currency="EUR")
    rows = [{**row, "sale_external_id": f"{slug}-{row['sale_external_id']}"} for row in generate(options.rows)]
    parsed = sale_rows_read(project=project, rows=rows)
    plans = []
    backend = _backend_pid()
    connection.connection.add_notice_handler(lambda notice: plans.append(notice.message_primary))
    if options.explain:
        with connection.cursor() as cursor:
            cursor.execute("LOAD 'auto_explain'")
            for setting in AUTO_EXPLAIN:
                cursor.execute(f"SET auto_explain.{setting}")
    started, cpu, db_cpu = time.perf_counter(), _cpu_seconds(), _process_cpu_seconds(backend)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        sales_upload_parsed(project=project, parsed=parsed)
        with connection.cursor() as cursor:
            checks = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            checks = time.perf_counter() - checks
    seconds = time.perf_counter() - started
    cpu, db_cpu = _cpu_seconds() - cpu, _process_cpu_seconds(backend) - db_cpu
    for query in queries.captured_queries[:-1]:
        print(f"{float(query['time']) * 1000:9.1f} ms  {' '.join(query['sql'].split())[:110]}")
    print(f"{checks * 1000:9.1f} ms  deferred foreign-key checks (SET CONSTRAINTS ALL IMMEDIATE)")
    print(f"{options.rows} rows in {seconds:.2f} s; CPU seconds: Python {cpu:.2f}, PostgreSQL {db_cpu:.2f}")
    if options.explain:
        options.plans.write_text("\n\n".join(plans))
        print(f"{len(plans)} plans in {options.plans}")


if __name__ == "__main__":
    main()
