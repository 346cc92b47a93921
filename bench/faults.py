"""Fault drills against a real gunicorn (run by `.ci/faults`; a few minutes on 2 cores).

Starts its own throwaway PostgreSQL cluster (initdb in a temporary folder) and its own Redis, so
it never stops or restarts a shared one, and removes both at the end. Then, under a steady load of
writes in every sales dialect:

1. Redis stopped and started: every request is still served (rate limits count in the database),
   /healthz says `degraded` meanwhile, and the counters go back to Redis by themselves.
2. PostgreSQL restarted: every answer is a 2xx or a JSON 503 with Retry-After in its dialect's
   shape, the rows written equal the 2xx answers, stock matches its ledger, and the same gunicorn
   workers serve again once the database is back; restarted again while idle, the next requests
   all succeed (each worker checks its kept connection first: CONN_HEALTH_CHECKS).
3. kill -9: 200 requests with an Idempotency-Key across the dialects, the worker serving some of
   them killed at a random moment, the client retrying with the same key until it gets an answer:
   exactly one sale per key, and every answer names a sale that exists.

Then /metrics, added up over every worker (killed ones too), is compared with the ledger.

Each drill prints its figures (requests sent, 5xx seen, duplicates found) and the run exits 1 when
an invariant fails. Ports: FAULTS_PORT (gunicorn, default 8510), +1 PostgreSQL, +2 Redis.
"""

import base64
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PORT = int(os.environ.get("FAULTS_PORT", "8510"))
PG_PORT, REDIS_PORT = PORT + 1, PORT + 2
METRICS_TOKEN = "faults-metrics"
WORKERS = 3
LOAD_THREADS = 3
KEYED_REQUESTS = 200
KILL_SHARE = 0.3
DIALECTS = ("costtrack", "sells", "connecteam", "custobar", "track")
SALE_CHANNELS = ("costtrack", "sells", "connecteam", "custobar")


def log(message: str) -> None:
    print(message, flush=True)


def as_postgres(command: list[str], **kwargs):
    """PostgreSQL refuses to run as root: its commands run as the postgres user when we are root."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + command, check=True, stdout=subprocess.DEVNULL, **kwargs)


class Postgres:
    """A throwaway cluster in a temporary folder, on 127.0.0.1:PG_PORT, trusting local connections."""

    def __init__(self, folder: Path):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
        if not versions:
            sys.exit("PostgreSQL's server programs are missing (apt-get install postgresql)")
        self.bin = versions[-1].parent
        self.data = folder / "pg"
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            shutil.chown(self.data, "postgres")
        as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"])
        self.url = f"postgres://postgres@127.0.0.1:{PG_PORT}/faults"

    def ctl(self, *args: str) -> None:
        options = f"-p {PG_PORT} -k {self.data} -c listen_addresses=127.0.0.1"
        as_postgres(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.data / "log"), "-w", *args]
        )

    def start(self) -> None:
        self.ctl("start")
        as_postgres([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "faults"])

    def restart(self) -> None:
        self.ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self.ctl("-m", "immediate", "stop")


class Redis:
    """Our own redis-server on 127.0.0.1:REDIS_PORT, nothing saved; stopped and started by its pid."""

    url = f"redis://127.0.0.1:{REDIS_PORT}/0"

    def __init__(self):
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if self.keys() is not None:
                return
            time.sleep(0.05)
        sys.exit("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def keys(self) -> int | None:
        """How many keys it holds (the rate counters), or None when it does not answer."""
        done = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "dbsize"], capture_output=True, text=True)
        return int(done.stdout) if done.returncode == 0 and done.stdout.strip().isdigit() else None


class Gunicorn:
    """The production configuration (gunicorn.conf.py), JSON logs, metrics across workers."""

    def __init__(self, env: dict, folder: Path):
        self.log = folder / "gunicorn.log"
        env = {
            **env,
            "BIND": f"127.0.0.1:{PORT}",
            "WEB_CONCURRENCY": str(WORKERS),
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "WARNING",
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "salesledger.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if call("GET", "/healthz")[0] == 200 and len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")

    def workers(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def call(method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 15):
    """(status, headers, body) of one request on a new connection; OSError when the connection breaks."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except http.client.HTTPException as error:
        raise ConnectionError(str(error)) from error
    finally:
        connection.close()


@dataclass
class Shop:
    """What the drills sell: one project, its key, products with deep stock, a location, a customer."""

    key: str
    products: list[str]
    location: int

    def request(self, dialect: str, marker: str) -> tuple[str, bytes, dict]:
        """A valid write in `dialect` (path, body, headers); `marker` makes it unique."""
        product = random.choice(self.products)
        bearer = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        if dialect == "costtrack":
            body = {"productId": product, "quantity": 1, "sellingPrice": 10, "deductInventory": True}
            return "/api/sales/create", json.dumps(body).encode(), bearer
        if dialect == "sells":
            return (
                "/sells",
                json.dumps({"products": [{"productId": product, "quantity": 1, "price": 9}]}).encode(),
                bearer,
            )
        if dialect == "connecteam":
            item = {
                "locationId": self.location,
                "saleType": "SALE",
                "createdAt": int(time.time()),
                "finalSaleAmount": 10,
            }
            headers = {"X-API-KEY": self.key, "Content-Type": "application/json"}
            return "/sales/v1/transactions", json.dumps({"transactionsCreateRequest": [item]}).encode(), headers
        if dialect == "custobar":
            row = {
                "sale_external_id": marker,
                "sale_customer_id": "faults",
                "sale_date": "2026-11-30T10:00:00Z",
                "product_id": "faults-0",
                "unit_price": 1000,
                "quantity": 1,
            }
            basic = base64.b64encode(f"{self.key}:".encode()).decode()
            headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
            return "/api/sales/upload/", json.dumps({"sales": [row]}).encode(), headers
        return "/track/sale", json.dumps({"customerExternalId": "faults-customer", "amount": 1000}).encode(), bearer


def setup_shop() -> Shop:
    from django.core.management import call_command

    from apikeys.models import Project
    from apikeys.services import api_key_create, project_create, user_get_or_create
    from inventory.services.catalogue import product_create
    from sales.pos.services import location_create

    call_command("migrate", verbosity=0)
    owner = user_get_or_create(username="faults")
    project = project_create(slug="faults", name="Faults", owner=owner)
    Project.objects.filter(pk=project.pk).update(rate_limit=1_000_000)
    issued = api_key_create(project=project, name="faults", user=owner)
    products = [
        str(
            product_create(project=project, name=f"P{n}", price=10, stock_on_hand=100_000, external_id=f"faults-{n}").id
        )
        for n in range(20)
    ]
    location = location_create(project=project, name="Shop").id
    return Shop(key=issued.secret, products=products, location=location)


def ledger_counts() -> Counter:
    """What each 2xx answer of a dialect writes one of: a ledger sale; an upload for custobar (its
    upsert would hide a second run of the same rows); a tracked sale for track."""
    from django.db import connection
    from django.db.models import Count

    from sales.ledger.models import Sale
    from sales.uploads.models import Upload
    from tracking.models import SaleEvent

    connection.close()  # A restart may have broken it.
    sales = Sale.objects.exclude(channel=Sale.Channel.CUSTOBAR).values("channel").annotate(n=Count("id"))
    counts = Counter({row["channel"]: row["n"] for row in sales})
    counts["custobar"] = Upload.objects.count()
    counts["track"] = SaleEvent.objects.count()
    return counts


def stock_matches() -> bool:
    from django.core.management import CommandError, call_command

    try:
        call_command("check_stock", stdout=open(os.devnull, "w"))  # noqa: SIM115
    except CommandError:
        return False
    return True


def expected_503(path: str) -> dict:
    from salesledger.errors import DATABASE_UNAVAILABLE, dialect_for_path

    body = dialect_for_path(path).body(503, DATABASE_UNAVAILABLE, [], None)
    if "error" in body and isinstance(body["error"], dict):
        body["error"]["doc_url"] = f"http://127.0.0.1:{PORT}{body['error']['doc_url']}"
    return body


@dataclass
class Load:
    """Writes in every dialect from a few threads until stopped; every answer kept."""

    shop: Shop
    answers: list = field(default_factory=list)  # (when, dialect, path, status, headers, body)
    broken: int = 0  # connections that broke without an answer
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self):
        threads = [threading.Thread(target=self.loop, args=(index,)) for index in range(LOAD_THREADS)]
        for thread in threads:
            thread.start()
        return threads

    def loop(self, index: int):
        # One upload at a time (a project runs one, a second is told 429 by design): thread 0 sends them.
        dialects = DIALECTS if index == 0 else [dialect for dialect in DIALECTS if dialect != "custobar"]
        count = 0
        while not self.stop.is_set():
            dialect = dialects[(index + count) % len(dialects)]
            count += 1
            path, body, headers = self.shop.request(dialect, f"load-{uuid.uuid4().hex}")
            try:
                status, answer_headers, answer = call("POST", path, body, headers)
            except OSError:
                self.broken += 1
                continue
            self.answers.append((time.monotonic(), dialect, path, status, answer_headers, answer))

    def finish(self, threads):
        self.stop.set()
        for thread in threads:
            thread.join()

    def figures(self) -> dict:
        statuses = Counter(status for _, _, _, status, _, _ in self.answers)
        return {
            "sent": len(self.answers) + self.broken,
            "2xx": sum(n for status, n in statuses.items() if status < 300),
            "5xx": sum(n for status, n in statuses.items() if status >= 500),
            "other": sum(n for status, n in statuses.items() if 300 <= status < 500),
            "connections broken": self.broken,
        }

    def written(self) -> Counter:
        return Counter(dialect for _, dialect, _, status, _, _ in self.answers if status < 300)


def report(name: str, figures: dict, failures: list[str]) -> bool:
    log(f"== {name}: " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    for failure in failures:
        log(f"   FAILED: {failure}")
    if not failures:
        log("   OK")
    return not failures


def rows_match(before: Counter, written: Counter) -> list[str]:
    after = ledger_counts()
    return [
        f"{dialect}: {after[dialect] - before[dialect]} rows written for {written[dialect]} 2xx answers"
        for dialect in DIALECTS
        if after[dialect] - before[dialect] != written[dialect]
    ]


def drill_redis(shop: Shop, redis: Redis) -> bool:
    from apikeys.limits import REDIS_RETRY_SECONDS
    from apikeys.models import RateCounter

    before = ledger_counts()
    load = Load(shop)
    threads = load.run()
    time.sleep(3)
    failures = [] if redis.keys() else ["the rate counters were not in Redis before the outage"]
    redis.stop()
    time.sleep(1)
    status, _, body = call("GET", "/healthz")
    health = json.loads(body)
    if status != 200 or health["status"] != "degraded" or health["checks"]["cache"]["status"] != "down":
        failures.append(f"/healthz with Redis down answered {status} {health}")
    time.sleep(3)
    redis.start()
    time.sleep(REDIS_RETRY_SECONDS + 2)
    back = redis.keys()
    load.finish(threads)
    figures = load.figures()
    figures["counted in the database meanwhile"] = sum(RateCounter.objects.values_list("hits", flat=True))
    figures["keys in Redis after its return"] = back
    failures += [f"{figures['5xx']} answers were 5xx"] * bool(figures["5xx"])
    failures += [f"{figures['other']} answers were neither 2xx nor 5xx"] * bool(figures["other"])
    failures += ["connections broke"] * bool(figures["connections broken"])
    failures += ["the counters did not go back to Redis"] * (not back)
    failures += rows_match(before, load.written())
    figures["healthz while down"] = f"{status} {health['status']}"
    return report("Redis stopped and started under load", figures, failures)


def drill_postgres(shop: Shop, postgres: Postgres, server: Gunicorn) -> bool:
    before = ledger_counts()
    workers = server.workers()
    load = Load(shop)
    threads = load.run()
    time.sleep(3)
    restart_started = time.monotonic()
    postgres.restart()
    restart_ended = time.monotonic()
    time.sleep(5)
    load.finish(threads)
    figures = load.figures()
    failures = []
    bad_503 = 0
    for _, dialect, path, status, headers, body in load.answers:
        if status < 300:
            continue
        try:
            shaped = status == 503 and json.loads(body) == expected_503(path)
        except ValueError:
            shaped = False
        if not (shaped and headers.get("Retry-After") and headers.get("Content-Type") == "application/json"):
            bad_503 += 1
            if bad_503 <= 3:
                failures.append(f"{dialect} answered {status} {headers.get('Content-Type')}: {body[:200]!r}")
    after_restart = [status for when, _, _, status, _, _ in load.answers if when > restart_ended + 1]
    figures["503 (JSON, Retry-After, dialect's shape)"] = figures["5xx"] - bad_503
    figures["answers not a 2xx or such a 503"] = bad_503
    figures["restart seconds"] = round(restart_ended - restart_started, 1)
    figures["non-2xx a second after the restart"] = sum(status >= 300 for status in after_restart)
    failures += ["connections broke"] * bool(figures["connections broken"])
    failures += ["no request was served after the restart"] * (not after_restart)
    failures += ["answers after the restart were not all 2xx"] * any(status >= 300 for status in after_restart)
    failures += [f"gunicorn's workers changed: {workers} -> {server.workers()}"] * (server.workers() != workers)
    failures += rows_match(before, load.written())
    failures += ["check_stock found a counter that differs from its movements"] * (not stock_matches())
    # Restarted again with no load: idle workers hold connections the restart closed.
    postgres.restart()
    bearer = {"Authorization": f"Bearer {shop.key}"}
    idle = [call("GET", "/api/v1/project/", headers=bearer)[0] for _ in range(4 * WORKERS)]
    figures["non-2xx of the first requests after an idle restart"] = sum(status >= 300 for status in idle)
    failures += ["requests failed after a restart while idle"] * any(status >= 300 for status in idle)
    return report("PostgreSQL restarted under load", figures, failures)


def worker_serving(client_port: int, workers: set[int]) -> int | None:
    """The worker whose accepted socket is the other end of our connection (from /proc)."""
    wanted = f":{PORT:04X}"
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(wanted) and fields[2].endswith(f":{client_port:04X}") and fields[9] != "0":
            inode = fields[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in workers:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
        except OSError:
            continue
    return None


@dataclass
class Keyed:
    """One idempotent request and what happened to it."""

    dialect: str
    key: str
    kill: bool
    attempts: int = 0
    statuses: list = field(default_factory=list)
    answer: dict | None = None
    replayed: bool = False


def attempt_with_kill(item: Keyed, path, body, headers, server: Gunicorn, kills: Counter):
    """One attempt whose serving worker is killed -9 after a random delay (if it still serves it)."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=15)
    connection.connect()
    client_port = connection.sock.getsockname()[1]
    answered = threading.Event()

    def killer():
        # Early (before or in the handler) or late (around the commit, or after the answer left).
        deadline = time.monotonic() + random.choice([random.uniform(0, 0.03), random.uniform(0.03, 0.3)])
        while not answered.is_set():
            pid = worker_serving(client_port, server.workers())
            if pid and time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                kills["killed"] += 1
                return
            time.sleep(0.001)
        kills["answered first"] += 1

    thread = threading.Thread(target=killer)
    try:
        connection.request("POST", path, body=body, headers=headers)
        thread.start()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except (OSError, http.client.HTTPException) as error:
        raise ConnectionError(str(error)) from error
    finally:
        answered.set()
        if thread.is_alive() or thread.ident:
            thread.join()
        connection.close()


def run_keyed(item: Keyed, shop: Shop, server: Gunicorn, kills: Counter) -> None:
    path, body, headers = shop.request(item.dialect, item.key)
    headers = {**headers, "Idempotency-Key": item.key}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        item.attempts += 1
        try:
            if item.kill and item.attempts == 1:
                status, answer_headers, answer = attempt_with_kill(item, path, body, headers, server, kills)
            else:
                status, answer_headers, answer = call("POST", path, body, headers)
        except OSError:
            item.statuses.append("broken")
            time.sleep(0.05)
            continue
        item.statuses.append(status)
        if status < 300:
            item.answer = json.loads(answer)
            item.replayed = answer_headers.get("Idempotent-Replayed") == "true"
            return
        if status not in (409, 429, 503):
            return  # A refusal: reported as a failure below.
        time.sleep(0.1 * min(item.attempts, 10))


def answered_id(item: Keyed) -> str:
    """The sale (the upload, for custobar) an answer names."""
    answer = item.answer
    return {
        "costtrack": lambda: answer["saleId"],
        "sells": lambda: answer["sell"]["id"],
        "connecteam": lambda: answer["data"]["transactions"][0]["transactionId"],
        "custobar": lambda: answer["id"],
    }[item.dialect]()


def drill_kill(shop: Shop, server: Gunicorn) -> bool:
    from sales.ledger.models import Sale
    from sales.uploads.models import Upload

    before = ledger_counts()
    rng = random.Random(18)
    items = [
        Keyed(DIALECTS[n % len(DIALECTS)], f"kill-{uuid.uuid4().hex}", rng.random() < KILL_SHARE)
        for n in range(KEYED_REQUESTS)
    ]
    kills = Counter()
    queue = list(items)
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            run_keyed(item, shop, server, kills)

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    after = ledger_counts()
    unanswered = [item for item in items if item.answer is None]
    answered = [item for item in items if item.answer is not None]
    wanted = Counter(item.dialect for item in answered)
    duplicates = sum(max(0, after[d] - before[d] - wanted[d]) for d in DIALECTS)
    statuses = Counter(status for item in items for status in item.statuses)
    # Tracked sales are checked by their count alone (their answer names the customer, not the event).
    named = {"costtrack": Sale, "sells": Sale, "connecteam": Sale, "custobar": Upload}
    ids = [(named[item.dialect], answered_id(item)) for item in answered if item.dialect in named]
    missing = sum(not model.objects.filter(pk=pk).exists() for model, pk in ids)
    figures = {
        "requests": len(items),
        "attempts": sum(item.attempts for item in items),
        "workers killed": kills["killed"],
        "answered before the kill": kills["answered first"],
        "broken connections": statuses["broken"],
        "409 in flight": statuses[409],
        "429 busy (one upload at a time)": statuses[429],
        "5xx seen": sum(n for status, n in statuses.items() if isinstance(status, int) and status >= 500),
        "answered": len(answered),
        "of which replays (killed after the commit)": sum(item.replayed for item in answered),
        "duplicates found": duplicates,
    }
    failures = []
    failures += [f"{len(unanswered)} requests got no 2xx: {[i.statuses for i in unanswered[:3]]}"] * bool(unanswered)
    failures += [f"{duplicates} duplicate writes"] * bool(duplicates)
    for dialect in DIALECTS:
        if after[dialect] - before[dialect] < wanted[dialect]:
            failures.append(f"{dialect}: {after[dialect] - before[dialect]} rows for {wanted[dialect]} answered keys")
    failures += [f"{missing} answers name a sale or upload that does not exist"] * bool(missing)
    failures += ["two answers name the same sale"] * (len({pk for _, pk in ids}) != len(ids))
    failures += ["check_stock found a counter that differs from its movements"] * (not stock_matches())
    return report("kill -9 in the middle of idempotent requests", figures, failures)


def metrics_check() -> bool:
    """/metrics adds up every worker's values (killed ones too): compare with the ledger."""
    from django.db.models import Count

    from sales.ledger.models import Sale

    status, _, body = call("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    written = Counter()
    for line in body.decode().splitlines():
        if line.startswith("salesledger_sales_written_total{"):
            channel = line.split('channel="', 1)[1].split('"', 1)[0]
            written[channel] += int(float(line.rsplit(" ", 1)[1]))
    ledger = {row["channel"]: row["n"] for row in Sale.objects.values("channel").annotate(n=Count("id"))}
    figures = {
        "status": status,
        **{f"{c} counted/in the ledger": f"{written[c]}/{ledger.get(c, 0)}" for c in SALE_CHANNELS},
    }
    # A worker killed between a commit and its metric's update leaves that one sale uncounted.
    failures = [
        f"{channel}: {written[channel]} counted, {ledger.get(channel, 0)} in the ledger"
        for channel in SALE_CHANNELS
        if not ledger.get(channel, 0) - 5 <= written[channel] <= ledger.get(channel, 0)
    ]
    return report("metrics across workers", figures, failures if status == 200 else ["/metrics did not answer"])


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="salesledger-faults-"))
    postgres = Postgres(folder)
    redis = Redis()
    server = None
    try:
        postgres.start()
        redis.start()
        env = {
            **os.environ,
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            "SECRET_KEY": "faults-only",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "METRICS_TOKEN": METRICS_TOKEN,
            "DJANGO_SETTINGS_MODULE": "salesledger.settings",
        }
        os.environ.update(env)
        import django

        django.setup()
        shop = setup_shop()
        server = Gunicorn(env, folder)
        lead = json.dumps({"clickId": "clk_faults", "eventName": "Sign up", "customerExternalId": "faults-customer"})
        call(
            "POST",
            "/track/lead",
            lead.encode(),
            {"Authorization": f"Bearer {shop.key}", "Content-Type": "application/json"},
        )
        results = [
            drill_redis(shop, redis),
            drill_postgres(shop, postgres, server),
            drill_kill(shop, server),
            metrics_check(),
        ]
        if not all(results):
            log(f"--- gunicorn's log (last lines)\n{server.log.read_text()[-4000:]}")
        return 0 if all(results) else 1
    finally:
        if server:
            server.stop()
        redis.stop()
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
