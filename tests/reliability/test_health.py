"""GET /healthz: each dependency's state; 200 unless the database is down."""

import pytest
from django.apps import apps
from django.test import override_settings

from tests.reliability.servers import RedisServer

pytestmark = pytest.mark.django_db

TASKS_NOT_CONFIGURED = {"status": "not configured"}


def tasks_check():
    return TASKS_NOT_CONFIGURED if not apps.is_installed("django_tasks_db") else {
        "status": "ok", "queue_depth": 0, "oldest_due_age_seconds": 0,
    }  # fmt: skip


@pytest.mark.parametrize("path", ["/healthz", "/healthz/"])
def test_all_well_is_200_ok(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "cache": {"status": "ok", "backend": "database"},
            "tasks": tasks_check(),
        },
    }


@pytest.mark.postgres
def test_the_database_down_is_503(client, database_away):
    away, back = database_away
    away()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["checks"]["database"] == {"status": "down", "error": "OperationalError"}
    back()
    assert client.get("/healthz").json()["status"] == "ok"


def test_redis_down_is_degraded_but_200_and_ok_again_when_it_returns(client):
    server = RedisServer()
    server.start()
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}
    try:
        with override_settings(CACHES={"default": backend}):
            assert client.get("/healthz").json()["checks"]["cache"] == {"status": "ok", "backend": "redis"}
            server.stop()
            response = client.get("/healthz")
            assert response.status_code == 200
            assert response.json()["status"] == "degraded"
            assert response.json()["checks"]["cache"] == {
                "status": "down", "backend": "redis", "error": "ConnectionError",
            }  # fmt: skip
            server.start()
            assert client.get("/healthz").json()["status"] == "ok"
    finally:
        server.stop()
