"""With Redis, each process keeps the keys it resolved: a request with a known key skips the key lookup, and
any change to a key, its project or its user is seen by the next request, in every process."""

import time

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from apikeys import key_cache, limits
from apikeys.models import APIKey
from apikeys.services import api_key_revoke, api_key_rotate
from tests.reliability.servers import RedisServer

pytestmark = pytest.mark.django_db
PROJECT = "/api/v1/project/"


@pytest.fixture
def known(api, redis_cache):
    """`api` after a request: its key is in the process's key cache."""
    assert api.get(PROJECT).status_code == 200
    return api


def other_process_changed_something(redis_cache):
    """What another process's change leaves in Redis: a new epoch (this process's entries stay)."""
    redis_cache._cache.get_client(write=True).set(redis_cache.make_and_validate_key(limits.KEY_EPOCH), "another")


def test_a_known_key_costs_no_key_lookup(known, django_assert_num_queries):
    with django_assert_num_queries(1):  # the request log row
        response = known.get(PROJECT)
    assert response.status_code == 200
    assert response.json()["slug"] == known.project.slug


def test_without_redis_every_request_looks_its_key_up(api, django_assert_num_queries):
    api.get(PROJECT)
    for _ in range(2):
        with django_assert_num_queries(3):  # the key lookup, the rate counter, the request log row
            assert api.get(PROJECT).status_code == 200


def test_a_revoked_key_is_refused_at_the_next_request(known):
    api_key_revoke(api_key=known.issued.api_key)
    assert known.get(PROJECT).status_code == 401


def test_a_key_rotated_without_grace_is_refused_at_the_next_request(known):
    api_key_rotate(api_key=known.issued.api_key, grace="none")
    assert known.get(PROJECT).status_code == 401


def test_a_change_made_by_another_process_is_seen_at_the_next_request(known, redis_cache, django_assert_num_queries):
    # Revoked in the database by another process, which then set a new epoch: nothing here heard of it.
    APIKey.objects.filter(pk=known.issued.api_key.pk).update(revoked_at=known.issued.api_key.created_at)
    other_process_changed_something(redis_cache)
    with django_assert_num_queries(3):  # the key lookup again, the failed-key check, the request log row
        response = known.get(PROJECT)
    assert response.status_code == 401
    assert "X-RateLimit-Limit" not in response  # a 401 like any other


def test_a_project_change_takes_effect_at_the_next_request(known, project):
    project.rate_limit = 7
    project.save()
    response = known.get(PROJECT)
    assert response["X-RateLimit-Limit"] == "7"


def test_the_rate_limit_of_a_stale_entry_is_the_new_one_and_the_hit_counts_once(known, project, redis_cache):
    hits_before = int(known.get(PROJECT)["X-RateLimit-Remaining"])
    type(project).objects.filter(pk=project.pk).update(rate_limit=hits_before + 100)
    other_process_changed_something(redis_cache)
    response = known.get(PROJECT)
    assert response["X-RateLimit-Limit"] == str(hits_before + 100)
    assert int(response["X-RateLimit-Remaining"]) == hits_before + 100 - (project.rate_limit - hits_before) - 1


def test_redis_flushed_means_every_entry_is_stale(known, redis_cache, django_assert_num_queries):
    redis_cache.clear()
    with django_assert_num_queries(2):  # the key looked up again, and the request log row
        assert known.get(PROJECT).status_code == 200
    with django_assert_num_queries(1):
        assert known.get(PROJECT).status_code == 200


def test_a_change_redis_never_heard_of_is_seen_after_the_entry_expires(known, monkeypatch):
    # Revoked by hand in the database: no epoch changed. The entry is used until ENTRY_SECONDS have passed.
    APIKey.objects.filter(pk=known.issued.api_key.pk).update(revoked_at=known.issued.api_key.created_at)
    assert known.get(PROJECT).status_code == 200
    later = time.monotonic() + key_cache.ENTRY_SECONDS + 1
    monkeypatch.setattr(key_cache.time, "monotonic", lambda: later)
    assert known.get(PROJECT).status_code == 401


def test_redis_down_looks_every_key_up_and_refuses_a_revoked_one(api, project, caplog):
    server = RedisServer()
    server.start()
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}
    with override_settings(CACHES={"default": backend}):
        try:
            for _ in range(2):
                assert api.get(PROJECT).status_code == 200
            server.stop()
            APIKey.objects.filter(pk=api.issued.api_key.pk).update(revoked_at=api.issued.api_key.created_at)
            assert api.get(PROJECT).status_code == 401
        finally:
            server.stop()
            limits._redis_retry_at = 0.0


def test_one_epoch_command_on_a_miss(api, other_api, redis_cache, request):
    """A key not in the cache: the epoch is read before the lookup (one command), then the hit (one)."""
    assert other_api.get(PROJECT).status_code == 200  # Redis has loaded the scripts
    sent = request.getfixturevalue("redis_commands")
    assert api.get(PROJECT).status_code == 200
    assert len(sent) == 2


def test_a_change_made_while_this_process_counts_in_the_database_still_renews_the_epoch(known, redis_cache):
    """Backing off Redis for the counters (after an error moments ago) does not keep a revocation from the
    processes that still reach Redis."""
    client = redis_cache._cache.get_client(write=True)
    before = client.get(redis_cache.make_and_validate_key(limits.KEY_EPOCH))
    limits._redis_retry_at = time.time() + limits.REDIS_RETRY_SECONDS
    try:
        api_key_revoke(api_key=known.issued.api_key)
    finally:
        limits._redis_retry_at = 0.0
    assert client.get(redis_cache.make_and_validate_key(limits.KEY_EPOCH)) not in (None, before)


def test_a_redis_that_comes_back_with_an_older_epoch_does_not_revive_an_entry(api):
    """A Redis restarted from a snapshot (or a replica promoted) may hold the epoch an entry was read under,
    though the key changed since: an entry read before the gate's latest connection to Redis is not used."""
    server = RedisServer()
    server.start()
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}
    with override_settings(CACHES={"default": backend}):
        try:
            assert api.get(PROJECT).status_code == 200  # the key in the cache, under the epoch Redis holds
            epoch_key = caches["default"].make_and_validate_key(limits.KEY_EPOCH)
            epoch = caches["default"]._cache.get_client(write=True).get(epoch_key)
            # Revoked by another process, whose new epoch this Redis then loses: restarted, the old epoch restored.
            APIKey.objects.filter(pk=api.issued.api_key.pk).update(revoked_at=api.issued.api_key.created_at)
            server.stop()
            server.start()
            redis.Redis.from_url(server.url).set(epoch_key, epoch)
            assert api.get(PROJECT).status_code == 401
        finally:
            server.stop()
