"""A new user's first hour, as real processes: `python3 dev.py run` on a fresh database, every example of the
README run verbatim against it with curl, the official `dub` SDK tracking a euro sale, and dev.py's one-line
answers to a busy port and a wrong database."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_PORT, BUSY_PORT, DEAD_PORT = 8450, 8451, 8452
BASE = f"http://127.0.0.1:{SERVER_PORT}"
# Blocks of the README that start servers, install packages or need PostgreSQL: not run here.
NOT_RUN = re.compile(r"python3 dev\.py (run|test|bench)|pip install|gunicorn|DATABASE_URL=postgres")


def dev_env(home: Path, **extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DEBUG", "SECRET_KEY")}
    return {**env, "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}", "DEMO_KEY_FILE": str(home / ".demo-api-key"),
            "DJANGO_SETTINGS_MODULE": "salesledger.settings", **extra}  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A user's working directory: dev.py (a link to this checkout's) and, once the server runs, the demo key."""
    home = tmp_path_factory.mktemp("first-hour")
    (home / "dev.py").symlink_to(ROOT / "dev.py")
    return home


@pytest.fixture(scope="module")
def server(home):
    """`python3 dev.py run PORT` on a fresh SQLite database: migrations, demo data, the development server."""
    log = (home / "server.log").open("w")
    process = subprocess.Popen(["python3", "dev.py", "run", str(SERVER_PORT)], cwd=home, env=dev_env(home),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"{BASE}/healthz/", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((home / "server.log").read_text()) from None
                time.sleep(0.5)
        yield BASE
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def readme_blocks() -> list[str]:
    """Every ```sh block of the README, list items' indented ones too."""
    blocks = re.findall(r"^( *)```sh\n(.*?)^\1```", (ROOT / "README.md").read_text(), flags=re.S | re.M)
    return [textwrap.dedent(block) for _, block in blocks]


def test_every_readme_example_runs_verbatim_against_the_demo(server, home):
    blocks = [block for block in readme_blocks() if not NOT_RUN.search(block)]
    assert len(blocks) >= 15
    script = "\n".join([
        "set -euo pipefail -x",
        # Any HTTP error fails the script: an example that does not work as written fails the test.
        'curl() { command curl --silent --show-error --fail-with-body "$@"; }',
        *blocks,
    ]).replace("http://127.0.0.1:8000", server)  # fmt: skip

    result = subprocess.run(["bash", "-c", script], cwd=home, env=dev_env(home), capture_output=True, text=True,
                            timeout=600)  # fmt: skip

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]


def test_the_readme_links_no_file_a_user_does_not_have():
    text = (ROOT / "README.md").read_text()
    assert "shared/" not in text
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        assert link.startswith("http") or (ROOT / link).exists(), link


def test_the_official_dub_sdk_tracks_a_euro_sale_on_a_fresh_database(server, home):
    from dub import Dub

    from tracking import ecb

    latest = ecb.bundled_history()[max(ecb.bundled_history())]
    client = Dub(token=(home / ".demo-api-key").read_text().strip(), server_url=server)

    lead = client.track.lead(request={"click_id": "clk_sdk", "event_name": "Sign up",
                                      "customer_external_id": "sdk-user", "customer_email": "sdk@ex.com"})  # fmt: skip
    euro = client.track.sale(request={"customer_external_id": "sdk-user", "amount": 4900, "currency": "eur",
                                      "payment_processor": "stripe", "invoice_id": "sdk-inv-1"})  # fmt: skip
    riyal = client.track.sale(request={"customer_external_id": "sdk-user", "amount": 1000, "currency": "sar",
                                        "invoice_id": "sdk-inv-2"})  # fmt: skip

    assert lead.customer.external_id == "sdk-user"
    # 49.00 EUR at the ECB's latest bundled rate: 49.00 * (USD per EUR), in cents, rounded half-up.
    cents = (Decimal("49.00") / (1 / latest["USD"]).quantize(Decimal("1e-10")) * 100).quantize(
        Decimal(1), "ROUND_HALF_UP"
    )
    assert (euro.sale.amount, euro.sale.currency, euro.customer.external_id) == (int(cents), "usd", "sdk-user")
    # No rate for the riyal (nor loaded by the README): recorded in its own currency, its conversion pending.
    assert (riyal.sale.amount, riyal.sale.currency) == (1000, "sar")


def one_line_answer(args, env) -> tuple[int, list[str]]:
    result = subprocess.run(["python3", "dev.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    return result.returncode, (result.stdout + result.stderr).strip().splitlines()


@pytest.mark.parametrize("args", [[str(BUSY_PORT)], ["--port", str(BUSY_PORT)]])
def test_dev_py_run_on_a_busy_port_says_so_in_one_line_before_anything_else(tmp_path, args):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", BUSY_PORT))
        busy.listen()
        status, lines = one_line_answer(["run", *args], dev_env(tmp_path))
    assert (status, lines) == (1, [
        f"Port {BUSY_PORT} on 127.0.0.1 is in use: stop what runs there, or pick another: dev.py run {BUSY_PORT + 1}"
    ])  # fmt: skip
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.parametrize(
    ("database_url", "line"),
    [
        ("nonsense", "Configuration error: DATABASE_URL is not a database URL (Scheme '://' is unknown): set it "
                     "like postgres://user@host:5432/dbname, or unset it to use SQLite in db.sqlite3."),
        (f"postgres://someone:secret@127.0.0.1:{DEAD_PORT}/shop",
         f"Cannot connect to the database shop at 127.0.0.1:{DEAD_PORT} (connection failed: connection to server "
         f'at "127.0.0.1", port {DEAD_PORT} failed: Connection refused): start its server, create it, or fix '
         "DATABASE_URL (unset it to use SQLite)."),
    ],
)  # fmt: skip
def test_dev_py_says_what_is_wrong_with_the_database_in_one_line(tmp_path, database_url, line):
    status, lines = one_line_answer(["manage", "check"], dev_env(tmp_path, DATABASE_URL=database_url))
    assert (status, lines) == (1, [line])
    assert "secret" not in line


def test_dev_py_manage_runs_a_command_with_the_development_settings(tmp_path):
    status, lines = one_line_answer(["manage", "check"], dev_env(tmp_path))
    assert (status, lines) == (0, ["System check identified no issues (0 silenced)."])
