"""With REDIS_URL set the counters live in Redis: the same limits, no database round trip."""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import override_settings

from apikeys import limits
from apikeys.models import RateCounter
from tests.helpers import KeyedClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def redis_socket():
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (apt-get install redis-server)")
    folder = Path(tempfile.mkdtemp())
    socket = folder / "redis.sock"
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        if socket.exists():
            break
        time.sleep(0.1)
    yield f"unix://{socket}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def redis_cache(redis_socket):
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_socket}
    with override_settings(CACHES={"default": backend}):
        caches["default"].clear()
        yield caches["default"]


def test_limits_count_in_redis_without_touching_the_database(api, project, redis_cache, django_assert_num_queries):
    """The same request costs the key lookup and the log row: 2 queries instead of 3."""
    project.rate_limit = 2
    project.save()
    api.get("/api/v1/project/")
    # The key lookup and the request log row; the counter is in Redis.
    with django_assert_num_queries(2):
        second = api.get("/api/v1/project/")
    assert second["X-RateLimit-Remaining"] == "0"
    third = api.get("/api/v1/project/")
    assert third.status_code == 429
    assert not RateCounter.objects.exists()


def test_failed_authentication_counts_in_redis(redis_cache, monkeypatch):
    monkeypatch.setattr(limits, "FAILED_AUTH_UNKNOWN_PREFIX_LIMIT", 2)
    guesser = KeyedClient()
    guesser.credentials(HTTP_AUTHORIZATION="Bearer sl_live_abcdefgh_" + "x" * 40)
    assert [guesser.get("/api/v1/project/").status_code for _ in range(3)] == [401, 401, 429]
