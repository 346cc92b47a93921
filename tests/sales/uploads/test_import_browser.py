"""The owner's "Import sales" page in a real headless browser: a 20,000-row file sent through the file
field, then the job's progress bar moved by the page's script, without a reload, until it succeeds.

PostgreSQL: the job runs in a thread of its own while the live server answers the page's polls (on
SQLite both would share the test's one in-memory connection)."""

import json
import threading

import pytest
from django.db import connection

from sales.ledger.models import Sale
from sales.uploads.jobs import import_job_run
from tests.browser import chromium_page, screenshot
from tests.factories import ProjectFactory, UserFactory
from tests.sales.uploads.test_import_command import rows_of

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROWS = 20_000


def run_in_background(job_id) -> threading.Thread:
    def run():
        try:
            import_job_run(job_id=job_id)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_owner_imports_a_file_and_watches_it_finish(live_server, settings, tmp_path):
    settings.IMPORTS_DIR = tmp_path / "imports"
    settings.IMPORT_BATCH_SIZE = 2000
    owner = UserFactory(username="olivia", password="correct-horse-battery")
    project = ProjectFactory(slug="shop", name="Olivia's shop", owners=[owner])
    sales_file = tmp_path / "sales.jsonl"
    sales_file.write_text("".join(json.dumps(row) + "\n" for row in rows_of(ROWS)))

    with chromium_page() as page:
        page.goto(f"{live_server.url}/projects/shop/")
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "correct-horse-battery")
        page.click("button[type=submit]")
        page.click("text=Import sales")
        assert page.locator("h1").inner_text() == "Import sales"
        page.set_input_files("#id_file", str(sales_file))
        page.click("#import-form button[type=submit]")

        row = page.locator("#imports tbody tr").first
        assert row.locator(".status").inner_text() == "queued"
        assert row.locator("td").first.inner_text() == "sales.jsonl"
        page.evaluate("window.notReloaded = true")

        worker = run_in_background(row.get_attribute("data-job"))
        page.wait_for_selector("#imports tr[data-status=succeeded]", timeout=120_000)
        worker.join()

        assert page.evaluate("window.notReloaded") is True
        assert row.locator(".status").inner_text() == "succeeded"
        assert row.locator(".rows").inner_text() == f"{ROWS} / {ROWS}"
        assert row.locator("progress").evaluate("bar => [bar.value, bar.max]") == [ROWS, ROWS]
        assert row.locator(".created").inner_text() == str(ROWS // 3 + 1)
        screenshot(page, "owner-import-succeeded")
    assert Sale.objects.filter(project=project).count() == ROWS // 3 + 1
