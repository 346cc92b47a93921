"""Project-wide views: health check, error documentation, JSON error pages for API paths."""

import functools
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error
from drf_spectacular.views import SpectacularRedocView

from salesledger.errors import TRACK_ERROR_CODES, dialect_for_path, json_error


@never_cache
def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


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
        return json_error(request, 500, "Internal server error.")
    return server_error(request)
