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
