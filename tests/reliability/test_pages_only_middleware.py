"""API requests go past the pages' middleware (sessions, CSRF, users, messages) and keep every security
header; the pages keep all of it."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def test_an_api_request_has_no_session_user_or_messages_and_the_same_security_headers(api):
    response = api.get("/api/v1/project/")
    assert response.status_code == 200
    assert {name: response.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert not response.cookies
    request = response.wsgi_request
    assert not any(hasattr(request, name) for name in ("session", "_messages", "auser"))


def test_pages_keep_sessions_and_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert {name: page.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "csrftoken" in page.cookies
    refused = client.post("/accounts/login/", {"username": "owner", "password": "x"})
    assert refused.status_code == 403  # no CSRF token
    assert hasattr(refused.wsgi_request, "session")


def test_the_api_docs_are_pages(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")
