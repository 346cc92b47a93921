"""Shared fixtures: two projects with keys, an API client per way of sending a key, and the
rules for tests that need PostgreSQL or Chromium (skip with a reason locally, never in CI)."""

import os
import shutil

import pytest
import redis
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings

from tests.factories import ProductFactory, ProjectFactory, UserFactory, issue_key
from tests.helpers import keyed_client

CHROMIUM = "/usr/bin/chromium"
IN_CI = bool(os.environ.get("CI"))
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    has_chromium = shutil.which(CHROMIUM) is not None
    has_redis = None
    deselected, kept = [], []
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            if IN_CI:
                # CI runs the suite a second time on PostgreSQL, where these run; nothing skips.
                deselected.append(item)
                continue
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://..."))
        if "browser" in item.keywords and not has_chromium:
            if IN_CI:
                raise pytest.UsageError(f"CI must have {CHROMIUM} for the browser tests (apt-get install chromium).")
            item.add_marker(pytest.mark.skip(reason=f"needs Debian's chromium at {CHROMIUM}"))
        if "redis" in item.keywords:
            has_redis = redis_answers() if has_redis is None else has_redis
            if not has_redis:
                if IN_CI:
                    raise pytest.UsageError(f"CI must have Redis at {TEST_REDIS_URL} for the RQ tests.")
                item.add_marker(pytest.mark.skip(reason=f"needs Redis at {TEST_REDIS_URL} (set TEST_REDIS_URL)"))
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff):
    """A logged-in superuser, for the admin."""
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def project(owner):
    return ProjectFactory(slug="alpha", name="Alpha", owners=[owner])


@pytest.fixture
def other_project(db):
    return ProjectFactory(slug="beta", name="Beta", owners=[UserFactory(username="beta-owner")])


@pytest.fixture
def issued_key(project):
    return issue_key(project)


@pytest.fixture
def other_key(other_project):
    return issue_key(other_project)


@pytest.fixture
def api(project, issued_key):
    """Client of project A, key as `Authorization: Bearer` (costtrack, sells, track, native)."""
    return keyed_client(project, issued_key, "bearer")


@pytest.fixture
def api_header(project, issued_key):
    """Client of project A, key as `X-API-KEY` (connecteam)."""
    return keyed_client(project, issued_key, "header")


@pytest.fixture
def api_basic(project, issued_key):
    """Client of project A, key as HTTP Basic user name (custobar)."""
    return keyed_client(project, issued_key, "basic")


@pytest.fixture
def other_api(other_project, other_key):
    """Client of project B, to prove that A's objects are invisible to it."""
    return keyed_client(other_project, other_key, "bearer")


@pytest.fixture
def make_product(project):
    """`make_product("Laptop", stock=5, price="1299.99")`, or with `variants=[("Red", 2)]` or
    `[("Red", 2, "12.00")]` (name, stock, price): `ProductFactory` in project A unless `target_project`."""

    def make(name="Laptop", *, target_project=None, **fields):
        return ProductFactory(project=target_project or project, name=name, **fields)

    return make


@pytest.fixture(scope="module")
def redis_server():
    """A redis-server of the module's own (tests/reliability/servers.py), started once per module."""
    from tests.reliability.servers import RedisServer

    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_cache(redis_server):
    """The `default` cache on `redis_server`, emptied: rate limits and the key cache then use Redis."""
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server.url}
    with override_settings(CACHES={"default": backend}):
        caches["default"].clear()
        yield caches["default"]


@pytest.fixture
def redis_commands(monkeypatch):
    """The commands sent to Redis from now on, as sent (packed)."""
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(connection, command, check_health=True):
        sent.append(command)
        return send(connection, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    return sent


@pytest.fixture(autouse=True)
def _empty_key_cache():
    """Each test starts with no key in this process's key cache (apikeys/key_cache.py)."""
    from apikeys import key_cache

    key_cache._entries.clear()
