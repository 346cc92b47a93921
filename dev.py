#!/usr/bin/env python3
"""The two commands a newcomer needs, on any machine with Python 3.11+:

    python3 dev.py run     virtualenv, install, migrate, demo data, serve on http://127.0.0.1:8000
                           with a task worker beside it (SQLite in db.sqlite3; PostgreSQL when DATABASE_URL is set)
    python3 dev.py test    virtualenv, install, the whole test suite (PostgreSQL when DATABASE_URL is set)

Also: `python3 dev.py bench` runs the benchmark (needs PostgreSQL and wrk, see bench/README.md).
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"


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


def run():
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        if sh(PYTHON, "manage.py", *command, env=env) != 0:
            sys.exit(1)
    # The task worker (webhook deliveries) runs beside the web server and stops with it.
    worker = subprocess.Popen([str(PYTHON), "manage.py", "run_tasks"], cwd=ROOT, env=env)
    print("\nServing on http://127.0.0.1:8000  (owner pages /projects/, admin /admin/, API docs /api/docs/)\n")
    try:
        code = sh(PYTHON, "manage.py", "runserver", "127.0.0.1:8000", env=env)
    finally:
        worker.terminate()
        worker.wait()
    sys.exit(code)


def test():
    sys.exit(sh(PYTHON, "-m", "pytest", *sys.argv[2:]))


def bench():
    sys.exit(sh(PYTHON, "bench/run.py", *sys.argv[2:]))


if __name__ == "__main__":
    commands = {"run": run, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    ensure_venv()
    commands[sys.argv[1]]()
