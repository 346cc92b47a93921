"""Webhook tests post to a receiver on 127.0.0.1, which only WEBHOOKS_ALLOW_PRIVATE_URLS lets through."""

import pytest


@pytest.fixture(autouse=True)
def allow_loopback_receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = ["127.0.0.1"]


@pytest.fixture
def api(api):
    """Project A's client, sending JSON bodies without `format="json"` on every call."""
    api.default_format = "json"
    return api


@pytest.fixture
def other_api(other_api):
    other_api.default_format = "json"
    return other_api
