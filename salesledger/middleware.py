"""Middleware every request passes first: a request id, and a body size limit checked before reading."""

import re
import uuid

from django.http import HttpResponse

from salesledger.context import current_request_id
from salesledger.errors import dialect_for_path, json_error

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

MB = 1024 * 1024
API_BODY_LIMIT = 1 * MB
# Paths that accept more; the first matching prefix wins.
API_BODY_LIMITS_BY_PREFIX = [("/api/sales/upload", 50 * MB)]
# Admin and owner-page forms: Django's own default.
OTHER_BODY_LIMIT = int(2.5 * MB)


class RequestIDMiddleware:
    """`request.request_id`: the client's `X-Request-ID` when it is a sane token, else a new UUID; echoed back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = sent if _VALID_REQUEST_ID.match(sent) else uuid.uuid4().hex
        token = current_request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


def body_limit(path: str) -> int:
    if dialect_for_path(path) is None:
        return OTHER_BODY_LIMIT
    for prefix, limit in API_BODY_LIMITS_BY_PREFIX:
        if path.startswith(prefix):
            return limit
    return API_BODY_LIMIT


class BodySizeLimitMiddleware:
    """413 from the declared Content-Length, before a byte of the body is read.

    Django's WSGI request reads at most Content-Length bytes (a body without one reads as empty), so
    the declared length bounds what any parser can buffer.
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
            message = f"Request body too large: {length} bytes, the limit is {limit // MB} MB."
            if dialect_for_path(request.path):
                return json_error(request, 413, message)
            return HttpResponse(message, status=413, content_type="text/plain")
        return self.get_response(request)
