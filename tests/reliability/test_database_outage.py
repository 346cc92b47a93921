"""The database away (restarting, failing over): a JSON 503 with Retry-After in each dialect's shape,
never an HTML 500, and the next request after it returns is served on a new connection."""

import json

import pytest
from django.db import OperationalError
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
