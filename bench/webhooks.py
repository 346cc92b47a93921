"""Events and webhooks: what recording an event costs `costtrack_create`, and webhook deliveries per
second by 2 real `manage.py run_tasks` workers (TASKS_BACKEND=database) to a receiver on 127.0.0.1.

    .venv/bin/python bench/webhooks.py [--database postgres://root@127.0.0.1:5432/h_bench]
        [--events 2000] [--creates 500] [--ports 8800-8899]

The database is dropped, migrated and seeded again (bench/seed.py, small size). Then:
1. One `POST /api/sales/create` with `deductInventory`, its statements listed (Django's test client and
   `CaptureQueriesContext`): the event's INSERT marked, with and without an enabled webhook endpoint.
2. `--events` events recorded by `event_record`, one transaction each (as one change each), for one
   endpoint wanting every type; 2 workers are started and timed until the receiver verified (with
   `standardwebhooks`) every one of them.
3. `--creates` creates in-process without and as many with the enabled endpoint (alternating rounds):
   wall time per create, its SQL time and the event INSERT's.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import DEFAULT_DATABASE, database_env, seed  # noqa: E402

EVENT_INSERT = 'INSERT INTO "events_event"'


class Receiver(ThreadingHTTPServer):
    """Answers 200 to every POST and counts the distinct deliveries whose signature verifies."""

    daemon_threads = True

    def __init__(self, address, *, expected: int):
        super().__init__(address, Handler)
        self.expected = expected
        self.webhook = None  # a standardwebhooks.Webhook, set once the endpoint (and its secret) exists
        self.verified: set[str] = set()
        self.refused = 0
        self.first = self.last = 0.0
        self.lock = threading.Lock()
        self.complete = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server
        try:
            server.webhook.verify(body, dict(self.headers))
            verified = True
        except Exception:
            verified = False
        with server.lock:
            now = time.perf_counter()
            server.first = server.first or now
            if verified:
                server.verified.add(self.headers["webhook-id"])
                server.last = now
            else:
                server.refused += 1
            if len(server.verified) >= server.expected:
                server.complete.set()
        self.send_response(200 if verified else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def receiver_start(ports: range, **kwargs) -> Receiver:
    for port in ports:
        try:
            server = Receiver(("127.0.0.1", port), **kwargs)
            break
        except OSError:
            continue
    else:
        raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def create_request(client, seeded) -> int:
    body = {"productId": seeded.products[0], "quantity": 1, "sellingPrice": 19.99, "category": "bench",
            "deductInventory": True}  # fmt: skip
    response = client.post(
        "/api/sales/create", data=json.dumps(body), content_type="application/json",
        headers={"Authorization": f"Bearer {seeded.api_key}"},
    )  # fmt: skip
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return response.status_code


def statements(client, seeded) -> list[str]:
    """The statements of one create, after one that writes the key's last use (at most once a minute)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    create_request(client, seeded)
    with CaptureQueriesContext(connection) as queries:
        create_request(client, seeded)
    return [query["sql"] for query in queries.captured_queries]


def statements_print(title: str, sql: list[str]) -> None:
    print(f"\n{title}: {len(sql)} statements")
    for number, statement in enumerate(sql, 1):
        mark = "  <- the event" if statement.startswith(EVENT_INSERT) else ""
        print(f"  {number:2}. {' '.join(statement.split())[:110]}{mark}")


def creates_timed(client, seeded, endpoint, count: int, rounds: int = 5) -> dict:
    """`count` creates in-process without, then with, the enabled endpoint, in alternating rounds (so that
    the machine's other load falls on both alike): milliseconds per create, of SQL, of the event's INSERT."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from events.webhooks.services import endpoint_update

    totals = {name: {"seconds": 0.0, "sql": 0.0, "event": 0.0} for name in ("no_endpoint", "one_endpoint")}
    for _ in range(rounds):
        for name, total in totals.items():
            endpoint_update(endpoint=endpoint, enabled=name == "one_endpoint")
            reset_queries()  # the log keeps 9,000 statements: a full one would capture none
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                for _ in range(count // rounds):
                    create_request(client, seeded)
                total["seconds"] += time.perf_counter() - started
            for query in queries.captured_queries:
                total["sql"] += float(query["time"])
                total["event"] += float(query["time"]) if query["sql"].startswith(EVENT_INSERT) else 0.0
    done = count // rounds * rounds
    return {
        name: {
            "ms_per_create": round(total["seconds"] * 1000 / done, 2),
            "sql_ms_per_create": round(total["sql"] * 1000 / done, 2),
            "event_insert_ms_per_create": round(total["event"] * 1000 / done, 3),
        }
        for name, total in totals.items()
    }


def workers_start(database_url: str, count: int) -> list[subprocess.Popen]:
    env = {**database_env(database_url), "TASKS_BACKEND": "database", "WEBHOOKS_ALLOW_PRIVATE_URLS": "127.0.0.1"}
    command = [sys.executable, "manage.py", "run_tasks", "--sweep-every", "0", "--verbosity", "0"]
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]


def workers_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def deliveries(seeded, *, sale_data: dict, count: int, ports: range, worker_count: int = 2) -> tuple:
    """`count` events for one endpoint, delivered by `worker_count` workers: timed until all are verified.
    Returns the figures and the endpoint."""
    from django.db import transaction
    from standardwebhooks import Webhook

    from apikeys.models import Project
    from events.services import event_record
    from events.webhooks.models import DeliveryStatus, WebhookDelivery
    from events.webhooks.services import endpoint_create, endpoint_update

    project = Project.objects.get(pk=seeded.project_id)
    server = receiver_start(ports, expected=count)
    endpoint = endpoint_create(project=project, url=f"http://127.0.0.1:{server.server_address[1]}/hooks",
                               event_types=["*"])  # fmt: skip
    server.webhook = Webhook(endpoint.secret)
    started = time.perf_counter()
    for number in range(count):
        with transaction.atomic():
            event_record(project_id=project.pk, type="sale.created", data=sale_data, object_id=f"bench-{number}")
    recorded = time.perf_counter() - started

    processes, started = workers_start(seeded.database_url, worker_count), time.perf_counter()
    try:
        finished = server.complete.wait(600)
        seconds = time.perf_counter() - started
        load_during = os.getloadavg()
    finally:
        workers_stop(processes)
        server.shutdown()
        server.server_close()
    delivered = WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.DELIVERED).count()
    endpoint_update(endpoint=endpoint, enabled=False)
    if not finished:
        raise RuntimeError(f"only {len(server.verified)} of {count} deliveries arrived in 600 s")
    steady = server.last - server.first
    return {
        "events": count,
        "workers": worker_count,
        "recorded_per_s": round(count / recorded, 1),
        "seconds_from_start": round(seconds, 2),
        "deliveries_per_s_from_start": round(count / seconds, 1),
        "seconds_first_to_last": round(steady, 2),
        "deliveries_per_s_first_to_last": round((count - 1) / steady, 1) if steady else None,
        "verified": len(server.verified),
        "refused": server.refused,
        "delivered_in_database": delivered,
        "load_average_at_end": [round(x, 2) for x in load_during],
    }, endpoint


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--ports", default="8800-8899", help="the receiver takes the first free port")
    args = parser.parse_args()
    first, last = (int(port) for port in args.ports.split("-"))

    load_before = os.getloadavg()
    os.environ["WEBHOOKS_ALLOW_PRIVATE_URLS"] = "127.0.0.1"
    seeded = seed(args.database, small=True)
    from django.test import Client

    from events.models import Event
    from events.webhooks.services import endpoint_update

    client = Client()
    create_request(client, seeded)
    sale_data = Event.objects.filter(type="sale.created").latest("created").data
    without = statements(client, seeded)
    statements_print("costtrack_create, no webhook endpoint", without)

    result, endpoint = deliveries(seeded, sale_data=sale_data, count=args.events, ports=range(first, last + 1))
    print(f"\nwebhooks: {json.dumps(result)}")

    endpoint_update(endpoint=endpoint, enabled=True)  # no worker runs now: its deliveries stay queued
    with_endpoint = statements(client, seeded)
    statements_print("costtrack_create, one enabled endpoint wanting sale.created", with_endpoint)

    timed = creates_timed(client, seeded, endpoint, args.creates)
    print(f"\n{args.creates} creates in-process, each way: {json.dumps(timed)}")

    summary = {
        "costtrack_create_statements": {"no_endpoint": len(without), "one_endpoint": len(with_endpoint),
                                        "event_inserts": sum(s.startswith(EVENT_INSERT) for s in without)},
        "webhooks": result,
        "creates": timed,
        "load_average": {"before": [round(x, 2) for x in load_before],
                         "after": [round(x, 2) for x in os.getloadavg()]},
    }  # fmt: skip
    print(f"\n{json.dumps(summary)}")


if __name__ == "__main__":
    main()
