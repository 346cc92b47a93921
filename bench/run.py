"""The benchmark: every workload against the floor of the same server, on PostgreSQL.

    python3 dev.py bench            # full: 200,000 sales, 10 s per run, writes bench/results/latest.json
    python3 dev.py bench --small    # 2,000 sales, 5 s per run, for development (writes to /tmp)

Seeds a fresh database (bench/seed.py), counts each workload's SQL queries once with Django's test
client, starts gunicorn (2 x cores sync workers), drives it with wrk (one connection per wrk
thread, bench/wrk/*.lua) at several concurrency levels, runs the bulk import, then checks that the
ledger is right: `check_stock` passes and every workload wrote exactly as many rows as it got 2xx
answers. Prints one table and writes the figures as JSON. See bench/README.md.

The query counting is bench/queries.py, the server and wrk bench/load.py, the data bench/seed.py.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench.imports import BIG_UPLOAD_ROWS, copy_floor, custobar_upload_big, with_ratio  # noqa: E402
from bench.load import Server, export_check, lua_args, run_wrk, summarise  # noqa: E402
from bench.queries import basic_credentials, count_queries  # noqa: E402
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
    # Two connections: a server runs HEAVY_REQUESTS uploads at once (half its workers, here 2) and answers
    # 429 to any more by design, so more connections measure that refusal, not the import.
    Workload("custobar_upload_1000", "/api/sales/upload/", [2], {"request:200"},
             rows={"request:200": ("custobar_sales", 1000)}, reference=2, batch=1000),
    Workload("connecteam_batch_100", "/sales/v1/transactions", [2, 4], {"request:200"},
             rows={"request:200": ("connecteam_sales", 100)}, reference=4, batch=100),
    Workload("track_sale", "/track/sale", [4, 16, 64], {"request:200"}, rows={"request:200": ("conversions", 1)}),
    # 409 is the expected refusal once the 10 products are sold out; it is not an error.
    Workload("contended_32", "/sells", [32], {"create:201", "create:409"}, rows={"create:201": ("sells_sales", 1)},
             reference=32, warm_up=False),
]  # fmt: skip


ORDER = [
    "copy_floor", "costtrack_create", "sells_create_confirm", "sells_list", "custobar_upload_1000",
    "custobar_upload_49mb", "bulk_import_100k", "connecteam_batch_100", "track_sale", "contended_32", "dashboard",
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
        # (every project's: the uploads run in projects of their own, `Seeded.upload_keys`)
        "custobar_sales": Sale.objects.filter(channel="custobar").count(),
        "connecteam_sales": sales.filter(channel="connecteam").count(),
        "conversions": SaleEvent.objects.filter(project_id=seeded.project_id).count(),
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
    redis = report.get("redis")
    lines = [
        f"{report['date']} · {report['machine']} · {report['server']} · rate limits in "
        + (f"Redis ({redis})" if redis else "the database (no Redis)"),
        "Load average (1, 5, 15 min) before "
        + " / ".join(f"{load:.2f}" for load in report["load_average"]["before"])
        + ", after "
        + " / ".join(f"{load:.2f}" for load in report["load_average"]["after"])
        + ".",
        "",
        "| workload | connections | req/s | p50 ms | p99 ms | x floor | x bare floor | errors | queries/request |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    bare = {level["connections"]: level for level in report.get("bare_floor", {}).get("levels", [])}

    def x_bare(level: dict) -> str:
        return level.get("ratio_to_bare", "") if bare else ""

    for level in bare.values():
        lines.append(
            f"| bare floor | {level['connections']} | {level['rps']} | {level['p50_ms']} | {level['p99_ms']} | "
            f"| 1.0 | {level['errors']} | 2 |"
        )
    for level in floor["levels"]:
        ratio = round(level["rps"] / bare[level["connections"]]["rps"], 2) if level["connections"] in bare else ""
        lines.append(
            f"| floor | {level['connections']} | {level['rps']} | {level['p50_ms']} | {level['p99_ms']} | 1.0 "
            f"| {ratio} | {level['errors']} | {floor['queries_per_request']} |"
        )
    for name, level in report.get("without_redis", {}).items():
        lines.append(
            f"| {name}, no Redis | {level['connections']} | {level['rps']} | {level['p50_ms']} | {level['p99_ms']} "
            f"| {level.get('ratio_to_floor', 1.0)} | {level['ratio_to_bare']} | {level['errors']} "
            f"| {level['queries_per_request']} |"
        )
    for workload in report["workloads"]:
        name = workload["name"]
        if "skipped" in workload:
            lines.append(f"| {name} | skipped: {workload['skipped']} ||||||||")
        elif "levels" not in workload:
            extra = "".join([
                f", {workload['ratio_to_copy']} x COPY" if "ratio_to_copy" in workload else "",
                f", answered {workload['status'] or 'nothing'}" if "status" in workload else "",
                f", worker peak {workload['worker_peak_mb']} MB" if "worker_peak_mb" in workload else "",
            ])  # fmt: skip
            lines.append(
                f"| {name} | {workload['rows']:,} rows in **{workload['seconds']} s** "
                f"({workload['rows_per_second']:,} rows/s{extra}) ||||||||"
            )
        else:
            queries = workload["queries_per_request"]
            queries = " + ".join(map(str, queries)) if isinstance(queries, list) else queries
            for level in workload["levels"]:
                rps = f"{level['rps']} ({level['sales_per_s']:,} sales/s)" if "sales_per_s" in level else level["rps"]
                if "ratio_to_copy" in level:
                    rps = f"{rps[:-1]}, {level['ratio_to_copy']} x COPY)"
                lines.append(
                    f"| {name} | {level['connections']} | {rps} | {level['p50_ms']} | {level['p99_ms']} "
                    f"| {level['ratio_to_floor']} | {x_bare(level)} | {level['errors']} | {queries} |"
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
        *(f"Request log ({log['server']}): {log['rows']:,} rows for {log['api_answers']:,} API answers"
          f"{'' if log['passed'] else ' (MISMATCH)'}." for log in correctness.get("request_log", [])),
    ]  # fmt: skip
    return "\n".join(lines)


DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# Run again without Redis (rate limits counted in the database), at 16 connections, after the floor.
WITHOUT_REDIS = ["costtrack_create"]
DATABASE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "salesledger_cache"}
}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def rows_mismatches(workload: Workload, result: dict, before: dict, after: dict, label: str) -> list[str]:
    """Where a wrk run wrote other than one row (or batch) per expected answer."""
    mismatches = []
    for key, (counter, per) in workload.rows.items():
        answered, written = result["statuses"].get(key, 0) * per, after[counter] - before[counter]
        if answered != written:
            mismatches.append(f"{label}: {written} {counter} written, {answered} answered")
    return mismatches


def request_log_check(server: Server, since, until) -> dict:
    """Every API answer the server gave (all of wrk's, the dashboard's pages aside) has its request log
    row, counted after the server stopped: its workers write the rows they hold as they exit."""
    from apikeys.models import RequestLog

    answered = sum(count for script, count in server.answered.items() if script != "dashboard")
    logged = RequestLog.objects.filter(created_at__gte=since, created_at__lt=until).count()
    return {"server": "redis" if server.redis_url else "no redis", "api_answers": answered, "rows": logged,
            "passed": answered == logged}  # fmt: skip


def measure_without_redis(database, port, seeded, files, session, seconds, bare, queries, mismatches):
    """The floor and the WITHOUT_REDIS workloads at 16 connections on a server without Redis."""
    server = Server(database, port, BENCH / "results" / "server-without-redis.log")
    since = now()
    try:
        floor = measure_floor(server, [REFERENCE_CONNECTIONS], 10 if seconds > 5 else seconds,
                              lua_args(seeded, files, session, "floor"), stop=False)[REFERENCE_CONNECTIONS]  # fmt: skip
        floor["ratio_to_bare"] = round(floor["rps"] / bare[REFERENCE_CONNECTIONS]["rps"], 2)
        figures = {"floor": floor | {"queries_per_request": queries["floor"]["queries"][0]}}
        for workload in (w for w in WORKLOADS if w.name in WITHOUT_REDIS):
            lua = lua_args(seeded, files, session, workload.name)
            run_wrk(server, workload.name, 4, 2, lua)
            before = counters(seeded)
            result = run_wrk(server, workload.name, REFERENCE_CONNECTIONS, seconds, lua)
            after = counters(seeded)
            summary = summarise(result, workload.expected, REFERENCE_CONNECTIONS)
            summary["ratio_to_floor"] = round(summary["rps"] / floor["rps"], 2)
            summary["ratio_to_bare"] = round(summary["rps"] / bare[REFERENCE_CONNECTIONS]["rps"], 2)
            summary["queries_per_request"] = queries[workload.name]["queries"][0]
            mismatches += rows_mismatches(workload, result, before, after, f"{workload.name} without Redis")
            figures[workload.name] = summary
            print(f"  {workload.name} without Redis: {summary}", flush=True)
    finally:
        server.stop()
    return figures, request_log_check(server, since, now())


def measure_floor(server: Server, levels: list[int], seconds: int, lua: list[str], stop: bool = True) -> dict:
    """The floor endpoint at each level (after a warm-up of every worker): {connections: summary}."""
    try:
        run_wrk(server, "floor", 4, 2, lua)
        return {level: summarise(run_wrk(server, "floor", level, seconds, lua), {"request:201"}, level)
                for level in levels}  # fmt: skip
    finally:
        if stop:
            server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2,000 sales and 5 s runs, for development")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8110")))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
                        help="REDIS_URL of the server, as in production ('' for none)")  # fmt: skip
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
    redis_url = args.redis if args.redis and redis_answers(args.redis) else ""
    if args.redis and not redis_url:
        print(f"Redis does not answer at {args.redis}: the whole run counts rate limits in the database", flush=True)
    os.environ["REDIS_URL"] = redis_url  # the queries counted here are the server's
    print(f"seeding {args.database} ...", flush=True)
    seeded = seed(args.database, small=args.small)
    print(f"seeded in {seeded.seconds} s: {seeded.counts}", flush=True)
    # The ceiling of every import, measured in this run: the import workloads report their ratio to it.
    floor_copy = {"name": "copy_floor", **copy_floor()}

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client, override_settings

    call_command("collectstatic", interactive=False, verbosity=0)  # pages run with DEBUG off, as served

    owner_client = Client()
    owner_client.force_login(get_user_model().objects.get(username=seeded.owner_username))
    session = owner_client.cookies["sessionid"].value
    workloads = [w for w in WORKLOADS if not args.only or w.name in args.only]
    skipped = {w.name: reason for w in workloads if (reason := endpoint_missing(w.path))}
    queries = count_queries(seeded, session)
    if redis_url:
        with override_settings(CACHES=DATABASE_CACHE):
            queries_without_redis = count_queries(seeded, session, only={"floor", *WITHOUT_REDIS})

    data = Path(tempfile.mkdtemp(prefix="salesledger-bench-"))
    files = {name: data / f"{name}.txt" for name in ("products", "external_ids", "customers", "contended", "uploads")}
    files["products"].write_text("\n".join(seeded.products) + "\n")
    files["external_ids"].write_text("\n".join(seeded.product_external_ids) + "\n")
    files["customers"].write_text("\n".join(seeded.customers) + "\n")
    files["contended"].write_text("\n".join(seeded.contended) + "\n")
    files["uploads"].write_text("\n".join(map(basic_credentials, seeded.upload_keys)) + "\n")

    levels = sorted({level for w in workloads if w.name not in skipped for level in w.levels} | {REFERENCE_CONNECTIONS})
    common = lua_args(seeded, files, session, "floor")
    bare = measure_floor(Server(args.database, args.port + 1, BENCH / "results" / "bare.log", app="bench.bare_floor"),
                         levels, seconds, common)  # fmt: skip
    server = Server(args.database, args.port, BENCH / "results" / "server.log", redis_url=redis_url)
    results, mismatches = [], []
    logged_since, logged_until = now(), None
    try:
        floor = measure_floor(server, levels, seconds, common, stop=False)
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
                summary["ratio_to_bare"] = round(summary["rps"] / bare[level]["rps"], 2)
                mismatches += rows_mismatches(workload, result, before, after, f"{workload.name} c={level}")
                if workload.batch > 1:  # the sales of the answers expected (a refused upload wrote none)
                    expected = sum(count for key, count in result["statuses"].items() if key in workload.expected)
                    summary["sales_per_s"] = round(expected / result["seconds"] * workload.batch)
                if workload.name == "custobar_upload_1000":
                    summary["ratio_to_copy"] = round(summary["sales_per_s"] / floor_copy["rows_per_second"], 3)
                measured.append(summary)
                print(f"  {workload.name} c={level}: {summary}", flush=True)
            reference = next(m for m in measured if m["connections"] == workload.reference)
            sample = queries[workload.name]
            results.append({
                "name": workload.name,
                "connections": workload.reference,
                **{key: reference[key]
                   for key in ("rps", "p50_ms", "p99_ms", "ratio_to_floor", "ratio_to_bare", "errors", "sales_per_s")
                   if key in reference},
                "queries_per_request": sample["queries"][0] if len(sample["queries"]) == 1 else sample["queries"],
                "levels": measured,
            })  # fmt: skip
        print("CSV export of every sale ...", flush=True)
        export = export_check(server, seeded, session)
        logged_until = now()  # the request log check covers every wrk run, not the upload below
        if not args.only or "custobar_upload_49mb" in args.only:
            print("one 49 MB custobar upload ...", flush=True)
            big = custobar_upload_big(server.url, seeded.api_key, server.process.pid,
                                      BIG_UPLOAD_ROWS // 10 if args.small else BIG_UPLOAD_ROWS)  # fmt: skip
            results.append({"name": "custobar_upload_49mb", **with_ratio(big, floor_copy)})
    finally:
        server.stop()  # its workers write the request log rows they still hold as they stop
    request_log = [request_log_check(server, logged_since, logged_until or now())]
    without_redis = {}
    if redis_url:
        print("without Redis ...", flush=True)
        without_redis, log = measure_without_redis(args.database, args.port, seeded, files, session, seconds,
                                                   bare, queries_without_redis, mismatches)  # fmt: skip
        request_log.append(log)
    results.append(floor_copy)
    if not args.only or "bulk_import_100k" in args.only:
        print("bulk import ...", flush=True)
        bulk = bulk_import(10_000 if args.small else 100_000)
        results.append({"name": "bulk_import_100k", **(with_ratio(bulk, floor_copy) if "rows" in bulk else bulk)})
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
        | {
            "ratio_to_bare": round(floor[REFERENCE_CONNECTIONS]["rps"] / bare[REFERENCE_CONNECTIONS]["rps"], 2),
            "queries_per_request": queries["floor"]["queries"][0],
            "levels": list(floor.values()),
        },
        "bare_floor": {key: bare[REFERENCE_CONNECTIONS][key] for key in ("rps", "p50_ms", "p99_ms")}
        | {"levels": list(bare.values())},
        "redis": redis_url or None,
        "without_redis": without_redis,
        "workloads": results,
        "csv_export_all_sales": export,
        "query_samples": queries,
        "correctness": {
            "check_stock": stock,
            "rows_match_2xx": not mismatches,
            "mismatches": mismatches,
            "contended": contended_check(seeded, results),
            "request_log": request_log,
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
