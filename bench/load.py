"""Load driving: gunicorn started and stopped by the benchmark, wrk against it at a number of
connections, and the figures of one wrk run summarised."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.queries import basic_credentials
from bench.seed import Seeded, database_env

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def lua_args(seeded: Seeded, files: dict[str, Path], session: str, workload: str) -> list[str]:
    products = files["contended" if workload == "contended_32" else "products"]
    if workload == "custobar_upload_1000":
        products = files["external_ids"]
    return [
        f"key={seeded.api_key}",
        f"basic={basic_credentials(seeded.api_key)}",
        f"uploads={files['uploads']}",
        f"products={products}",
        f"customers={files['customers']}",
        f"location={seeded.location_id}",
        f"session={session}",
        f"project={seeded.project_slug}",
    ]


class Server:
    """gunicorn with 2 x cores sync workers, started and stopped by the benchmark: the project's
    (`salesledger.wsgi`), or the bare floor's (`bench.bare_floor`)."""

    def __init__(self, database_url: str, port: int, log: Path, app: str = "salesledger.wsgi", redis_url: str = ""):
        self.url = f"http://127.0.0.1:{port}"
        self.workers = 2 * (os.cpu_count() or 1)
        self.answered: dict[str, int] = {}  # answers wrk got, per workload script
        self.redis_url = redis_url
        # REDIS_URL empty: the rate limits count in the database.
        env = {
            **database_env(database_url),
            "SALESLEDGER_BENCH_FLOOR": "1",
            "LOG_LEVEL": "ERROR",
            "REDIS_URL": redis_url,
        }
        command = [
            sys.executable, "-m", "gunicorn", app, "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log), "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError:
                return  # it answers (the bare floor has no /healthz)
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
    server.answered[script] = server.answered.get(script, 0) + sum(result["statuses"].values())
    return result


def _rss_mb(pid: int) -> float:
    """The process's resident memory; raises OSError when it is gone (or a zombie, which has none)."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None)
    if rss is None:
        raise ProcessLookupError(pid)
    return int(rss) / 1024


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
