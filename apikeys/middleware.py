"""The per-key request log and the log line of every API request."""

import logging
import time

from django.utils import timezone

from apikeys import request_log
from apikeys.limits import client_address
from apikeys.models import APIKey
from salesledger.errors import dialect_for_path
from salesledger.metrics import api_request_observed

logger = logging.getLogger("apikeys.requests")
ERROR_TEXT_LIMIT = 1000


def error_text(response) -> str:
    """What the client was told, for 4xx/5xx answers: the error body, cut short."""
    if response.status_code < 400 or response.streaming:
        return ""
    return response.content[:ERROR_TEXT_LIMIT].decode("utf-8", errors="replace")


class RequestLogMiddleware:
    """One row, one log line and its metrics per API request: key, status, duration and request id, never
    secrets or bodies. The row is written after the answer, by the process's request log writer
    (apikeys/request_log.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        dialect = dialect_for_path(request.path)
        if dialect is None:
            return self.get_response(request)
        started_at = timezone.now()
        started = time.monotonic()
        response = self.get_response(request)
        seconds = time.monotonic() - started
        duration_ms = int(seconds * 1000)
        match = request.resolver_match
        api_request_observed(
            endpoint=match.view_name if match else "unmatched", dialect=dialect.name, method=request.method[:10],
            status=response.status_code, seconds=seconds, replayed=response.get("Idempotent-Replayed") == "true",
        )  # fmt: skip
        api_key = getattr(request, "auth", None)
        api_key = api_key if isinstance(api_key, APIKey) else None
        request_id = getattr(request, "request_id", "")
        request_log.record(
            created_at=started_at,
            api_key=api_key,
            project_id=api_key.project_id if api_key else None,
            method=request.method[:10],
            path=request.path[:500],
            status_code=response.status_code,
            duration_ms=duration_ms,
            request_id=request_id,
            client_address=client_address(request),
            error=error_text(response),
        )
        logger.info(
            "%s %s %s %dms request_id=%s key=%s",
            request.method, request.path, response.status_code, duration_ms, request_id,
            api_key.display_prefix if api_key else "-",
        )  # fmt: skip
        return response
