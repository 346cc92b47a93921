"""The database away (restarting, failing over): a JSON 503 with Retry-After in each dialect's shape,
never an HTML 500, and the next request after it returns is served on a new connection."""

import json

import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory

from apikeys.models import APIKey
from salesledger.errors import DATABASE_UNAVAILABLE
from salesledger.views import crashed
from tests.reliability.shapes import DIALECTS, expected_error
from tests.reliability.urls import DIALECT_PATHS

pytestmark = pytest.mark.urls("tests.reliability.urls")


@pytest.mark.postgres
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_lost_database_is_503_with_retry_after_in_the_dialects_shape(api, database_away, dialect):
    away, back = database_away
    path, shape = DIALECT_PATHS[dialect]
    away()
    response = api.post(path, {"name": "during"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response["Content-Type"] == "application/json"
    assert response.json() == expected_error(shape, 503, DATABASE_UNAVAILABLE)

    back()
    retried = api.post(path, {"name": "during"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retried.status_code == 201
    assert APIKey.objects.filter(name="during").count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_database_lost_before_the_write_begins_is_503_too(api, redis_cache, database_away, dialect):
    """With Redis a known key costs no query: the write's transaction is then the first to need the database,
    and losing it there is the same 503 (the fault drill once met a 500 there, the transaction not begun)."""
    away, back = database_away
    path, shape = DIALECT_PATHS[dialect]
    # Refused writes, which write no key (a key written renews the key epoch); the first use stamps the key.
    for _ in range(2):
        assert api.post(path, {"name": "refused", "outcome": "conflict"}, format="json").status_code in (400, 409)
    away()
    response = api.post(path, {"name": "during"}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json() == expected_error(shape, 503, DATABASE_UNAVAILABLE)

    back()
    assert api.post(path, {"name": "after"}, format="json").status_code == 201
    assert not APIKey.objects.filter(name="during").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, "k"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_database_lost_after_the_write_leaves_nothing_written(api, dialect, key):
    """The write and its answer are one transaction: a 503 never hides a committed write."""
    path, shape = DIALECT_PATHS[dialect]
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = api.post(path, {"name": "lost", "outcome": "connection_lost"}, format="json", **headers)
    connection.close()  # What Django does after such a request; the test client keeps it open.
    assert response.status_code == 503
    assert response.json() == expected_error(shape, 503, DATABASE_UNAVAILABLE)
    assert not APIKey.objects.filter(name="lost").exists()
    if key:
        assert api.post(path, {"name": "lost"}, format="json", **headers).status_code == 201


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_database_lost_outside_a_view_is_503_in_the_dialects_shape(dialect):
    path, shape = DIALECT_PATHS[dialect]
    # Django calls handler500 inside its `except` block, as here (a commit that failed after the view).
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = crashed(RequestFactory().post(path))
    assert (response.status_code, response["Retry-After"]) == (503, "2")
    assert json.loads(response.content) == expected_error(shape, 503, DATABASE_UNAVAILABLE)
