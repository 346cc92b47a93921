"""Profile one workload in-process: N requests through Django's test client (the whole middleware stack,
the real views and SQL) against a freshly seeded benchmark database, under pyinstrument.

    BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/h_bench_me .venv/bin/python bench/profile.py floor
    .venv/bin/python bench/profile.py costtrack_create -n 500 --redis redis://127.0.0.1:6379/2 --lines 100

Seeds the small size (bench/seed.py; the database is dropped and created again), warms up with a few
requests, then profiles `-n` requests (as the benchmark's wrk scripts send them: each write a new
sale, invoice or transaction) and prints the mean wall time and SQL statements per request, and the
top of the profile's call tree (`--lines`; library frames folded, heaviest branches first). DEBUG is
off and connections persist, as under gunicorn; single-threaded, so this shows where one request's
time goes, not how requests compete. Wall time on a shared machine includes waiting for a core:
compare the branches' shares, and the CPU time pyinstrument prints, more than the seconds.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.queries import sample_requests, send  # noqa: E402
from bench.seed import DEFAULT_DATABASE, seed  # noqa: E402


def requests_for(seeded, session: str, workload: str, count: int):
    """`count` rounds of the workload's requests; unique ids made new in each round, as wrk's scripts do."""
    template = json.dumps(sample_requests(seeded, session)[workload])
    for index in range(count):
        yield json.loads(template.replace("sample-", f"profile{index}-"))


def run(client, session: str, rounds) -> int:
    """Send every request of `rounds`; returns how many were sent."""
    sent = 0
    for requests in rounds:
        created_id = None
        for request in requests:
            method, path, _, _ = request
            response = send(client, session, request, created_id)
            if response.status_code >= 500:
                sys.exit(f"{method.upper()} {path} answered {response.status_code}: {response.content[:500]!r}")
            if path == "/sells" and method == "post" and response.status_code == 201:
                created_id = response.json()["sell"]["id"]
            sent += 1
    return sent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="floor, costtrack_create, track_sale, sells_create_confirm, sells_list, ...")
    parser.add_argument("-n", "--requests", type=int, default=300, help="rounds of requests to profile")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--redis", default="", help="REDIS_URL for the rate limits (default: none, as in tests)")
    parser.add_argument("--full", action="store_true", help="seed the full size (200,000 sales) instead of small")
    parser.add_argument("--lines", type=int, default=60, help="how many lines of the call tree to print")
    args = parser.parse_args()

    os.environ["SALESLEDGER_BENCH_FLOOR"] = "1"
    os.environ["REDIS_URL"] = args.redis
    seeded = seed(args.database, small=not args.full)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from pyinstrument import Profiler

    settings.DEBUG = False
    call_command("collectstatic", interactive=False, verbosity=0)  # pages run with DEBUG off, as served
    owner = Client()
    owner.force_login(get_user_model().objects.get(username=seeded.owner_username))
    session = owner.cookies["sessionid"].value
    client = Client(raise_request_exception=False)
    run(client, session, requests_for(seeded, session, args.workload, 20))  # warm up: imports, caches, connection

    statements = 0

    def counted(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    # Rounds distinct from the warm-up's, so a write never replays an earlier one.
    rounds = list(requests_for(seeded, session, args.workload, 20 + args.requests))[20:]
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with connection.execute_wrapper(counted), profiler:
        sent = run(client, session, rounds)
    elapsed = time.perf_counter() - started

    print(f"\n{args.workload}: {sent} requests in {elapsed:.2f} s, {elapsed / sent * 1000:.2f} ms and "
          f"{statements / sent:.1f} SQL statements per request (Redis: {args.redis or 'none'})\n")  # fmt: skip
    # The call tree, library frames folded ("[n frames hidden]"), heaviest branches first.
    print("\n".join(profiler.output_text().splitlines()[: args.lines]))


if __name__ == "__main__":
    main()
