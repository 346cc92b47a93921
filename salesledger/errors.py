"""Domain errors and how each API dialect renders an error: one shape per documented API."""

import logging
from http import HTTPStatus

from django.core.exceptions import DisallowedHost
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)
MISSING_CREDENTIALS = "Missing API key: send Authorization: Bearer KEY, X-API-KEY: KEY or HTTP Basic."
# The database could not be reached or dropped the connection (a restart, a failover, a full pool):
# a 503 the client may retry, not a 500. Django closes such a connection after the request, and the
# next request opens a new one, so the service recovers by itself when the database is back.
DATABASE_OUTAGES = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER = 2
DATABASE_UNAVAILABLE = "The database is unavailable for a moment; retry shortly."


class ServiceError(Exception):
    """Base of every domain error a service raises: a status, a code, the input `field` it is about (if
    one), its `message`, and data for clients. Renderers read these; none parses the text.

    `str(error)` is the one-line text every dialect shows: "field: message", or the message alone.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, **data):
        super().__init__(message)
        self.message = message
        self.field = field
        self.data = data

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    @property
    def client_data(self) -> dict:
        """What a client may read besides the text (the native API adds it, with the code, to the body)."""
        return {}

    @property
    def problems(self) -> list[dict]:
        """The error as row problems (`{"row", "field", "message"}`), for dialects that list them."""
        return self.data.get("problems", [])


class NotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Busy(ServiceError):
    """The same work is already running for this project: retry after `retry_after` seconds."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "busy"
    retry_after = 5


def flatten_errors(detail, path=()) -> list[tuple[tuple, str, str]]:
    """DRF's nested error detail as a flat list of (path, message, code)."""
    if isinstance(detail, dict):
        return [item for key, value in detail.items() for item in flatten_errors(value, (*path, key))]
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [item for value in detail for item in flatten_errors(value, path)]
        return [item for index, value in enumerate(detail) for item in flatten_errors(value, (*path, index))]
    path = tuple(part for part in path if part != "non_field_errors")
    return [(path, str(detail), getattr(detail, "code", "invalid"))]


def describe(errors: list[tuple[tuple, str, str]]) -> str:
    """One readable line naming every field: 'quantity: must be greater than 0; price: ...'."""
    parts = []
    for path, message, _ in errors:
        name = ".".join(str(part) for part in path)
        parts.append(f"{name}: {message}" if name else message)
    return "; ".join(parts)


class Dialect:
    """The error shape of one API. Subclasses override `body`."""

    name = "native"
    validation_status = status.HTTP_400_BAD_REQUEST

    def body(self, status_code: int, message: str, errors: list, request=None) -> dict:
        return {"detail": message}

    def status_for(self, error: ServiceError) -> int:
        """The status this dialect documents for a domain error: by default the error's own."""
        return error.status_code

    def service_error(self, error: ServiceError, request=None) -> tuple[int, dict]:
        """The status and body of a domain error in this dialect, from the error's own data."""
        status_code = self.status_for(error)
        return status_code, self.body(status_code, str(error), error.problems, request)

    def validation_body(self, detail, request=None) -> dict:
        return self.body(self.validation_status, describe(flatten_errors(detail)), flatten_errors(detail), request)


class NativeDialect(Dialect):
    """DRF's own shape: field errors keyed by field name, other errors as `detail`."""

    def validation_body(self, detail, request=None):
        return detail if isinstance(detail, dict) else {"detail": detail}

    def service_error(self, error, request=None):
        # A complaint about one input field is a 400 naming it, as DRF's own field errors are.
        if error.field is not None:
            return status.HTTP_400_BAD_REQUEST, {error.field: [error.message]}
        body = {"detail": str(error)}
        if error.client_data:
            body |= {"code": error.code, **error.client_data}
        return error.status_code, body


class CosttrackDialect(Dialect):
    name = "costtrack"

    def body(self, status_code, message, errors, request=None):
        return {"success": False, "error": message}

    def status_for(self, error):
        # The document has no 409: insufficient inventory (any conflict) is one of its 400s.
        return status.HTTP_400_BAD_REQUEST if error.status_code == status.HTTP_409_CONFLICT else error.status_code


class SellsDialect(Dialect):
    name = "sells"

    def body(self, status_code, message, errors, request=None):
        return {"message": message}


TRACK_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    410: "invite_expired",
    422: "unprocessable_entity",
    429: "rate_limit_exceeded",
    500: "internal_server_error",
}


def track_error_code(status_code: int) -> str:
    if status_code in TRACK_ERROR_CODES:
        return TRACK_ERROR_CODES[status_code]
    return "internal_server_error" if status_code >= 500 else "bad_request"


class TrackDialect(Dialect):
    name = "track"
    validation_status = status.HTTP_422_UNPROCESSABLE_ENTITY

    def body(self, status_code, message, errors, request=None):
        code = track_error_code(status_code)
        doc_path = f"/docs/errors/{code}"
        try:
            doc_url = request.build_absolute_uri(doc_path) if request is not None else doc_path
        except DisallowedHost:  # the refusal of a bad Host is itself answered in this shape
            doc_url = doc_path
        return {"error": {"code": code, "message": message, "doc_url": doc_url}}


class CustobarDialect(Dialect):
    """`{"error": summary, "errors": [{"row", "field", "message"}, ...]}`; `errors` is never empty.

    `errors` are the upload's problems (dicts with a row index), or DRF's flattened field errors.
    """

    name = "custobar"

    def body(self, status_code, message, errors, request=None):
        rows = [error if isinstance(error, dict) else self.problem(*error) for error in errors]
        return {"error": message, "errors": rows or [{"row": None, "field": None, "message": message}]}

    @staticmethod
    def problem(path, message, code) -> dict:
        return {"row": None, "field": ".".join(map(str, path)) or None, "message": message}


# DRF's generic error codes as FastAPI (pydantic v1) reports them; the dialect's own fields raise
# pydantic's types (`type_error.integer`, `value_error`, ...) as their codes, which pass through.
FASTAPI_MESSAGES = {"required": "field required", "null": "none is not an allowed value"}
FASTAPI_TYPES = {
    "required": "value_error.missing",
    "null": "type_error.none.not_allowed",
    "invalid": "value_error",
    "invalid_choice": "type_error.enum",
    "not_a_list": "type_error.list",
    "min_length": "value_error.list.min_items",  # connecteam's only length limits are on its batch list
    "max_length": "value_error.list.max_items",
    "min_value": "value_error.number.not_ge",
    "max_value": "value_error.number.not_le",
}
FASTAPI_LOCATIONS = ("query", "path", "header")


class ConnecteamDialect(Dialect):
    """FastAPI-style: `{"detail": "text"}`, validation as `{"detail": [{"loc", "msg", "type"}]}`.

    `loc` starts with where the problem is: errors raised under a top-level `query`, `path` or
    `header` key are located there, every other error is in the `body`.
    """

    name = "connecteam"
    validation_status = status.HTTP_422_UNPROCESSABLE_ENTITY

    def validation_body(self, detail, request=None):
        if isinstance(detail, list) and detail and isinstance(detail[0], dict) and "loc" in detail[0]:
            return {"detail": detail}
        items = [
            {
                "loc": list(path) if path and path[0] in FASTAPI_LOCATIONS else ["body", *path],
                "msg": FASTAPI_MESSAGES.get(code, message),
                "type": code if "_error" in code else FASTAPI_TYPES.get(code, f"value_error.{code}"),
            }
            for path, message, code in flatten_errors(detail)
        ]
        return {"detail": items}


NATIVE = NativeDialect()
COSTTRACK = CosttrackDialect()
SELLS = SellsDialect()
TRACK = TrackDialect()
CUSTOBAR = CustobarDialect()
CONNECTEAM = ConnecteamDialect()

# Which dialect answers for a path, for errors raised outside a view (404, 500, middleware).
DIALECT_BY_PATH_PREFIX = [
    ("/api/sales/create", COSTTRACK),
    ("/api/sales/upload", CUSTOBAR),
    ("/sells", SELLS),
    ("/track/", TRACK),
    ("/sales/v1/", CONNECTEAM),
    ("/api/", NATIVE),
]


def dialect_for_path(path: str) -> Dialect | None:
    for prefix, dialect in DIALECT_BY_PATH_PREFIX:
        if path.startswith(prefix):
            return dialect
    return None


def make_exception_handler(dialect: Dialect):
    """A DRF exception handler that answers every error in `dialect`'s shape."""

    def handler(exc, context):
        # Imported here: DRF's views module loads its settings, which import the apps' authentication, and
        # services of every app import this module.
        from rest_framework.views import set_rollback

        request = context.get("request")
        headers = {}
        if isinstance(exc, ServiceError):
            set_rollback()
            status_code, body = dialect.service_error(exc, request)
            if isinstance(exc, Busy):
                headers["Retry-After"] = str(exc.retry_after)
            return Response(body, status=status_code, headers=headers)
        if isinstance(exc, DATABASE_OUTAGES):
            logger.warning("Database unavailable on %s: %s", request.path if request else "?", exc)
            return database_unavailable(request, dialect)
        if not isinstance(exc, exceptions.APIException):
            return None  # Unexpected: Django's handler500 answers in the dialect's shape.
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        set_rollback()
        if isinstance(exc, exceptions.ValidationError):
            return Response(dialect.validation_body(exc.detail, request), status=dialect.validation_status)
        if isinstance(exc, exceptions.NotAuthenticated):
            exc.detail = MISSING_CREDENTIALS
        message = exc.detail if isinstance(exc.detail, str) else describe(flatten_errors(exc.detail))
        return Response(
            dialect.body(exc.status_code, str(message), [], request), status=exc.status_code, headers=headers
        )

    return handler


native_exception_handler = make_exception_handler(NATIVE)


def form_add_service_error(form, error: ServiceError) -> None:
    """A service's refusal on a Django form: on its field when the form has that field, else on the form."""
    if error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        form.add_error(None, str(error))


def json_error(request, status_code: int, message: str | None = None, headers=None) -> JsonResponse:
    """An error outside DRF (unknown path, crash) in the shape of the path's dialect."""
    dialect = dialect_for_path(request.path) or NATIVE
    text = message or HTTPStatus(status_code).phrase
    return JsonResponse(dialect.body(status_code, text, [], request), status=status_code, headers=headers)


def database_unavailable(request, dialect: Dialect | None = None):
    """503 with Retry-After in the dialect's shape (the path's when not given): the database is away."""
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    if dialect is None:
        return json_error(request, 503, DATABASE_UNAVAILABLE, headers)
    return Response(dialect.body(503, DATABASE_UNAVAILABLE, [], request), status=503, headers=headers)
