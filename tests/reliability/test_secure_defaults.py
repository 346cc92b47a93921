"""Secure defaults with DEBUG off: headers on every answer, no HTML or traces from the API."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_debug_is_off_and_the_api_sends_protective_headers(api):
    assert settings.DEBUG is False
    response = api.get("/api/v1/project/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Type"] == "application/json"
