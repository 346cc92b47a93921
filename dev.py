#!/usr/bin/env python3
"""The commands a newcomer needs, on any machine with Python 3.11+:

    python3 dev.py run [PORT]      virtualenv, install, migrate, demo data, serve on http://127.0.0.1:8000
                                   (or PORT, also as --port PORT; SQLite in db.sqlite3, PostgreSQL when
                                   DATABASE_URL is set) with a task worker beside it
    python3 dev.py manage CMD ...  a manage.py command with the virtualenv and development settings,
                                   e.g. python3 dev.py manage create_project shop --owner alice
    python3 dev.py test            virtualenv, install, the whole test suite (PostgreSQL when DATABASE_URL is set)

Also: `python3 dev.py bench` runs the benchmark (needs PostgreSQL and wrk, see bench/README.md).
"""

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"
# Development settings: DEBUG on (and with it a development SECRET_KEY) unless the environment says otherwise.
DEV_ENV = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}


def sh(*args, env=None):
    print("+", " ".join(str(arg) for arg in args), flush=True)
    return subprocess.run([str(arg) for arg in args], cwd=ROOT, env=env).returncode


def ensure_venv():
    """Create .venv and install requirements.txt, again only when that file changes."""
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        if sh(PYTHON, "-m", "pip", "install", "-q", "-r", "requirements.txt") != 0:
            sys.exit("pip install failed")
        STAMP.write_text(wanted)


def preflight():
    """One line, not a traceback, for a bad DATABASE_URL or an unreachable database."""
    if subprocess.run([str(PYTHON), "-m", "salesledger.preflight"], cwd=ROOT, env=DEV_ENV).returncode != 0:
        sys.exit(1)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server will: a port whose last connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_port(args) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py run")
    parser.add_argument("port", nargs="?", type=int, help="port to serve on (default 8000)")
    parser.add_argument("--port", dest="port_option", type=int, help="the same, as an option")
    options = parser.parse_args(args)
    port = options.port_option or options.port or 8000
    if not 0 < port < 65536:
        sys.exit(f"Port {port} is not a TCP port (1-65535).")
    return port


def run():
    port = run_port(sys.argv[2:])
    # Before anything else: a busy port would otherwise fail only after installing, migrating and seeding.
    if not port_free(port):
        sys.exit(f"Port {port} on 127.0.0.1 is in use: stop what runs there, or pick another: dev.py run {port + 1}")
    ensure_venv()
    preflight()
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        if sh(PYTHON, "manage.py", *command, env=DEV_ENV) != 0:
            sys.exit(1)
    # The task worker (webhook deliveries) runs beside the web server and stops with it.
    worker = subprocess.Popen([str(PYTHON), "manage.py", "run_tasks"], cwd=ROOT, env=DEV_ENV)
    print(f"\nServing on http://127.0.0.1:{port}  (owner pages /projects/, admin /admin/, API docs /api/docs/)\n")
    try:
        code = sh(PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", env=DEV_ENV)
    finally:
        worker.terminate()
        worker.wait()
    sys.exit(code)


def manage():
    ensure_venv()
    preflight()
    # In the caller's directory, so that file arguments (rates.csv, sales.json) are where the caller means.
    sys.exit(subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *sys.argv[2:]], env=DEV_ENV).returncode)


def test():
    ensure_venv()
    sys.exit(sh(PYTHON, "-m", "pytest", *sys.argv[2:]))


def bench():
    ensure_venv()
    sys.exit(sh(PYTHON, "bench/run.py", *sys.argv[2:]))


if __name__ == "__main__":
    commands = {"run": run, "manage": manage, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()
