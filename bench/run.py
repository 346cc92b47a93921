"""The benchmark: every workload against the floor of the same server, on PostgreSQL.

    python3 dev.py bench            # full: 200,000 sales, 10 s per run, writes bench/results/latest.json
    python3 dev.py bench --small    # 2,000 sales, 5 s per run, for development (writes to /tmp)

Seeds a fresh database (bench/seed.py), counts each workload's SQL queries once with Django's test
client, starts gunicorn (2 x cores sync workers), drives it with wrk (one connection per wrk
thread, bench/wrk/*.lua) at several concurrency levels, runs the bulk import, then checks that the
ledger is right: `check_stock` passes and every workload wrote exactly as many rows as it got 2xx
answers. Prints one table and writes the figures as JSON. See bench/README.md.
"""

import argparse
import base64
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench.seed import CONTENDED_STOCK, DEFAULT_DATABASE, Seeded, database_env, seed  # noqa: E402

WRK = shutil.which("wrk") or "/usr/bin/wrk"
REFERENCE_CONNECTIONS = 16


@dataclass
class Workload:
    """One thing the benchmark measures.

    `expected` are the "kind:status" answers that are not errors; `rows` counts what the workload
    writes (None: it writes nothing) and `rows_per` says how many of those one expected answer of
    each kind stands for; `sample` makes one request with the test client, to count its queries.
    """

    name: str
    path: str
    levels: list[int]
    expected: set[str]
    rows: dict = field(default_factory=dict)  # kind:status -> (counter name, rows per answer)
    reference: int = REFERENCE_CONNECTIONS
    batch: int = 1  # sales per request
    warm_up: bool = True


# In the order they run: the reads first, over exactly the seeded 200,000 sales (the writes add
# tens of thousands of sales dated today, which would make "the last 30 days" another ledger).
WORKLOADS = [
    Workload("sells_list", "/sells", [4, 16, 64], {"list:200"}),
    Workload("dashboard", "/projects/bench/", [4, 16], {"page:200"}),
    Workload("costtrack_create", "/api/sales/create", [4, 16, 64], {"request:200"},
             rows={"request:200": ("costtrack_sales", 1)}),
    Workload("sells_create_confirm", "/sells", [4, 16], {"create:201", "confirm:200"},
             rows={"create:201": ("sells_sales", 1), "confirm:200": ("sells_confirmed", 1)}),
    Workload("custobar_upload_1000", "/api/sales/upload/", [2, 4], {"request:200"},
             rows={"request:200": ("custobar_sales", 1000)}, reference=4, batch=1000),
    Workload("connecteam_batch_100", "/sales/v1/transactions", [2, 4], {"request:200"},
             rows={"request:200": ("connecteam_sales", 100)}, reference=4, batch=100),
    Workload("track_sale", "/track/sale", [4, 16, 64], {"request:200"}, rows={"request:200": ("conversions", 1)}),
    # 409 is the expected refusal once the 10 products are sold out; it is not an error.
    Workload("contended_32", "/sells", [32], {"create:201", "create:409"}, rows={"create:201": ("sells_sales", 1)},
             reference=32, warm_up=False),
]  # fmt: skip


ORDER = [
    "costtrack_create", "sells_create_confirm", "sells_list", "custobar_upload_1000", "bulk_import_100k",
    "connecteam_batch_100", "track_sale", "contended_32", "dashboard",
]  # fmt: skip


def counters(seeded: Seeded) -> dict[str, int]:
    """Rows each workload writes, counted in the database."""
    from django.db import connection

    from sales.ledger.models import Sale
    from tracking.models import SaleEvent

    sales = Sale.objects.filter(project_id=seeded.project_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_floor")
        (floor_rows,) = cursor.fetchone()
    return {
        "floor_rows": floor_rows,
        "costtrack_sales": sales.filter(channel="costtrack").count(),
        "sells_sales": sales.filter(channel="sells").count(),
        "sells_confirmed": sales.filter(channel="sells", status="confirmed").count(),
        "custobar_sales": sales.filter(channel="custobar").count(),
        "connecteam_sales": sales.filter(channel="connecteam").count(),
        "conversions": SaleEvent.objects.filter(project_id=seeded.project_id).count(),
    }


# Requests ------------------------------------------------------------------------------------


def basic_credentials(key: str) -> str:
    """HTTP Basic with the key as user name and no password, as custobar clients send it."""
    return base64.b64encode(f"{key}:".encode()).decode()


def lua_args(seeded: Seeded, files: dict[str, Path], session: str, workload: str) -> list[str]:
    products = files["contended" if workload == "contended_32" else "products"]
    if workload == "custobar_upload_1000":
        products = files["external_ids"]
    return [
        f"key={seeded.api_key}",
        f"basic={basic_credentials(seeded.api_key)}",
        f"products={products}",
        f"customers={files['customers']}",
        f"location={seeded.location_id}",
        f"session={session}",
        f"project={seeded.project_slug}",
    ]


def sample_requests(seeded: Seeded, session: str) -> dict:
    """One request per workload (two for create-then-confirm), as wrk sends them, for the test client."""
    product, others = seeded.products[0], seeded.products[1:4]
    bearer = {"Authorization": f"Bearer {seeded.api_key}"}
    three = [{"productId": other, "quantity": 1, "price": 12.5} for other in others]
    ten = [{"productId": other, "quantity": 1} for other in seeded.products[:10]]
    rows = [
        {"sale_external_id": f"sample-{index}", "sale_customer_id": seeded.customers[0],
         "sale_date": "2026-01-15T10:00:00Z", "external_id": f"sample-{index}-1",
         "product_id": seeded.product_external_ids[index % len(seeded.product_external_ids)],
         "unit_price": 1250, "quantity": 2}
        for index in range(1000)
    ]  # fmt: skip
    transactions = [
        {"locationId": seeded.location_id, "saleType": "SALE", "createdAt": int(time.time()) - index,
         "finalSaleAmount": 42.1, "taxAmount": 1.5, "currency": "USD"}
        for index in range(100)
    ]  # fmt: skip
    track = {
        "customerExternalId": seeded.customers[0], "amount": 1999, "currency": "usd", "eventName": "Purchase",
        "paymentProcessor": "stripe", "invoiceId": "sample-invoice", "metadata": None, "leadEventName": None,
        "clickId": None, "customerName": None, "customerEmail": None, "customerAvatar": None,
    }  # fmt: skip
    return {
        "floor": [("post", "/bench/floor", {}, bearer)],
        "costtrack_create": [("post", "/api/sales/create", {"productId": product, "quantity": 1,
                              "sellingPrice": 19.99, "category": "bench", "deductInventory": True}, bearer)],
        "sells_create_confirm": [("post", "/sells", {"products": three}, bearer),
                                 ("put", "/sells/confirm/{id}", {}, bearer)],
        "sells_list": [("get", "/sells", None, bearer)],
        "custobar_upload_1000": [("post", "/api/sales/upload/", {"sales": rows},
                                  {"Authorization": f"Basic {basic_credentials(seeded.api_key)}"})],
        "connecteam_batch_100": [("post", "/sales/v1/transactions", {"transactionsCreateRequest": transactions},
                                  {"X-API-KEY": seeded.api_key})],
        "track_sale": [("post", "/track/sale", track, bearer)],
        "contended_32": [("post", "/sells", {"products": ten}, bearer)],
        "dashboard": [("get", f"/projects/{seeded.project_slug}/", None, {"Cookie": f"sessionid={session}"})],
    }  # fmt: skip


def count_queries(seeded: Seeded, session: str) -> dict[str, dict]:
    """SQL queries per request of each workload, counted once with Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results = {}
    # Record the key's last use first (written at most once a minute), so no sample pays for it.
    Client().post("/bench/floor", headers={"Authorization": f"Bearer {seeded.api_key}"})
    for name, requests in sample_requests(seeded, session).items():
        client = Client(raise_request_exception=False)
        counts, statuses, sql, created_id = [], [], [], None
        for method, path, body, headers in requests:
            path = path.replace("{id}", str(created_id))
            if "Cookie" in headers:
                client.cookies["sessionid"] = session
                headers = {}
            kwargs = {"headers": headers}
            if body is not None:
                kwargs.update(data=json.dumps(body), content_type="application/json")
            with CaptureQueriesContext(connection) as queries:
                response = getattr(client, method)(path, **kwargs)
            counts.append(len(queries))
            statuses.append(response.status_code)
            sql.extend(query["sql"] for query in queries.captured_queries)
            if name == "sells_create_confirm" and response.status_code == 201:
                created_id = response.json()["sell"]["id"]
        results[name] = {"queries": counts, "statuses": statuses}
        if name in PLANNED:
            results[name]["plans"] = plans(sql)
    return results


# The read paths whose plans the report shows: they must walk an index, never the 200,000 sales.
PLANNED = {"sells_list", "dashboard"}
LEDGER_TABLES = (
    "sales_sale", "sales_saleline", "sales_salestally", "sales_productsales", "inventory_stock", "tracking_saleevent",
)  # fmt: skip


def plans(statements: list[str]) -> list[dict]:
    """The indexes PostgreSQL uses for each ledger query (EXPLAIN, not run), and any table it scans whole."""
    from django.db import connection

    found = []
    with connection.cursor() as cursor:
        for statement in statements:
            if not statement.lstrip().upper().startswith("SELECT") or not any(t in statement for t in LEDGER_TABLES):
                continue
            cursor.execute(f"EXPLAIN {statement}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            found.append({
                "query": statement[:120],
                "indexes": sorted(set(re.findall(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\w+)", plan))),
                "seq_scans": sorted(set(re.findall(r"Seq Scan on (\w+)", plan))),
            })  # fmt: skip
    return found


# The server and the load generator ------------------------------------------------------------


class Server:
    """gunicorn with 2 x cores sync workers, started and stopped by the benchmark."""

    def __init__(self, database_url: str, port: int, log: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.workers = 2 * (os.cpu_count() or 1)
        env = {**database_env(database_url), "SALESLEDGER_BENCH_FLOOR": "1", "LOG_LEVEL": "ERROR"}
        command = [
            sys.executable, "-m", "gunicorn", "salesledger.wsgi", "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log), "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                sys.exit(f"gunicorn did not start; see {log}")
            time.sleep(0.3)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def run_wrk(server: Server, script: str, connections: int, seconds: int, args: list[str]) -> dict:
    """One wrk run of about `seconds`, until every thread has had the answer to its last request.

    rps is counted over the whole run, from start until the last thread stopped.
    """
    started = time.time()
    deadline = math.ceil(started + seconds)
    with tempfile.TemporaryDirectory(prefix="wrk-stop-") as stopdir:
        command = [
            WRK, "-t", str(connections), "-c", str(connections), "-d", f"{deadline - int(started) + 60}s",
            "--timeout", "30s", "--latency", "-s", f"{script}.lua", server.url, "--",
            f"deadline={deadline}", f"run={int(started * 1000)}", f"stopdir={stopdir}", *args,
        ]  # fmt: skip
        wrk = subprocess.Popen(command, cwd=BENCH / "wrk", stdout=subprocess.PIPE, text=True)
        while wrk.poll() is None and len(os.listdir(stopdir)) < connections:
            time.sleep(0.05)
        finished = time.time()
        if wrk.poll() is None:
            wrk.send_signal(signal.SIGINT)  # wrk then prints its summary at once
        output = wrk.communicate()[0]
    line = next((line for line in output.splitlines() if line.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    result["seconds"] = finished - started
    return result


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


def export_check(server: Server, seeded: Seeded, session: str) -> dict:
    """Download the CSV of every sale through the server, as the owner: how long, how soon the first
    byte came, how many rows, and how much any worker grew meanwhile (streamed: it should not)."""
    master = server.process.pid
    workers = [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    before = {pid: _rss_mb(pid) for pid in workers}
    peak = dict(before)
    url = f"{server.url}/projects/{seeded.project_slug}/sales.csv?period=all"
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})
    started, first_byte, lines = time.perf_counter(), None, 0
    with urllib.request.urlopen(request, timeout=600) as response:
        while chunk := response.read(1 << 16):
            first_byte = first_byte or time.perf_counter() - started
            lines += chunk.count(b"\n")
            for pid in workers:
                peak[pid] = max(peak[pid], _rss_mb(pid))
    return {
        "rows": lines - 1,
        "seconds": round(time.perf_counter() - started, 2),
        "first_byte_ms": round(first_byte * 1000, 1),
        "worker_memory_growth_mb": round(max(peak[pid] - before[pid] for pid in workers), 1),
    }


def summarise(result: dict, expected: set[str], connections: int) -> dict:
    unexpected = sum(count for key, count in result["statuses"].items() if key not in expected)
    return {
        "connections": connections,
        "requests": result["requests"],
        "rps": round(result["requests"] / result["seconds"], 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "errors": unexpected + result["socket_errors"] + result["timeouts"],
        "statuses": dict(sorted(result["statuses"].items())),
    }


# The run --------------------------------------------------------------------------------------


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))  # fmt: skip
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    return (
        f"{os.cpu_count()} cores ({model}), {memory_kb // 1024 // 1024} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, PostgreSQL {pg_version.split()[0]}"
    )


def endpoint_missing(path: str) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return f"{path} has not landed yet"
    return None


def bulk_import(rows: int) -> dict:
    """The custobar bulk import command on `rows` rows, timed end to end by bench/import_100k.py."""
    from django.core.management import get_commands

    if "import_sales_rows" not in get_commands():
        return {"skipped": "the import_sales_rows command has not landed yet"}
    from bench import import_100k

    figures = import_100k.run(rows=rows)
    return {key: figures[key] for key in ("rows", "seconds", "rows_per_second", "python_cpu_seconds",
                                          "postgres_cpu_seconds", "grown_mb", "result") if key in figures}  # fmt: skip


def check_stock(database_url: str) -> dict:
    completed = subprocess.run([sys.executable, "manage.py", "check_stock"], cwd=ROOT,
                               env=database_env(database_url), capture_output=True, text=True)  # fmt: skip
    return {"passed": completed.returncode == 0, "output": (completed.stdout + completed.stderr).strip()[-2000:]}


def contended_check(seeded: Seeded, results: list[dict]) -> dict:
    """The 10 contended products: each has exactly one unit reserved per sale that was answered 201
    (each sale takes one unit of each), never more than its stock."""
    from inventory.models import Stock

    runs = next((r["levels"] for r in results if r["name"] == "contended_32" and "levels" in r), None)
    if runs is None:
        return {"skipped": "contended_32 did not run"}
    sold = sum(run["statuses"].get("create:201", 0) for run in runs)
    stocks = list(Stock.objects.filter(product_id__in=seeded.contended, variant__isnull=True))
    return {
        "stock_per_product": CONTENDED_STOCK,
        "sales_answered_201": sold,
        "reserved_per_product": sorted({stock.reserved for stock in stocks}),
        "passed": len(stocks) == len(seeded.contended)
        and all(stock.reserved == sold <= stock.on_hand == CONTENDED_STOCK for stock in stocks),
    }


def table(report: dict) -> str:
    """The report as the Markdown table bench/README.md shows (it reads as well in a terminal)."""
    floor = report["floor"]
    lines = [
        f"{report['date']} · {report['machine']} · {report['server']}",
        "Load average (1, 5, 15 min) before "
        + " / ".join(f"{load:.2f}" for load in report["load_average"]["before"])
        + ", after "
        + " / ".join(f"{load:.2f}" for load in report["load_average"]["after"])
        + ".",
        "",
        "| workload | connections | req/s | p50 ms | p99 ms | x floor | errors | queries/request |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for level in floor["levels"]:
        lines.append(
            f"| floor | {level['connections']} | {level['rps']} | {level['p50_ms']} | {level['p99_ms']} | 1.0 "
            f"| {level['errors']} | {floor['queries_per_request']} |"
        )
    for workload in report["workloads"]:
        name = workload["name"]
        if "skipped" in workload:
            lines.append(f"| {name} | skipped: {workload['skipped']} |||||||")
        elif "levels" not in workload:
            lines.append(
                f"| {name} | {workload['rows']:,} rows in **{workload['seconds']} s** "
                f"({workload['rows_per_second']:,} rows/s) |||||||"
            )
        else:
            queries = workload["queries_per_request"]
            queries = " + ".join(map(str, queries)) if isinstance(queries, list) else queries
            for level in workload["levels"]:
                rps = f"{level['rps']} ({level['sales_per_s']:,} sales/s)" if "sales_per_s" in level else level["rps"]
                lines.append(
                    f"| {name} | {level['connections']} | {rps} | {level['p50_ms']} | {level['p99_ms']} "
                    f"| {level['ratio_to_floor']} | {level['errors']} | {queries} |"
                )
    export = report.get("csv_export_all_sales")
    if export:
        lines += [
            "",
            f"CSV export of all {export['rows']:,} sales: {export['seconds']} s, first byte after "
            f"{export['first_byte_ms']} ms, worker memory grew {export['worker_memory_growth_mb']} MB.",
        ]
    correctness = report["correctness"]
    contended = correctness["contended"]
    contended_text = (
        "skipped"
        if "skipped" in contended
        else f"{contended['sales_answered_201']} sales of {contended['stock_per_product']} units, "
        f"{'never oversold' if contended['passed'] else 'WRONG'}"
    )
    lines += [
        "",
        f"Correctness: check_stock {'passed' if correctness['check_stock']['passed'] else 'FAILED'}; rows written "
        f"= 2xx answers: {'yes' if correctness['rows_match_2xx'] else 'NO'}; contended: {contended_text}.",
        *(f"- {mismatch}" for mismatch in correctness["mismatches"]),
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2,000 sales and 5 s runs, for development")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8110")))
    parser.add_argument("--seconds", type=int, help="length of each measured run (default 10, 5 with --small)")
    parser.add_argument("--only", nargs="*", help="run only these workloads (the floor always runs)")
    parser.add_argument("--output", type=Path, help="JSON file (default bench/results/latest.json; /tmp with --small)")
    parser.add_argument("--table", type=Path, metavar="JSON", help="only print the table of an earlier report")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return
    seconds = args.seconds or (5 if args.small else 10)
    output = args.output or (Path(tempfile.gettempdir()) / "salesledger-bench-small.json" if args.small
                             else BENCH / "results" / "latest.json")  # fmt: skip
    started, load_before = time.perf_counter(), os.getloadavg()

    os.environ["SALESLEDGER_BENCH_FLOOR"] = "1"  # the floor's URL, also for counting its queries here
    print(f"seeding {args.database} ...", flush=True)
    seeded = seed(args.database, small=args.small)
    print(f"seeded in {seeded.seconds} s: {seeded.counts}", flush=True)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("collectstatic", interactive=False, verbosity=0)  # pages run with DEBUG off, as served

    owner_client = Client()
    owner_client.force_login(get_user_model().objects.get(username=seeded.owner_username))
    session = owner_client.cookies["sessionid"].value
    workloads = [w for w in WORKLOADS if not args.only or w.name in args.only]
    skipped = {w.name: reason for w in workloads if (reason := endpoint_missing(w.path))}
    queries = count_queries(seeded, session)

    data = Path(tempfile.mkdtemp(prefix="salesledger-bench-"))
    files = {name: data / f"{name}.txt" for name in ("products", "external_ids", "customers", "contended")}
    files["products"].write_text("\n".join(seeded.products) + "\n")
    files["external_ids"].write_text("\n".join(seeded.product_external_ids) + "\n")
    files["customers"].write_text("\n".join(seeded.customers) + "\n")
    files["contended"].write_text("\n".join(seeded.contended) + "\n")

    levels = sorted({level for w in workloads if w.name not in skipped for level in w.levels} | {REFERENCE_CONNECTIONS})
    server = Server(args.database, args.port, BENCH / "results" / "server.log")
    results, mismatches = [], []
    try:
        common = lua_args(seeded, files, session, "floor")
        run_wrk(server, "floor", 4, 2, common)  # warm every worker up
        floor = {level: summarise(run_wrk(server, "floor", level, seconds, common), {"request:201"}, level)
                 for level in levels}  # fmt: skip
        for workload in workloads:
            if workload.name in skipped:
                results.append({"name": workload.name, "skipped": skipped[workload.name]})
                continue
            lua = lua_args(seeded, files, session, workload.name)
            if workload.warm_up:
                run_wrk(server, workload.name, 4, 2, lua)
            measured = []
            for level in workload.levels:
                before = counters(seeded)
                result = run_wrk(server, workload.name, level, seconds, lua)
                after = counters(seeded)
                summary = summarise(result, workload.expected, level)
                summary["ratio_to_floor"] = round(summary["rps"] / floor[level]["rps"], 2)
                for key, (counter, per) in workload.rows.items():
                    answered, written = result["statuses"].get(key, 0) * per, after[counter] - before[counter]
                    if answered != written:
                        mismatches.append(
                            f"{workload.name} c={level}: {written} {counter} written, {answered} answered"
                        )
                if workload.batch > 1:
                    summary["sales_per_s"] = round(summary["rps"] * workload.batch)
                measured.append(summary)
                print(f"  {workload.name} c={level}: {summary}", flush=True)
            reference = next(m for m in measured if m["connections"] == workload.reference)
            sample = queries[workload.name]
            results.append({
                "name": workload.name,
                "connections": workload.reference,
                **{key: reference[key] for key in ("rps", "p50_ms", "p99_ms", "ratio_to_floor", "errors", "sales_per_s")
                   if key in reference},
                "queries_per_request": sample["queries"][0] if len(sample["queries"]) == 1 else sample["queries"],
                "levels": measured,
            })  # fmt: skip
        print("CSV export of every sale ...", flush=True)
        export = export_check(server, seeded, session)
    finally:
        server.stop()
    if not args.only or "bulk_import_100k" in args.only:
        print("bulk import ...", flush=True)
        results.append({"name": "bulk_import_100k", **bulk_import(10_000 if args.small else 100_000)})
    results.sort(key=lambda result: ORDER.index(result["name"]))
    stock = check_stock(args.database)
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        # The machine may be shared: its load (1, 5, 15 min) before and after says how much to trust the figures.
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "size": "small" if args.small else "full",
        "seeded": {**seeded.counts, "seconds": seeded.seconds},
        "server": f"gunicorn, {server.workers} sync workers; wrk, one connection per thread, {seconds} s per run",
        "floor": {key: floor[REFERENCE_CONNECTIONS][key] for key in ("rps", "p50_ms", "p99_ms")}
        | {"queries_per_request": queries["floor"]["queries"][0], "levels": list(floor.values())},
        "workloads": results,
        "csv_export_all_sales": export,
        "query_samples": queries,
        "correctness": {
            "check_stock": stock,
            "rows_match_2xx": not mismatches,
            "mismatches": mismatches,
            "contended": contended_check(seeded, results),
        },
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print("\n" + table(report))
    print(f"\nwritten to {output} in {report['total_seconds']} s")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
