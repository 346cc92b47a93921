"""Project-wide views: health check, error documentation, JSON error pages for API paths."""

from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error

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
