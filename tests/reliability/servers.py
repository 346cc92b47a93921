"""Real gunicorn and redis-server processes, for what only separate processes can show."""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Engineers sharing a machine give each run its own ports: TEST_SERVER_PORTS=8300,8301.
PORTS = tuple(int(port) for port in os.environ.get("TEST_SERVER_PORTS", "8108,8109").split(","))


def _database_url() -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


@contextlib.contextmanager
def gunicorns(ports=PORTS, *, workers: int = 1, env: dict | None = None):
    """One gunicorn of `workers` workers per port, serving the test database; stopped on exit."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "0",
        **(env or {}),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    processes = [
        subprocess.Popen(
            [str(gunicorn), "salesledger.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for port in ports
    ]
    try:
        for port in ports:
            _wait_until_up(port)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn on port {port} did not start")


def call(url: str, *, method="GET", headers=None, body: bytes | None = None):
    """(status, headers, body bytes) of one HTTP request, errors included."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class RedisServer:
    """A throwaway redis-server on a unix socket, which a test may stop and start again."""

    def __init__(self):
        if shutil.which("redis-server") is None:
            pytest.skip("needs redis-server (apt-get install redis-server)")
        self.socket = Path(tempfile.mkdtemp()) / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.socket), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(50):
            if self.socket.exists():
                return
            time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.socket.unlink(missing_ok=True)
