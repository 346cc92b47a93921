"""Project-wide views: health check, metrics, error documentation, JSON error pages for API paths."""

import functools
import hmac
import os
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.db import DatabaseError, connection
from django.db.models import Case, Count, F, Min, When
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error
from drf_spectacular.views import SpectacularRedocView
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError

from salesledger.errors import DATABASE_OUTAGES, TRACK_ERROR_CODES, database_unavailable, dialect_for_path, json_error

# A due task waiting longer than this means no worker is taking tasks (or they cannot keep up).
TASKS_LATE_AFTER_SECONDS = 300
DATABASE_TASKS_BACKEND = "django_tasks_db.DatabaseBackend"


@never_cache
def healthz(request):
    """Each dependency's state; 200 unless the database is down (503), so a load balancer only takes
    a server out when it cannot serve anything. Redis down or tasks late is `degraded`: still served."""
    checks = {"database": _database_check(), "cache": _cache_check(), "tasks": _tasks_check()}
    if checks["database"]["status"] == "down":
        overall = "down"
    elif any(check["status"] in {"degraded", "down"} for check in checks.values()):
        overall = "degraded"
    else:
        overall = "ok"
    return JsonResponse({"status": overall, "checks": checks}, status=503 if overall == "down" else 200)


def _database_check() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return {"status": "down", "error": type(error).__name__}
    return {"status": "ok"}


def _cache_check() -> dict:
    """Redis when configured (rate limits fall back to the database without it), else the database."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return {"status": "ok", "backend": "database"}
    try:
        cache.get("healthz")
    except RedisError as error:
        return {"status": "down", "backend": "redis", "error": type(error).__name__}
    return {"status": "ok", "backend": "redis"}


def _tasks_check() -> dict:
    """The database task queue (django-tasks' database backend): tasks due now, and how long the
    oldest of them has waited. Another engine's queue is not measured here."""
    backend = getattr(settings, "TASKS", {}).get("default", {}).get("BACKEND")
    if backend is None or not apps.is_installed("django_tasks_db"):
        return {"status": "not configured"}
    if backend != DATABASE_TASKS_BACKEND:
        return {"status": "not measured", "backend": backend}
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    # A task without a run_after is due from its enqueueing (the backend stores the largest date).
    due_since = Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
    try:
        queue = DBTaskResult.objects.ready().aggregate(depth=Count("id"), oldest=Min(due_since))
    except DatabaseError as error:
        return {"status": "down", "error": type(error).__name__}
    age = (now - queue["oldest"]).total_seconds() if queue["oldest"] else 0
    return {
        "status": "degraded" if age > TASKS_LATE_AFTER_SECONDS else "ok",
        "queue_depth": queue["depth"],
        "oldest_due_age_seconds": round(max(age, 0), 1),
    }


@never_cache
def metrics(request):
    """Prometheus metrics of every worker, for a scraper that sends `Authorization: Bearer METRICS_TOKEN`."""
    if not settings.METRICS_TOKEN:
        raise Http404("metrics are off: set METRICS_TOKEN")
    sent = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(sent, f"Bearer {settings.METRICS_TOKEN}".encode()):
        return JsonResponse(
            {"detail": "Send Authorization: Bearer <METRICS_TOKEN>."},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    page = generate_latest(_metrics_registry()) + generate_latest(_tasks_registry())
    return HttpResponse(page, content_type=CONTENT_TYPE_LATEST)


class _WorkersCollector(multiprocess.MultiProcessCollector):
    """Every worker's values (PROMETHEUS_MULTIPROC_DIR), less the empty file of a worker killed while
    it was creating it, which would otherwise fail the whole scrape."""

    def collect(self):
        files = [path for path in Path(self._path).glob("*.db") if path.stat().st_size > 0]
        return self.merge([str(path) for path in files], accumulate=True)


def _metrics_registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    _WorkersCollector(registry)
    return registry


class _TasksQueueCollector:
    """The task queue as /healthz sees it, read from the database at each scrape."""

    def collect(self):
        queue = _tasks_check()
        if "queue_depth" in queue:
            yield GaugeMetricFamily("salesledger_task_queue_depth", "Tasks due now.", value=queue["queue_depth"])
            yield GaugeMetricFamily(
                "salesledger_task_oldest_due_age_seconds",
                "How long the oldest task due now has waited.",
                value=queue["oldest_due_age_seconds"],
            )


def _tasks_registry():
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_TasksQueueCollector())
    return registry


def favicon(request):
    """The icon browsers ask for at /favicon.ico (the admin's pages and the API docs link none)."""
    icon = (settings.BASE_DIR / "static" / "favicon.ico").read_bytes()
    response = HttpResponse(icon, content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


REDOC_REMOTE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_bundle() -> bytes:
    """The sidecar's Redoc bundle without its one remote URL: the logo of the menu's footer, which no
    option removes, becomes an empty image, which Redoc hides."""
    path = finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    text = Path(path).read_text(encoding="utf-8")
    if REDOC_REMOTE_LOGO not in text:
        raise ImproperlyConfigured(f"The Redoc bundle at {path} changed: check it for remote URLs again.")
    return text.replace(REDOC_REMOTE_LOGO, "data:,").encode()


def redoc_bundle(request):
    response = HttpResponse(_redoc_bundle(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class RedocView(SpectacularRedocView):
    """Redoc with the machine's own fonts and a bundle that requests nothing from another host; its
    Content-Security-Policy keeps it so."""

    template_name = "docs/redoc.html"

    @staticmethod
    def _redoc_standalone():
        return reverse("redoc-bundle")

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:"
        )
        return response


def error_doc(request, code: str):
    """The page each track error's `doc_url` points at."""
    statuses = {value: key for key, value in TRACK_ERROR_CODES.items()}
    if code not in statuses:
        raise Http404(code)
    return render(request, "error_doc.html", {"code": code, "status": statuses[code]})


def refused(request, exception=None):
    """400 raised outside a view: a Host not in ALLOWED_HOSTS, a body or form past Django's limits."""
    if dialect_for_path(request.path):
        if isinstance(exception, DisallowedHost):
            return json_error(request, 400, "Bad request: the Host header names no site this server serves.")
        return json_error(request, 400, "Bad request.")
    return bad_request(request, exception)


def forbidden(request, exception=None):
    if dialect_for_path(request.path):
        return json_error(request, 403, "Forbidden.")
    return permission_denied(request, exception)


def not_found(request, exception=None):
    if dialect_for_path(request.path):
        return json_error(request, 404, "Not found.")
    return page_not_found(request, exception)


def crashed(request):
    if dialect_for_path(request.path):
        # Django calls this inside its `except`: a database lost outside a view (a commit) is a 503 too.
        if isinstance(sys.exc_info()[1], DATABASE_OUTAGES):
            return database_unavailable(request)
        return json_error(request, 500, "Internal server error.")
    return server_error(request)
