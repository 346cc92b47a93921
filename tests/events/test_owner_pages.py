"""The owner's Webhooks page answers only the project's owners; secrets are rendered once, never stored."""

import pytest
from django.test import Client

from events.webhooks.models import WebhookEndpoint
from events.webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(owner):
    client = Client()
    client.force_login(owner)
    return client


def test_another_owner_sees_and_changes_nothing(project, other_project, owner_client):
    theirs = endpoint_create(project=other_project, url="https://hooks.example.com/b", event_types=["*"])
    assert owner_client.get("/projects/beta/webhooks/").status_code == 404
    for action in ("rotate", "toggle", "ping", "delete"):
        assert owner_client.post(f"/projects/alpha/webhooks/{theirs.pk}/{action}").status_code == 404
    assert WebhookEndpoint.objects.get() == theirs and theirs.secret == WebhookEndpoint.objects.get().secret


def test_a_refused_url_is_a_400_naming_the_rule(project, owner_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = []
    response = owner_client.post("/projects/alpha/webhooks/create", {"url": "https://10.0.0.1/in", "event_types": "*"})
    assert response.status_code == 400
    assert "Webhook URLs may not point to private, loopback or link-local addresses." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
