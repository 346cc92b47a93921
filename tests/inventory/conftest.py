"""Fixtures of the inventory tests: products are made through the services, like everywhere else."""

import pytest


@pytest.fixture
def api(api):
    """Project A's client, sending JSON bodies without `format="json"` on every call."""
    api.default_format = "json"
    return api


@pytest.fixture
def other_api(other_api):
    other_api.default_format = "json"
    return other_api
