"""Real `run_tasks` worker processes on the test database (and on Redis for RQ)."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import TEST_REDIS_URL as REDIS_URL
from tests.reliability.servers import ROOT, _database_url


def rq_settings() -> dict:
    """The settings that make this process enqueue on RQ, as TASKS_BACKEND=rq does."""
    return {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}},
    }


@contextlib.contextmanager
def workers(count: int, *, engine: str):
    """`count` worker processes (each in its own process group, so a kill takes its children too)."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
        "TASKS_BACKEND": engine,
        "WEBHOOKS_ALLOW_PRIVATE_URLS": "127.0.0.1",
    }
    if engine == "rq":
        env["REDIS_URL"] = REDIS_URL
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_tasks", "--sweep-every", "0", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(count)
    ]
    try:
        yield processes
    finally:
        for process in processes:
            kill(process, signal.SIGTERM)


def kill(process: subprocess.Popen, sig=signal.SIGKILL) -> None:
    """Signal the worker's process group and its children's (RQ runs each job in a forked child of its own session)."""
    for pid in [process.pid, *children(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # The parent's pid is the 2nd field after the parenthesised command name.
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def wait_for(condition, *, seconds=60) -> None:
    """Poll `condition` until it holds; fail after `seconds` (a bound, not a measured timing)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the workers did not get there in time")
        time.sleep(0.1)
