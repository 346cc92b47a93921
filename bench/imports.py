"""The import workloads against the COPY floor measured in the same run, alone (not the full benchmark):

    DATABASE_URL=postgres://root@127.0.0.1:5432/DB .venv/bin/python bench/imports.py [--port 8600] [--small]

- copy_floor: PostgreSQL `COPY` of 100,000 rows of the import file's columns into a temporary table,
  from Python (psycopg 3): the ceiling of any import;
- bulk_import_100k: `import_sales_rows` of a 100,000-row file (bench/import_100k.py);
- custobar_upload_1000: `POST /api/sales/upload/` of 1,000 new rows, 2 clients at once (each uploading to a
  project of its own: one upload per project runs at a time), against gunicorn (2 x cores sync workers) on
  `--port`;
- custobar_upload_49mb: one `POST` of 282,618 rows (49 MB), its status, seconds and the worker's peak memory.

Each import workload reports rows/s and its ratio to the COPY floor. `run.py` calls the same functions.
The database is migrated; a project is made for the run and deleted afterwards.
"""

import argparse
import base64
import contextlib
import http.client
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench.import_100k import COLUMNS, generate, setup_django  # noqa: E402
from bench.load import Server, _rss_mb  # noqa: E402

BIG_UPLOAD_ROWS = 282_618
WORKLOADS = ["bulk_import_100k", "custobar_upload_1000", "custobar_upload_49mb"]


def copy_floor(rows: int = 100_000) -> dict:
    """COPY of `rows` rows (the import's columns, as text) into a temporary table: rows/s."""
    from django.db import connection

    lines = [tuple(str(row.get(name, "")) for name in COLUMNS) for row in generate(rows)]
    columns = ", ".join(f"{name} text" for name in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE copy_floor ({columns})")
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY copy_floor ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for line in lines:
                copy.write_row(line)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE copy_floor")
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds)}


def body(rows: list[dict]) -> bytes:
    return json.dumps({"sales": rows}, separators=(",", ":")).encode()


def upload_rows(prefix: str, count: int) -> list[dict]:
    """`count` rows of new transactions named after `prefix` (3 rows each, as the bulk file)."""
    return [{**row, "sale_external_id": f"{prefix}-{row['sale_external_id']}"} for row in generate(count)]


def _post(url: str, key: str, payload: bytes, timeout=120) -> int:
    token = base64.b64encode(f"{key}:".encode()).decode()
    request = urllib.request.Request(
        f"{url}/api/sales/upload/", data=payload, method="POST",
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (ConnectionError, http.client.HTTPException):
        return 0  # no answer: the worker was killed (gunicorn's timeout) before it could send one


def custobar_upload_1000(url: str, keys: list[str], *, requests_per_client: int = 15) -> dict:
    """A thread per key (a project each: one upload per project runs at a time) POSTs `requests_per_client`
    bodies of 1,000 new rows (made beforehand)."""
    bodies = [[body(upload_rows(f"U{client}-{index}-{uuid.uuid4().hex[:6]}", 1000))
               for index in range(requests_per_client)] for client in range(len(keys))]  # fmt: skip
    for key in keys:  # warm the workers up (and create the products in each project)
        _post(url, key, body(upload_rows(f"warm-{uuid.uuid4().hex[:6]}", 1000)))
    statuses: list[int] = []

    def send(key, mine):
        for payload in mine:
            statuses.append(_post(url, key, payload))

    threads = [threading.Thread(target=send, args=pair) for pair in zip(keys, bodies, strict=True)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    rows = 1000 * statuses.count(200)
    return {"connections": len(keys), "requests": len(statuses), "ok": statuses.count(200),
            "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}  # fmt: skip


def custobar_upload_big(url: str, key: str, server_pid: int, rows: int = BIG_UPLOAD_ROWS) -> dict:
    """One POST of `rows` new rows: status, seconds, body size, and the most any worker grew meanwhile."""
    payload = body(upload_rows("G", rows))  # a short prefix: 282,618 rows stay under the 50 MB limit
    workers = [int(pid) for pid in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()]
    before = {pid: _rss_mb(pid) for pid in workers}
    peak = dict(before)
    done = threading.Event()

    def watch():
        while not done.wait(0.05):
            for pid in workers:
                with contextlib.suppress(OSError):  # a worker gunicorn killed (timeout) and replaced
                    peak[pid] = max(peak[pid], _rss_mb(pid))

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.perf_counter()
    try:
        status = _post(url, key, payload, timeout=300)
    finally:
        seconds = time.perf_counter() - started
        done.set()
        watcher.join()
    return {
        "rows": rows, "megabytes": round(len(payload) / 1e6, 1), "status": status, "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds) if status == 200 else 0,
        "worker_peak_mb": round(max(peak.values()), 1),
        "worker_growth_mb": round(max(peak[pid] - before[pid] for pid in workers), 1),
    }  # fmt: skip


def with_ratio(figures: dict, floor: dict) -> dict:
    return {**figures, "ratio_to_copy": round(figures["rows_per_second"] / floor["rows_per_second"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8600")))
    parser.add_argument("--small", action="store_true", help="10,000 bulk rows and a 28,000-row big upload")
    parser.add_argument("--only", nargs="*", default=WORKLOADS, choices=WORKLOADS, help="the COPY floor always runs")
    options = parser.parse_args()
    setup_django()
    from django.core.management import call_command

    from apikeys.models import Project
    from apikeys.services import api_key_create, project_create, user_get_or_create
    from bench import import_100k
    from sales.ledger.models import Sale, SaleLine
    from sales.uploads.models import Upload

    call_command("migrate", verbosity=0)
    floor = copy_floor()
    print("copy_floor", floor, flush=True)
    if "bulk_import_100k" in options.only:
        bulk = import_100k.run(rows=10_000 if options.small else 100_000)
        print("bulk_import_100k", with_ratio(bulk, floor), flush=True)
    owner = user_get_or_create(username="bench-uploads", password=uuid.uuid4().hex)
    projects = [
        project_create(slug=f"bench-up-{uuid.uuid4().hex[:8]}", name="Bench uploads", owner=owner, currency="EUR")
        for _ in range(2)
    ]
    Project.objects.filter(pk__in=[project.pk for project in projects]).update(rate_limit=2_000_000_000)
    keys = [api_key_create(project=project, name="bench", user=owner).secret for project in projects]
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-imports-server.log"
    server = Server(os.environ["DATABASE_URL"], options.port, log)
    try:
        if "custobar_upload_1000" in options.only:
            upload = custobar_upload_1000(server.url, keys, requests_per_client=5 if options.small else 15)
            print("custobar_upload_1000", with_ratio(upload, floor), flush=True)
        if "custobar_upload_49mb" in options.only:
            rows = 28_000 if options.small else BIG_UPLOAD_ROWS
            print(
                "custobar_upload_49mb",
                with_ratio(custobar_upload_big(server.url, keys[0], server.process.pid, rows), floor),
            )
    finally:
        server.stop()
        for project in projects:
            SaleLine.objects.filter(sale__project=project).delete()
            Sale.objects.filter(project=project).delete()
            Upload.objects.filter(project=project).delete()
            project.delete()


if __name__ == "__main__":
    main()
