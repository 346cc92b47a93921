"""Middleware every request passes first: a request id, and a body size limit checked before reading; and
Django's session, CSRF, user and message middleware for the pages only."""

import io
import re
import uuid

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django_prometheus.middleware import PrometheusAfterMiddleware, PrometheusBeforeMiddleware

from salesledger import logs
from salesledger.errors import dialect_for_path, json_error

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

MB = 1024 * 1024
API_BODY_LIMIT = 1 * MB
# Paths that accept more; the first matching prefix wins.
API_BODY_LIMITS_BY_PREFIX = [("/api/sales/upload", 50 * MB), ("/api/v1/imports", 1024 * MB)]
# The owner page that takes an import's file (streamed to disk, as the API's).
IMPORT_PAGE = re.compile(r"^/projects/[-\w]+/imports/$")
# Admin and owner-page forms: Django's own default.
OTHER_BODY_LIMIT = int(2.5 * MB)


class RequestIDMiddleware:
    """`request.request_id`: the client's `X-Request-ID` when it is a sane token, else a new UUID; echoed back
    and on every log line of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = sent if _VALID_REQUEST_ID.match(sent) else uuid.uuid4().hex
        logs.request_started(request.request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


def body_limit(path: str) -> int:
    if dialect_for_path(path) is None:
        return 1024 * MB if IMPORT_PAGE.match(path) else OTHER_BODY_LIMIT
    for prefix, limit in API_BODY_LIMITS_BY_PREFIX:
        if path.startswith(prefix):
            return limit
    return API_BODY_LIMIT


def _too_large(request, length: int | str, limit: int):
    message = f"Request body too large: {length} bytes, the limit is {limit // MB} MB."
    if dialect_for_path(request.path):
        return json_error(request, 413, message)
    return HttpResponse(message, status=413, content_type="text/plain")


def _length_required(request):
    message = "Send the file with a Content-Length (not Transfer-Encoding: chunked)."
    if dialect_for_path(request.path):
        return json_error(request, 411, message)
    return HttpResponse(message, status=411, content_type="text/plain")


def _read_at_most(stream, limit: int) -> bytes | None:
    """The whole stream, or None as soon as it has more than `limit` bytes (the rest is never read)."""
    parts, size = [], 0
    while chunk := stream.read(min(STREAM_CHUNK, limit + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(parts)


STREAM_CHUNK = 64 * 1024


class BodySizeLimitMiddleware:
    """413 for a body over the path's limit, before it is parsed.

    With a Content-Length the check is made before a byte is read, and Django's WSGI request reads at
    most that many bytes. A `Transfer-Encoding: chunked` body has no length (Django would read it as
    empty): it is read here, chunk by chunk, refused as soon as it passes the limit, and handed on
    as a body of known length.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request.path)
        if length > limit:
            return _too_large(request, length, limit)
        if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            if limit > API_BODY_LIMITS_BY_PREFIX[0][1]:
                # An import file is streamed to disk by Django's multipart parser, which needs its length:
                # never read it into memory here.
                return _length_required(request)
            body = _read_at_most(request.META["wsgi.input"], limit)
            if body is None:
                return _too_large(request, f"over {limit}", limit)
            # What Django's own `HttpRequest.body` does once it has read a body.
            request._body = body
            request._stream = io.BytesIO(body)
            request.META["CONTENT_LENGTH"] = str(len(body))
        return self.get_response(request)


# The API's own pages (the schema and its two viewers) are pages like the admin's.
API_DOC_PATHS = ("/api/schema", "/api/docs", "/api/redoc")


def is_api_request(path: str) -> bool:
    return dialect_for_path(path) is not None and not path.startswith(API_DOC_PATHS)


def pages_only(middleware: type) -> type:
    """`middleware` for the owner pages, the admin and the docs; an API request goes straight past it.

    The API authenticates by key only: it never reads a session, a CSRF cookie (its views are exempt),
    Django's user or a message, and these add no header to its answers. Their hooks stay as Django
    registers them (CSRF's `process_view` returns at once for the API's exempt views).
    """

    class PagesOnly(middleware):
        def __call__(self, request):
            if is_api_request(request.path):
                return self.get_response(request)
            return super().__call__(request)

    PagesOnly.__name__ = PagesOnly.__qualname__ = f"PagesOnly{middleware.__name__}"
    return PagesOnly


class PagesOnlyPrometheusAfterMiddleware(pages_only(PrometheusAfterMiddleware)):
    """django-prometheus's `django_http_*` metrics for the pages only: an API request is counted once, by
    `salesledger_api_*` (apikeys/middleware.py), by endpoint, dialect, method and status, and its latency.
    Its view, exception and template-response hooks skip the API too (Django calls them whatever `__call__` does)."""

    def process_view(self, request, view_func, *view_args, **view_kwargs):
        if not is_api_request(request.path):
            return super().process_view(request, view_func, *view_args, **view_kwargs)

    def process_exception(self, request, exception):
        if not is_api_request(request.path):
            return super().process_exception(request, exception)

    def process_template_response(self, request, response):
        return response if is_api_request(request.path) else super().process_template_response(request, response)


PagesOnlyPrometheusBeforeMiddleware = pages_only(PrometheusBeforeMiddleware)
PagesOnlySessionMiddleware = pages_only(SessionMiddleware)
PagesOnlyCsrfViewMiddleware = pages_only(CsrfViewMiddleware)
PagesOnlyAuthenticationMiddleware = pages_only(AuthenticationMiddleware)
PagesOnlyMessageMiddleware = pages_only(MessageMiddleware)
