"""With REDIS_URL set the counters live in Redis: the same limits, no database round trip; with
Redis gone, the database counts until it is back."""

import pytest
from django.test import override_settings

from apikeys import limits
from apikeys.models import RateCounter
from tests.helpers import KeyedClient
from tests.reliability.servers import RedisServer

pytestmark = pytest.mark.django_db


def test_limits_count_in_redis_without_touching_the_database(api, project, redis_cache, django_assert_num_queries):
    """The same request costs the log row alone, 1 query instead of 3: the counter is in Redis and the key in
    the process's key cache."""
    project.rate_limit = 2
    project.save()
    api.get("/api/v1/project/")
    with django_assert_num_queries(1):
        second = api.get("/api/v1/project/")
    assert second["X-RateLimit-Remaining"] == "0"
    third = api.get("/api/v1/project/")
    assert third.status_code == 429
    assert not RateCounter.objects.exists()


def test_a_request_costs_one_round_trip_to_redis(api, redis_cache, request):
    """Counting the hit, its expiry and reading the address's failed attempts and the key epoch are one
    command, once the key is in the process's key cache."""
    api.get("/api/v1/project/")
    sent = request.getfixturevalue("redis_commands")
    assert api.get("/api/v1/project/")["X-RateLimit-Remaining"] == str(api.project.rate_limit - 2)
    assert len(sent) == 1


def test_failed_authentication_counts_in_redis(redis_cache, monkeypatch):
    monkeypatch.setattr(limits, "FAILED_AUTH_UNKNOWN_PREFIX_LIMIT", 2)
    guesser = KeyedClient()
    guesser.credentials(HTTP_AUTHORIZATION="Bearer sl_live_abcdefgh_" + "x" * 40)
    assert [guesser.get("/api/v1/project/").status_code for _ in range(3)] == [401, 401, 429]


def test_redis_down_falls_back_to_the_database_and_comes_back_by_itself(api, project, caplog, time_machine):
    server = RedisServer()
    server.start()
    project.rate_limit = 3
    project.save()
    time_machine.move_to("2026-11-30T12:00:00Z", tick=False)
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}
    with override_settings(CACHES={"default": backend}):
        assert api.get("/api/v1/project/")["X-RateLimit-Remaining"] == "2"
        server.stop()
        try:
            # The limit still holds, counted in the database from zero; one warning for the outage.
            assert [api.get("/api/v1/project/").status_code for _ in range(4)] == [200, 200, 200, 429]
            assert RateCounter.objects.get().hits == 4
            warnings = [record for record in caplog.records if record.getMessage().startswith("Redis unreachable")]
            assert len(warnings) == 1
            assert warnings[0].levelname == "WARNING"

            server.start()
            time_machine.shift(limits.REDIS_RETRY_SECONDS)
            # Counted in Redis again (restarted empty: the window starts again there), not in the database.
            back = api.get("/api/v1/project/")
            assert (back.status_code, back["X-RateLimit-Remaining"]) == (200, "2")
            assert RateCounter.objects.get().hits == 4
        finally:
            server.stop()


def test_redis_restarted_while_idle_costs_no_fallback(api, project, caplog):
    """A connection Redis closed while idle (a restart) is replaced before the next command is sent on it:
    the next request counts in Redis, with no warning and nothing counted in the database."""
    server = RedisServer()
    server.start()
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}
    with override_settings(CACHES={"default": backend}):
        try:
            assert api.get("/api/v1/project/").status_code == 200
            server.stop()
            server.start()
            response = api.get("/api/v1/project/")
            assert (response.status_code, response["X-RateLimit-Remaining"]) == (200, str(project.rate_limit - 1))
            assert not RateCounter.objects.exists()
            assert not [record for record in caplog.records if record.getMessage().startswith("Redis unreachable")]
        finally:
            server.stop()
