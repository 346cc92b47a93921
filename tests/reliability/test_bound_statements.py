"""Prepared statements run bound (PostgreSQL's extended protocol, `salesledger.postgresql`): the values travel
apart from the statement, and every kind the services send arrives as it was sent, as when written into it."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from django.db import connection, transaction
from psycopg.types.json import Jsonb
from psycopg.types.numeric import Int4

from salesledger.db import execute_prepared

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SENT = [
    uuid.UUID("0b6f1b9e-8d5a-4c3e-9f1a-2b3c4d5e6f70"), Decimal("-12.3400"), Decimal("1E+3"),
    datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC), date(2026, 2, 28), "it's a \\ \"quote\" \u2713 \u2028",
    "", None, True, False, 2**62, -7, Jsonb({"a": [1, "\u00e9", None], "b": {"c": 1.5}}),
    [uuid.UUID(int=1), uuid.UUID(int=2)], ["a", "b c", 'd"e', "{x}", ""], Int4(3), 19.99,
]  # fmt: skip
SQL = (
    "SELECT %s::uuid, %s::numeric, %s::numeric, %s::timestamptz, %s::date, %s::text, %s::text, %s::text, %s::boolean, "
    "%s::boolean, %s::bigint, %s::integer, %s::jsonb, %s::uuid[], %s::text[], %s::smallint, %s::float8"
)
# Django reads jsonb as its text (its JSONField parses it).
RECEIVED = (
    SENT[0], Decimal("-12.3400"), Decimal("1E+3"), SENT[3], SENT[4], SENT[5], "", None, True, False, 2**62, -7,
    '{"a": [1, "\u00e9", null], "b": {"c": 1.5}}', SENT[13], SENT[14], 3, 19.99,
)  # fmt: skip


def last_statement_seen_by_the_server(pid: int) -> str:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def test_values_sent_bound_arrive_as_sent():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with connection.cursor() as cursor:
        execute_prepared(cursor, "test_bound_values", SQL, SENT)  # autocommit: bound at once
        assert cursor.fetchone() == RECEIVED
        bound = last_statement_seen_by_the_server(pid)
        with transaction.atomic():
            execute_prepared(cursor, "test_bound_values", SQL, SENT)  # opens the transaction: written in, with BEGIN
            assert cursor.fetchone() == RECEIVED
            written = last_statement_seen_by_the_server(pid)
            execute_prepared(cursor, "test_bound_values", SQL, SENT)  # in the open transaction: bound
            assert cursor.fetchone() == RECEIVED
            assert last_statement_seen_by_the_server(pid) == bound
    # Bound, the server saw the statement's own text; written in, the values were in the text it parsed.
    assert bound.startswith("PREPARE test_bound_values AS SELECT $1::uuid") and "it''s" not in bound
    assert written.startswith("BEGIN") and "EXECUTE test_bound_values(" in written and "it''s" in written


def test_a_refused_value_sent_bound_is_the_databases_error():
    connection.ensure_connection()
    with connection.cursor() as cursor, pytest.raises(Exception) as raised:
        execute_prepared(cursor, "test_bound_integer", "SELECT %s::integer", ["not a number"])
    assert type(raised.value).__module__ == "django.db.utils"  # wrapped by Django as any statement's error
    assert "invalid input syntax for type integer" in str(raised.value)
