"""Owner pages with Django's test client: who sees what, CSRF, and the secret shown once."""

import re

import pytest
from django.test import Client

from apikeys.models import APIKey
from tests.helpers import KeyedClient

pytestmark = pytest.mark.django_db
SECRET = re.compile(r"sl_live_[a-z0-9]{8}_[A-Za-z0-9]{40}")


@pytest.fixture
def owner_client(owner):
    client = Client()
    client.force_login(owner)
    return client


def test_login_required(client, project):
    response = client.get("/projects/alpha/keys/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_project_list_shows_only_owned_projects(owner_client, project, other_project):
    html = owner_client.get("/projects/").content.decode()
    assert "Alpha" in html and "Beta" not in html


def test_other_users_project_is_404(owner_client, other_project, other_key):
    assert owner_client.get("/projects/beta/keys/").status_code == 404
    assert owner_client.post("/projects/beta/keys/create", {"name": "x"}).status_code == 404
    assert owner_client.post(f"/projects/beta/keys/{other_key.api_key.pk}/revoke").status_code == 404
    assert APIKey.objects.get(pk=other_key.api_key.pk).revoked_at is None


def test_create_shows_secret_once(owner_client, project):
    response = owner_client.post("/projects/alpha/keys/create", {"name": "Shop webhook"})
    assert response.status_code == 200
    [secret] = set(SECRET.findall(response.content.decode()))
    assert "won't be shown again" in response.content.decode()

    api = KeyedClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/project/").json()["slug"] == "alpha"

    listing = owner_client.get("/projects/alpha/keys/").content.decode()
    assert "Shop webhook" in listing and secret not in listing and not SECRET.search(listing)


def test_pages_showing_a_secret_are_never_stored(owner_client, project, issued_key):
    created = owner_client.post("/projects/alpha/keys/create", {"name": "Shop webhook"})
    rotated = owner_client.post(f"/projects/alpha/keys/{issued_key.api_key.pk}/rotate", {"grace": "none"})
    for response in (created, rotated):
        assert SECRET.search(response.content.decode())
        assert set(response["Cache-Control"].split(", ")) >= {"no-store", "no-cache", "private"}


def test_create_with_blank_name_is_refused(owner_client, project):
    response = owner_client.post("/projects/alpha/keys/create", {"name": ""})
    assert response.status_code == 400
    assert project.api_keys.count() == 0


def test_rotate_and_revoke(owner_client, project, issued_key):
    response = owner_client.post(f"/projects/alpha/keys/{issued_key.api_key.pk}/rotate", {"grace": "none"})
    [new_secret] = set(SECRET.findall(response.content.decode()))
    assert new_secret != issued_key.secret
    old, new = APIKey.objects.get(pk=issued_key.api_key.pk), APIKey.objects.get(replaced_by__isnull=True)
    assert old.status == "revoked" and new.status == "active" and old.replaced_by == new

    response = owner_client.post(f"/projects/alpha/keys/{new.pk}/revoke")
    assert response.status_code == 302
    assert APIKey.objects.get(pk=new.pk).status == "revoked"


def test_posts_are_csrf_protected(owner, project):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post("/projects/alpha/keys/create", {"name": "x"}).status_code == 403
    assert project.api_keys.count() == 0
