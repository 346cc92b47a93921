"""Project-wide views: health check, error documentation, JSON error pages for API paths."""

import sys

from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found, server_error

from salesledger.errors import DATABASE_OUTAGES, TRACK_ERROR_CODES, database_unavailable, dialect_for_path, json_error


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
