"""What each dialect's error body looks like, to compare whole responses exactly."""

from django.test import RequestFactory

from tests.reliability.urls import DIALECT_PATHS

DIALECTS = list(DIALECT_PATHS)


def expected_error(dialect, status: int, message: str) -> dict:
    """The body `dialect` answers for an error outside validation (track's doc_url on the test host)."""
    return dialect.body(status, message, [], RequestFactory().get("/"))


def error_message(body: dict) -> str:
    """The message of an error body in any dialect's shape."""
    if isinstance(body.get("error"), dict):
        return body["error"]["message"]
    for field in ("error", "message", "detail"):
        if isinstance(body.get(field), str):
            return body[field]
    raise AssertionError(f"no error message in {body}")


def has_shape(dialect, body) -> bool:
    """Whether `body` is an error in `dialect`'s documented shape (validation errors included)."""
    match dialect.name:
        case "costtrack":
            return body.get("success") is False and isinstance(body.get("error"), str)
        case "sells":
            return set(body) == {"message"} and isinstance(body["message"], str)
        case "track":
            return set(body) == {"error"} and set(body["error"]) == {"code", "message", "doc_url"}
        case "custobar":
            return set(body) == {"error", "errors"} and isinstance(body["errors"], list)
        case "connecteam":
            detail = body.get("detail") if set(body) == {"detail"} else None
            return isinstance(detail, str) or (
                isinstance(detail, list) and all(set(item) == {"loc", "msg", "type"} for item in detail)
            )
        case _:
            return isinstance(body, dict) and bool(body)
