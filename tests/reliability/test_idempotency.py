"""Idempotency-Key on writes, in every dialect's shape: replay, other parameters, in flight, stale claims."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apikeys.models import APIKey, IdempotencyKey
from apikeys.services import IDEMPOTENCY_CLAIM_TIMEOUT, IDEMPOTENCY_TTL
from tests.concurrency import held_claim, race
from tests.factories import issue_key
from tests.helpers import keyed_client
from tests.reliability.shapes import DIALECTS, expected_error
from tests.reliability.urls import DIALECT_PATHS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.reliability.urls")]

REUSED = (
    "This Idempotency-Key was already used with other parameters (method, path or body); "
    "send a new key for a new request."
)
IN_FLIGHT = "A request with this Idempotency-Key is still being processed; retry later."


def keys_named(name):
    return APIKey.objects.filter(name=name).count()


def post(client, dialect, body, key="retry-1", **extra):
    path, _ = DIALECT_PATHS[dialect]
    return client.post(path, data=body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_same_key_same_body_replays_the_first_answer_and_runs_once(api, dialect):
    first = post(api, dialect, {"name": "once"})
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first

    again = post(api, dialect, {"name": "once"})
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == "application/json"
    assert again.content == first.content
    assert keys_named("once") == 1


@pytest.mark.parametrize("dialect", DIALECTS)
def test_same_key_other_body_is_422_in_the_dialects_shape(api, dialect):
    assert post(api, dialect, {"name": "first"}).status_code == 201
    response = post(api, dialect, {"name": "second"})
    assert response.status_code == 422
    assert response.json() == expected_error(DIALECT_PATHS[dialect][1], 422, REUSED)
    assert keys_named("second") == 0


def test_same_key_other_method_or_path_is_422(api):
    assert post(api, "native", {"name": "first"}).status_code == 201
    body = {"name": "first"}
    assert api.put("/api/v1/test-writes", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1").status_code == 422
    assert api.post("/api/v1/test-writes?x=1", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1").status_code == 422
    assert keys_named("first") == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_same_key_while_the_first_still_runs_is_409(api, project, dialect):
    first = post(api, dialect, {"name": "slow"}, key="probe")
    assert first.status_code == 201
    with held_claim(project=project, key="running", like=IdempotencyKey.objects.get(key="probe")):
        response = post(api, dialect, {"name": "slow"}, key="running")
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert response.json() == expected_error(DIALECT_PATHS[dialect][1], 409, IN_FLIGHT)
    assert keys_named("slow") == 1


def crashed_claim(key):
    """As if the worker had died mid-request: the claim is there, the answer never came, no one holds it."""
    IdempotencyKey.objects.filter(key=key).update(completed_at=None, status_code=None, body=b"")


def test_a_claim_left_by_a_crashed_worker_is_taken_over(api, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    post(api, "native", {"name": "probe"}, key="probe")
    crashed_claim("probe")
    if not connection.features.has_select_for_update_skip_locked:
        # Without row locks (SQLite) a recent claim may still be running: taken over after the timeout.
        assert post(api, "native", {"name": "probe"}, key="probe").status_code == 409
        time_machine.shift(IDEMPOTENCY_CLAIM_TIMEOUT + timedelta(seconds=1))
    # PostgreSQL: at once, as no running request holds the claim's row lock.
    response = post(api, "native", {"name": "probe"}, key="probe")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert keys_named("probe") == 2
    assert post(api, "native", {"name": "probe"}, key="probe")["Idempotent-Replayed"] == "true"


def test_after_24_hours_the_key_runs_again(api, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    assert post(api, "native", {"name": "daily"}).status_code == 201
    time_machine.shift(IDEMPOTENCY_TTL - timedelta(seconds=1))
    assert post(api, "native", {"name": "daily"})["Idempotent-Replayed"] == "true"
    time_machine.shift(timedelta(seconds=1))
    response = post(api, "native", {"name": "daily"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert keys_named("daily") == 2


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_request_refused_by_validation_stores_nothing(api, dialect):
    refused = post(api, dialect, {"name": ""})
    assert refused.status_code == DIALECT_PATHS[dialect][1].validation_status
    assert not IdempotencyKey.objects.exists()
    corrected = post(api, dialect, {"name": "fixed"})
    assert corrected.status_code == 201
    assert keys_named("fixed") == 1


def test_business_errors_and_crashes_store_nothing(api):
    assert post(api, "native", {"name": "x", "outcome": "conflict"}).status_code == 409
    api.raise_request_exception = False
    crashed = post(api, "native", {"name": "x", "outcome": "crash"})
    assert crashed.status_code == 500
    assert crashed.json() == {"detail": "Internal server error."}
    assert not IdempotencyKey.objects.exists()
    assert post(api, "native", {"name": "x"}).status_code == 201


@pytest.mark.parametrize("key", [None, "k"])
def test_an_answer_that_cannot_be_rendered_is_500_and_writes_nothing(api, key):
    api.raise_request_exception = False
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = api.post("/api/v1/test-writes", {"name": "x", "outcome": "unrenderable"}, format="json", **headers)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert not IdempotencyKey.objects.exists()
    assert keys_named("x") == 0
    assert post(api, "native", {"name": "x"}, key=key or "after").status_code == 201


def test_a_request_refused_by_authentication_stores_nothing(project):
    client = keyed_client(project, issue_key(project))
    client.credentials(HTTP_AUTHORIZATION="Bearer sl_live_abcdefgh_" + "x" * 40)
    assert post(client, "native", {"name": "x"}).status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_keys_are_scoped_to_the_project(api, other_api):
    assert post(api, "native", {"name": "a"}).status_code == 201
    other = post(other_api, "native", {"name": "b"})
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "non-ascii-ä"])
def test_a_malformed_key_is_400(api, key):
    response = post(api, "sells", {"name": "x"}, key=key)
    assert response.status_code == 400
    assert response.json() == {"message": "Idempotency-Key must be 1 to 255 printable ASCII characters."}
    assert not APIKey.objects.filter(name="x").exists()


def test_reads_ignore_the_header(api):
    response = api.get("/api/v1/test-writes", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 200
    assert not IdempotencyKey.objects.exists()


def test_query_cost_of_a_keyed_write(api, django_assert_num_queries):
    """Without a key the gate adds the rate counter, the write's transaction and the log row; a key adds
    its claim, the claim's lock and its answer."""
    post(api, "native", {"name": "warm"}, key="warm")
    # auth + rate counter + the write's transaction (savepoint, release: begin and commit outside a test
    # transaction) around the view's key insert and its api_key.created event + request log
    with django_assert_num_queries(7):
        api.post("/api/v1/test-writes", {"name": "plain"}, format="json")
    # + claim insert (savepoint, insert, release: one statement outside a test transaction) + the claim's
    # lock and the stored answer in the write's transaction
    with django_assert_num_queries(12):
        post(api, "native", {"name": "keyed"}, key="new")
    # replay: auth + rate counter + refused claim (savepoint, rollback, release) + read + request log
    with django_assert_num_queries(8):
        post(api, "native", {"name": "keyed"}, key="new")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dialect", ["native", "track", "connecteam"])
def test_racing_workers_with_one_key_run_the_request_once(project, issued_key, dialect):
    def work(index):
        client = keyed_client(project, issued_key)
        response = post(client, dialect, {"name": "raced", "pause": 0.3}, key="race")
        return response.status_code, response.content

    results = race(8, work)
    statuses = sorted(status for status, _ in results)
    assert keys_named("raced") == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    created = {content for status, content in results if status == 201}
    assert len(created) == 1, "every 201 is the one stored answer"
