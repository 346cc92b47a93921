"""GET /healthz: each dependency's state; 200 unless the database is down."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.test import override_settings
from django.utils import timezone

from tests.reliability.servers import RedisServer

pytestmark = pytest.mark.django_db

TASKS_NOT_CONFIGURED = {"status": "not configured"}


def tasks_check():
    """An empty database queue where the task engine keeps it there (the events work), else none."""
    if not apps.is_installed("django_tasks_db"):
        return TASKS_NOT_CONFIGURED
    return {"status": "ok", "queue_depth": 0, "oldest_due_age_seconds": 0}


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


@pytest.mark.skipif(
    not apps.is_installed("django_tasks_db"), reason="the task engine (issue 15) is not installed on this branch"
)
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_a_due_task_waiting_over_5_minutes_is_degraded(client):
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    fields = {"args_kwargs": {}, "task_path": "any.task", "backend_name": "default", "queue_name": "default",
              "exception_class_path": "", "traceback": ""}  # fmt: skip
    late = DBTaskResult.objects.create(status="READY", run_after=get_date_max(), **fields)
    DBTaskResult.objects.filter(pk=late.pk).update(enqueued_at=now - timedelta(minutes=6))
    DBTaskResult.objects.create(status="READY", run_after=now + timedelta(hours=1), **fields)  # not due yet
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    tasks = response.json()["checks"]["tasks"]
    assert (tasks["status"], tasks["queue_depth"]) == ("degraded", 1)
    assert tasks["oldest_due_age_seconds"] >= 360
