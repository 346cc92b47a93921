"""The PostgreSQL backend's round trips (salesledger/postgresql): a transaction's BEGIN travels with its first
statement, and the key lookup of every API request is planned once per connection."""

import psycopg
import pytest
from django.db import DataError, IntegrityError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.reliability.test_connection_check import backend_pid, last_statement_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def status() -> str:
    return connection.connection.info.transaction_status.name


def test_the_first_statement_of_a_transaction_carries_its_begin():
    pid = backend_pid()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT %s::int AS answer", [42])
        first = last_statement_of(pid)
        assert (cursor.fetchone(), cursor.description[0].name, status()) == ((42,), "answer", "INTRANS")
        cursor.execute("SELECT 2")
        assert last_statement_of(pid) == "SELECT 2"
    assert first == "BEGIN; SELECT 42::int AS answer"
    assert status() == "IDLE"


def test_a_transaction_holds_its_first_statement_and_rolls_it_back():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE round_trip_probe (id int PRIMARY KEY)")
    try:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO round_trip_probe VALUES (1) RETURNING id")
            assert (cursor.fetchone(), cursor.rowcount) == ((1,), 1)
            cursor.execute("INSERT INTO round_trip_probe VALUES (1)")
        # Fails in the statement that carries the BEGIN:
        with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO round_trip_probe VALUES (1 / 0)")
        # Does not parse: neither runs.
        with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO round_trip_probe VALUES (2) RETURNIN id")
        assert status() == "IDLE"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO round_trip_probe VALUES (3)")
        with connection.cursor() as cursor:
            cursor.execute("SELECT array_agg(id) FROM round_trip_probe")
            assert cursor.fetchone() == ([3],)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE round_trip_probe")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


def test_the_key_lookup_is_prepared_once_per_connection(api):
    connection.close()
    with CaptureQueriesContext(connection) as captured:  # the PREPARE is the session's own, not a statement
        assert api.get("/api/v1/project/").status_code == 200
    assert captured.captured_queries[0]["sql"].startswith("EXECUTE apikeys_key_lookup('")
    prepared = prepared_statements()  # and the rate limit's counter, when it is in the database
    assert "apikeys_key_lookup" in prepared

    assert api.get("/api/v1/project/").status_code == 200
    assert prepared_statements() == prepared

    with psycopg.connect(**connection.get_connection_params()) as other:  # the session ends under it
        other.execute("SELECT pg_terminate_backend(%s)", [backend_pid()])
    connection.close_if_unusable_or_obsolete()
    assert api.get("/api/v1/project/").status_code == 200
    assert prepared_statements() == prepared
