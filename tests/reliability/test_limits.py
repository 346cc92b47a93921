"""Rate limits per key (the project's `rate_limit`), failed authentication per address, their headers."""

from io import StringIO

import pytest
from django.core.management import call_command

from apikeys import limits
from apikeys.api.pagination import BoundedLimitOffsetPagination
from apikeys.models import RateCounter
from tests.factories import issue_key
from tests.helpers import KeyedClient, keyed_client
from tests.reliability.shapes import DIALECTS, expected_error
from tests.reliability.urls import DIALECT_PATHS

pytestmark = pytest.mark.django_db

BAD_KEY = "Bearer sl_live_abcdefgh_" + "x" * 40
BLOCKED = "Too many failed authentication attempts from this address."


def test_every_answer_carries_the_rate_headers(api):
    first = api.get("/api/v1/project/")
    second = api.get("/api/v1/keys/")
    assert first["X-RateLimit-Limit"] == "600"
    assert first["X-RateLimit-Remaining"] == "599"
    assert second["X-RateLimit-Remaining"] == "598"
    assert 1 <= int(second["X-RateLimit-Reset"]) <= 60
    missing = api.get("/api/v1/keys/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404
    assert missing["X-RateLimit-Remaining"] == "597"


@pytest.mark.urls("tests.reliability.urls")
@pytest.mark.parametrize("dialect", DIALECTS)
def test_over_the_projects_limit_is_429_in_the_dialects_shape(project, issued_key, dialect, time_machine):
    time_machine.move_to("2026-11-22 12:00:10", tick=False)
    project.rate_limit = 3
    project.save()
    client = keyed_client(project, issued_key)
    path, shape = DIALECT_PATHS[dialect]
    remaining = [client.get(path)["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]

    refused = client.get(path)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"
    assert refused["X-RateLimit-Limit"] == "3"
    assert refused["X-RateLimit-Remaining"] == "0"
    assert refused["X-RateLimit-Reset"] == "50"
    message = "Rate limit of 3 requests per minute exceeded. Expected available in 50 seconds."
    assert refused.json() == expected_error(shape, 429, message)

    # Another key of the same project has its own allowance; the next minute starts again.
    assert keyed_client(project, issue_key(project)).get(path).status_code == 200
    time_machine.shift(50)
    assert client.get(path)["X-RateLimit-Remaining"] == "2"


def test_failed_authentication_is_limited_per_address_and_key_prefix(
    project, issued_key, other_project, other_key, monkeypatch, time_machine
):
    time_machine.move_to("2026-11-22 12:00:30", tick=False)
    monkeypatch.setattr(limits, "FAILED_AUTH_LIMIT", 3)
    guesser = KeyedClient(REMOTE_ADDR="203.0.113.9")
    # Wrong secrets for project A's key prefix.
    guesser.credentials(HTTP_AUTHORIZATION=f"Bearer sl_live_{issued_key.api_key.prefix}_" + "x" * 40)
    assert [guesser.get("/api/v1/project/").status_code for _ in range(3)] == [401, 401, 401]

    blocked = guesser.get("/api/v1/project/")
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "30"
    assert blocked.json() == {"detail": f"{BLOCKED} Expected available in 30 seconds."}

    # A correct guess from the blocked address is refused the same way: the guesser learns nothing.
    lucky = keyed_client(project, issued_key)
    assert lucky.get("/api/v1/project/", REMOTE_ADDR="203.0.113.9").status_code == 429
    # Its own X-Forwarded-For does not make it another client; a real other address is not affected.
    assert lucky.get("/api/v1/project/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 429
    assert lucky.get("/api/v1/project/", REMOTE_ADDR="198.51.100.7").status_code == 200
    # Another project's key from the same address (a shared NAT) is not locked out by the guessing.
    neighbour = keyed_client(other_project, other_key)
    assert neighbour.get("/api/v1/project/", REMOTE_ADDR="203.0.113.9").status_code == 200

    time_machine.shift(30)
    assert lucky.get("/api/v1/project/", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_unknown_prefixes_have_a_larger_cap_per_address_and_lock_no_key_out(
    project, issued_key, monkeypatch, time_machine
):
    time_machine.move_to("2026-11-22 12:00:30", tick=False)
    monkeypatch.setattr(limits, "FAILED_AUTH_LIMIT", 1)
    monkeypatch.setattr(limits, "FAILED_AUTH_UNKNOWN_PREFIX_LIMIT", 3)
    guesser = KeyedClient(REMOTE_ADDR="203.0.113.9")
    sent = [BAD_KEY, "Bearer sl_live_zzzzzzzz_" + "y" * 40, "Bearer not-a-key", "Bearer sl_live_abcdefgh_" + "z" * 40]
    statuses = []
    for header in sent:
        guesser.credentials(HTTP_AUTHORIZATION=header)
        statuses.append(guesser.get("/api/v1/project/").status_code)
    assert statuses == [401, 401, 401, 429]
    assert keyed_client(project, issued_key).get("/api/v1/project/", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_missing_credentials_are_not_counted_as_guesses(monkeypatch):
    monkeypatch.setattr(limits, "FAILED_AUTH_LIMIT", 1)
    client = KeyedClient()
    assert [client.get("/api/v1/project/").status_code for _ in range(3)] == [401, 401, 401]


def test_one_row_per_bucket_whatever_the_traffic(api, time_machine):
    time_machine.move_to("2026-11-22 12:00:00", tick=False)
    for _ in range(3):
        api.get("/api/v1/project/")
    time_machine.shift(61)
    api.get("/api/v1/project/")
    assert list(RateCounter.objects.values_list("hits", flat=True)) == [1]


def test_a_page_is_bounded_whatever_limit_is_asked(api, project, monkeypatch):
    assert BoundedLimitOffsetPagination.max_limit == 500
    monkeypatch.setattr(BoundedLimitOffsetPagination, "max_limit", 2)
    issue_key(project, name="second")
    issue_key(project, name="third")
    page = api.get("/api/v1/keys/?limit=1000000").json()
    assert (page["count"], len(page["results"])) == (3, 2)
    assert "limit=2" in page["next"]


def test_purge_rate_counters_drops_finished_windows(api, time_machine):
    time_machine.move_to("2026-11-22 12:00:00", tick=False)
    guesser = KeyedClient(REMOTE_ADDR="203.0.113.9")
    guesser.credentials(HTTP_AUTHORIZATION=BAD_KEY)
    guesser.get("/api/v1/project/")
    api.get("/api/v1/project/")
    time_machine.shift(61)
    api.get("/api/v1/project/")
    out = StringIO()
    call_command("purge_rate_counters", stdout=out)
    assert out.getvalue() == "Deleted 1 finished rate-limit counters.\n"
    assert list(RateCounter.objects.values_list("bucket", flat=True)) == [limits.key_bucket(api.issued.api_key)]
