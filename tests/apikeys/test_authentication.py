"""The key is accepted the three ways the dialects send it, and refused in every other case."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import APIKey
from apikeys.services import api_key_revoke, api_key_rotate
from salesledger.errors import MISSING_CREDENTIALS
from tests.factories import issue_key
from tests.helpers import KeyedClient, keyed_client

pytestmark = pytest.mark.django_db


def basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


@pytest.mark.parametrize("style", ["bearer", "header", "basic"])
def test_key_accepted_in_each_header_style(project, issued_key, style):
    response = keyed_client(project, issued_key, style).get("/api/v1/project/")
    assert response.status_code == 200
    assert response.json()["slug"] == "alpha"


def test_basic_with_key_as_password(project, issued_key):
    client = KeyedClient()
    client.credentials(HTTP_AUTHORIZATION=basic(f"anything:{issued_key.secret}"))
    assert client.get("/api/v1/project").status_code == 200


def _get_with(**headers):
    return KeyedClient().get("/api/v1/project/", **headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer sl_live_abcdefgh_" + "x" * 40},
        {"HTTP_AUTHORIZATION": "Bearer not-a-key"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Token whatever"},
        {"HTTP_AUTHORIZATION": "Basic !!!not-base64"},
        {"HTTP_X_API_KEY": ""},
        {"HTTP_X_API_KEY": "sl_live_"},
    ],
    ids=["missing", "unknown", "malformed", "empty-bearer", "other-scheme", "bad-basic", "empty-header", "stub"],
)
def test_missing_unknown_or_malformed_key_is_401(project, headers):
    response = _get_with(**headers)
    assert response.status_code == 401
    expected = MISSING_CREDENTIALS if not headers else "Invalid or missing API key."
    assert response.json() == {"detail": expected}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_wrong_secret_with_real_prefix_is_401(issued_key):
    tampered = issued_key.secret[:-1] + ("A" if issued_key.secret[-1] != "A" else "B")
    assert _get_with(HTTP_AUTHORIZATION=f"Bearer {tampered}").status_code == 401


def test_revoked_key_is_401(issued_key):
    api_key_revoke(api_key=issued_key.api_key)
    assert _get_with(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret}").status_code == 401


def test_expired_key_is_401(project):
    issued = issue_key(project, expires_at=timezone.now() - timedelta(seconds=1))
    assert _get_with(HTTP_X_API_KEY=issued.secret).status_code == 401


def test_only_a_hash_is_stored(issued_key):
    stored = APIKey.objects.get(pk=issued_key.api_key.pk)
    secret_part = issued_key.secret.rsplit("_", 1)[1]
    assert secret_part not in stored.hashed_key
    assert issued_key.secret.startswith(f"sl_live_{stored.prefix}_")
    assert len(issued_key.secret) >= 48


def test_rotated_key_works_during_grace_then_not(project, issued_key, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    new = api_key_rotate(api_key=issued_key.api_key, grace="1h")
    old_header = {"HTTP_AUTHORIZATION": f"Bearer {issued_key.secret}"}
    new_header = {"HTTP_AUTHORIZATION": f"Bearer {new.secret}"}
    assert new.api_key.name == issued_key.api_key.name
    assert _get_with(**old_header).status_code == 200
    assert _get_with(**new_header).status_code == 200

    time_machine.shift(timedelta(minutes=59))
    assert _get_with(**old_header).status_code == 200

    time_machine.shift(timedelta(minutes=2))
    assert _get_with(**old_header).status_code == 401
    assert _get_with(**new_header).status_code == 200


def test_rotation_without_grace_refuses_old_key_at_once(issued_key):
    new = api_key_rotate(api_key=issued_key.api_key, grace="none")
    assert _get_with(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret}").status_code == 401
    assert _get_with(HTTP_AUTHORIZATION=f"Bearer {new.secret}").status_code == 200


def test_rotating_twice_is_refused(issued_key):
    api_key_rotate(api_key=issued_key.api_key, grace="24h")
    with pytest.raises(ValueError):
        api_key_rotate(api_key=issued_key.api_key, grace="24h")


def test_last_used_written_at_most_once_a_minute(api, issued_key, time_machine, django_assert_num_queries):
    time_machine.move_to(timezone.now(), tick=False)
    api.get("/api/v1/project/")
    first = APIKey.objects.get(pk=issued_key.api_key.pk).last_used_at
    assert first is not None

    # Within the minute: the key lookup, the rate-limit counter and the request log row; no key write.
    with django_assert_num_queries(3):
        api.get("/api/v1/project/")
    assert APIKey.objects.get(pk=issued_key.api_key.pk).last_used_at == first

    time_machine.shift(timedelta(seconds=61))
    with django_assert_num_queries(4):
        api.get("/api/v1/project/")
    assert APIKey.objects.get(pk=issued_key.api_key.pk).last_used_at > first


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_the_api_docs_are_public_and_read_no_key(client, path):
    """A key sent to the schema or its viewers is not read: no free check of a key's validity outside the
    gate's failed-attempt limits."""
    response = client.get(path, HTTP_AUTHORIZATION="Bearer sl_live_abcdefgh_" + "x" * 40)
    assert response.status_code == 200
