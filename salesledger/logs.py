"""Log lines: one line per record whatever a client put in the fields it logs, and on every line of
a request its request id and, once the key is known, the project's slug and the key's prefix (never
the key): fields of their own with LOG_FORMAT=json. The request id is also what an event records
(`current_request_id`), for code that has no request in hand."""

import contextvars
import logging
import re

from django.core.signals import request_finished

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    r"""Control characters as Python escapes: a path with `%0d%0a` logs as `\r\n`, not as a new line."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class OneLineFormatter(logging.Formatter):
    """Escapes control characters in the formatted message, so no logged field can forge a line.

    A traceback, appended after the message, keeps its own lines.
    """

    def formatMessage(self, record):
        return escape_controls(super().formatMessage(record))


_fields: contextvars.ContextVar[dict | None] = contextvars.ContextVar("request_log_fields", default=None)
FIELDS = ("request_id", "project", "key_prefix")


def request_started(request_id: str) -> None:
    _fields.set({"request_id": request_id})


def _request_finished(**kwargs) -> None:
    _fields.set(None)


# Cleared when the response is closed, not when the middleware returns: Django logs a 4xx or 5xx
# answer (django.request) after the whole middleware chain, and that line belongs to the request.
request_finished.connect(_request_finished, dispatch_uid="salesledger.logs")


def current_request_id() -> str:
    """The id of the request being served ("" outside a request): what its log lines and events carry."""
    return (_fields.get() or {}).get("request_id") or ""


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
