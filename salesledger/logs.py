"""What every log line of a request carries: its request id, and once the key is known, the
project's slug and the key's prefix (never the key). LOG_FORMAT=json prints them as JSON fields."""

import contextvars
import logging

from django.core.signals import request_finished

_fields: contextvars.ContextVar[dict | None] = contextvars.ContextVar("request_log_fields", default=None)
FIELDS = ("request_id", "project", "key_prefix")


def request_started(request_id: str) -> None:
    _fields.set({"request_id": request_id})


def _request_finished(**kwargs) -> None:
    _fields.set(None)


# Cleared when the response is closed, not when the middleware returns: Django logs a 4xx or 5xx
# answer (django.request) after the whole middleware chain, and that line belongs to the request.
request_finished.connect(_request_finished, dispatch_uid="salesledger.logs")


def key_known(*, project: str, key_prefix: str) -> None:
    _fields.set({**(_fields.get() or {}), "project": project, "key_prefix": key_prefix})


class RequestFieldsFilter(logging.Filter):
    """Puts the current request's fields on every record (None outside a request)."""

    def filter(self, record):
        fields = _fields.get() or {}
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, fields.get(name))
        return True
