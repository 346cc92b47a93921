"""A kept connection is checked before each request without a round trip while it is sound, and found
dead at once when PostgreSQL has ended it (salesledger/postgresql)."""

import time

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def last_statement_of(pid: int) -> str:
    """What the session `pid` last sent, read from another connection."""
    with psycopg.connect(**connection.get_connection_params()) as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() AS before_the_check")
        return cursor.fetchone()[0]


def test_a_sound_connection_is_checked_without_a_statement():
    pid = backend_pid()

    assert connection.is_usable()
    assert connection.is_usable()

    assert last_statement_of(pid) == "SELECT pg_backend_pid() AS before_the_check"


def test_a_connection_the_server_ended_is_unusable_and_replaced():
    pid = backend_pid()
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    deadline = time.monotonic() + 5
    while connection.is_usable():  # the server's goodbye arrives as soon as its backend has exited
        assert time.monotonic() < deadline, "the ended connection still looks usable"
        time.sleep(0.01)
    connection.close()

    assert backend_pid() != pid


def test_a_connection_with_something_to_read_gets_a_real_check():
    """A message the server sent unasked (here a notification) is read by a `SELECT 1`, not taken for
    a goodbye: the connection stays."""
    pid = backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN connection_check")
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("NOTIFY connection_check")
    time.sleep(0.2)

    assert connection.is_usable()

    assert last_statement_of(pid) == "SELECT 1"
    assert backend_pid() == pid
    connection.close()  # no LISTEN left to the next test's connection
