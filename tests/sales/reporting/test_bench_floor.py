"""The benchmark's floor endpoint: the gate every API write passes (key lookup, rate counter, the write's
transaction), then one INSERT, nothing else."""

import pytest
from django.db import connection
from rest_framework.test import APIRequestFactory

from bench.floor import FLOOR_TABLE_SQL, FloorView

pytestmark = pytest.mark.postgres


@pytest.fixture
def floor_table(db):
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE_SQL)


def post(secret=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return FloorView.as_view()(APIRequestFactory().post("/api/bench/floor", {}, format="json", **headers))


def test_the_floor_passes_the_gate_and_inserts_one_row(floor_table, issued_key, django_assert_num_queries):
    assert post(issued_key.secret).status_code == 201  # the first use also records the key's last use
    # The key lookup, the rate counter, and the INSERT in the write's transaction (here a savepoint and
    # its release inside the test's transaction; under a server BEGIN and COMMIT, which Django does not count).
    with django_assert_num_queries(5):
        response = post(issued_key.secret)
    assert response.status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_floor WHERE project_id = %s", [issued_key.api_key.project_id])
        assert cursor.fetchone() == (2,)


def test_the_floor_needs_a_key(floor_table):
    assert post().status_code == 401
    assert post("sl_live_nope").status_code == 401
