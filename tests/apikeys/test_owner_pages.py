"""Owner pages with Django's test client: who sees what, CSRF, and the secret shown once."""

import re
from datetime import UTC, datetime

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


def test_create_redirects_and_shows_the_secret_once(owner_client, project):
    response = owner_client.post("/projects/alpha/keys/create", {"name": "Shop webhook"})
    assert (response.status_code, response["Location"]) == (302, "/projects/alpha/keys/")
    assert SECRET.search(response.content.decode()) is None

    shown = owner_client.get("/projects/alpha/keys/")
    [secret] = set(SECRET.findall(shown.content.decode()))
    assert "won't be shown again" in shown.content.decode()
    api = KeyedClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/project/").json()["slug"] == "alpha"

    reloaded = owner_client.get("/projects/alpha/keys/").content.decode()
    assert "Shop webhook" in reloaded and secret not in reloaded and not SECRET.search(reloaded)
    assert project.api_keys.count() == 1


def test_expiry_is_entered_and_shown_in_the_project_time_zone(owner_client, project):
    project.time_zone = "Europe/Helsinki"
    project.save()
    owner_client.post("/projects/alpha/keys/create", {"name": "Temp", "expires_at": "2027-01-31T23:59"})

    assert APIKey.objects.get().expires_at == datetime(2027, 1, 31, 21, 59, tzinfo=UTC)
    page = owner_client.get("/projects/alpha/keys/").content.decode()
    assert "<td>2027-01-31 23:59 EET</td>" in page
    assert "Times are in Europe/Helsinki, the project's time zone." in page
    assert '<label for="id_expires_at">Expires (optional, Europe/Helsinki time)</label>' in page
    assert 'type="datetime-local" name="expires_at"' in page


def test_revoke_and_regenerate_ask_for_confirmation(owner_client, project, issued_key):
    page = owner_client.get("/projects/alpha/keys/").content.decode()
    prefix = issued_key.api_key.display_prefix
    assert f'data-confirm="Revoke “{issued_key.api_key.name}” ({prefix}_…)? Every request' in page
    assert f'data-confirm="Regenerate “{issued_key.api_key.name}” ({prefix}_…)? A new key' in page


def test_pages_showing_a_secret_are_never_stored(owner_client, project, issued_key):
    created = owner_client.post("/projects/alpha/keys/create", {"name": "Shop webhook"}, follow=True)
    rotated = owner_client.post(f"/projects/alpha/keys/{issued_key.api_key.pk}/rotate", {"grace": "none"},
                                follow=True)  # fmt: skip
    for response in (created, rotated):  # the page the form redirected to, which shows the secret
        assert SECRET.search(response.content.decode())
        assert set(response["Cache-Control"].split(", ")) >= {"no-store", "no-cache", "private"}


def test_create_with_blank_name_is_refused(owner_client, project):
    response = owner_client.post("/projects/alpha/keys/create", {"name": ""})
    assert response.status_code == 400
    assert project.api_keys.count() == 0


def test_rotate_and_revoke(owner_client, project, issued_key):
    response = owner_client.post(f"/projects/alpha/keys/{issued_key.api_key.pk}/rotate", {"grace": "none"})
    assert response.status_code == 302
    [new_secret] = set(SECRET.findall(owner_client.get(response["Location"]).content.decode()))
    assert not SECRET.search(owner_client.get(response["Location"]).content.decode())
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
