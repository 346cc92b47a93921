"""Faults the reliability tests inject for real: the database away."""

import socket

import pytest
from django.db import connection


def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_away(transactional_db):
    """Cut the server's connection and point it at a closed port; put it back after the test."""
    saved = connection.settings_dict["PORT"]

    def away():
        connection.close()
        connection.settings_dict["PORT"] = closed_port()

    def back():
        connection.close()
        connection.settings_dict["PORT"] = saved

    yield away, back
    back()
