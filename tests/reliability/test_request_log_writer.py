"""The request log off the request's path: rows wait in their process and are written together, by a
thread, every interval, when enough are waiting, and when the process stops; none is lost on the way."""

import time

import pytest
from django.test import override_settings

from apikeys import request_log
from apikeys.models import RequestLog
from apikeys.services import request_log_write
from tests.factories import ProjectFactory, issue_key
from tests.helpers import keyed_client
from tests.reliability.servers import PORTS, call, gunicorns


@pytest.fixture(autouse=True)
def writer_stopped():
    """Each test's writer thread ends with it (and closes its connection to the test database)."""
    yield
    request_log.stop()


def logged_paths() -> list[str]:
    return sorted(RequestLog.objects.values_list("path", flat=True))


def wait_for_rows(count: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while RequestLog.objects.count() < count and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_rows_wait_for_the_writer_which_writes_them_together_once_enough_are_waiting(api):
    with override_settings(REQUEST_LOG_FLUSH_SECONDS=3600, REQUEST_LOG_FLUSH_ROWS=3):
        api.get("/api/v1/project/?n=1")
        api.get("/api/v1/project/?n=2")
        assert RequestLog.objects.count() == 0  # answered, their rows still waiting
        api.get("/api/v1/project/?n=3")
        wait_for_rows(3)
    assert logged_paths() == ["/api/v1/project/"] * 3
    assert request_log._waiting == []


@pytest.mark.django_db(transaction=True)
def test_a_flush_writes_what_waits_and_leaves_out_rows_of_a_deleted_project(api, project):
    doomed = ProjectFactory(slug="doomed")
    doomed_client = keyed_client(doomed, issue_key(doomed))
    with override_settings(REQUEST_LOG_FLUSH_SECONDS=3600):
        api.get("/api/v1/project/")
        doomed_client.get("/api/v1/keys/")
        doomed.delete()  # between its request and the write of its row
        request_log.stop()
    assert logged_paths() == ["/api/v1/project/"]


@pytest.mark.django_db
def test_many_rows_are_one_insert(project, issued_key, django_assert_num_queries):
    rows = [
        dict(project_id=project.pk, api_key=issued_key.api_key, method="GET", path=f"/api/v1/project/?n={n}",
             status_code=200, duration_ms=1, request_id=str(n))
        for n in range(50)
    ]  # fmt: skip
    with django_assert_num_queries(1):
        request_log_write(rows)
    assert RequestLog.objects.count() == 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_server_writes_its_rows_every_interval_and_the_rest_when_it_stops(project, issued_key):
    headers = {"Authorization": f"Bearer {issued_key.secret}"}
    with gunicorns(PORTS[:1], workers=2, env={"REQUEST_LOG_FLUSH_SECONDS": "0.2"}) as (base,):
        statuses = [call(f"{base}/api/v1/project/", headers=headers)[0] for _ in range(6)]
        wait_for_rows(6)  # within the interval, the server still running
        assert RequestLog.objects.count() == 6
    assert statuses == [200] * 6

    with gunicorns(PORTS[:1], workers=2, env={"REQUEST_LOG_FLUSH_SECONDS": "3600"}) as (base,):
        statuses = [call(f"{base}/api/v1/keys/", headers=headers)[0] for _ in range(5)]
        assert RequestLog.objects.count() == 6  # waiting in the workers
    # Stopped (SIGTERM): each worker wrote what it held on its way out.
    assert statuses == [200] * 5
    assert logged_paths() == ["/api/v1/keys/"] * 5 + ["/api/v1/project/"] * 6
