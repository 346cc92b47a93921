"""Webhook tests post to a receiver on 127.0.0.1, which only WEBHOOKS_ALLOW_PRIVATE_URLS lets through."""

import pytest

from tests.json_clients import api, other_api  # noqa: F401


@pytest.fixture(autouse=True)
def allow_loopback_receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = ["127.0.0.1"]
