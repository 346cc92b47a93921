"""Hostile input in every dialect's shape: size, malformed JSON, wrong kind, content type, method, crash, ids."""

import io

import pytest
from django.test import RequestFactory
from rest_framework.exceptions import ErrorDetail

from apikeys.models import IdempotencyKey
from salesledger.parsers import MAX_DEPTH
from tests.reliability.shapes import DIALECTS, error_message, expected_error
from tests.reliability.urls import DIALECT_PATHS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.reliability.urls")]

MB = 1024 * 1024


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_body_over_1_mb_is_413_before_it_is_read(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    limit = 50 if dialect == "custobar" else 1
    declared = limit * MB + 1
    # The declared length alone decides: the few bytes actually sent are never read.
    response = api.post(path, data=b"{}", content_type="application/json", CONTENT_LENGTH=str(declared))
    assert response.status_code == 413
    message = f"Request body too large: {declared} bytes, the limit is {limit} MB."
    assert response.json() == expected_error(shape, 413, message)


def test_a_real_body_over_1_mb_is_refused_and_one_just_under_is_parsed(api):
    padding = "x" * (MB - 30)
    under = api.post("/sells", data=f'{{"name": "a", "p": "{padding}"}}'.encode(), content_type="application/json")
    assert under.status_code == 201
    over = api.post("/sells", data=f'{{"name": "a", "p": "{padding}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}'.encode(),
                    content_type="application/json")  # fmt: skip
    assert over.status_code == 413


def test_the_upload_accepts_more_than_1_mb(api):
    padding = "x" * (2 * MB)
    response = api.post("/api/sales/upload/", data=f'{{"name": "big", "p": "{padding}"}}'.encode(),
                        content_type="application/json")  # fmt: skip
    assert response.status_code == 201


def test_forms_outside_the_api_keep_djangos_limit(client):
    response = client.post("/accounts/login/", data=b"x", content_type="text/plain", CONTENT_LENGTH=str(3 * MB))
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_malformed_json_is_400_in_the_dialects_shape(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    response = api.post(path, data=b'{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == expected_error(shape, 400, error_message(response.json()))
    assert error_message(response.json()).startswith("JSON parse error")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_json_nested_past_the_recursion_limit_is_400_in_the_dialects_shape(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    depth = 100_000  # 200 kB, well under the size limit
    response = api.post(path, data=b'{"name": ' + b"[" * depth + b"]" * depth + b"}", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == expected_error(shape, 400, "JSON parse error - nested too deeply.")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 880, 895, 990])
def test_json_nested_past_the_limit_is_400_in_the_dialects_shape(api, dialect, depth):
    path, shape = DIALECT_PATHS[dialect]
    body = b'{"name": "x", "metadata": {"a": ' + b"[" * depth + b"]" * depth + b"}}"
    response = api.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == expected_error(shape, 400, "JSON parse error - nested too deeply.")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "Invalid data. Expected a dictionary, but got list."),
        (b'"text"', "Invalid data. Expected a dictionary, but got str."),
        (b"42", "Invalid data. Expected a dictionary, but got int."),
        (b"null", "No data provided"),
    ],
    ids=["array", "string", "number", "null"],
)
def test_json_of_the_wrong_kind_is_refused_in_the_dialects_shape(api, dialect, body, message):
    path, shape = DIALECT_PATHS[dialect]
    response = api.post(path, data=body, content_type="application/json")
    assert response.status_code == shape.validation_status
    code = "null" if body == b"null" else "invalid"
    detail = {"non_field_errors": [ErrorDetail(message, code=code)]}
    assert response.json() == shape.validation_body(detail, RequestFactory().get("/"))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_wrong_content_type_is_415_in_the_dialects_shape(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    response = api.post(path, data=b"name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    message = 'Unsupported media type "application/x-www-form-urlencoded" in request.'
    assert response.json() == expected_error(shape, 415, message)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_unknown_method_is_405_in_the_dialects_shape(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    response = api.patch(path, data={}, format="json")
    assert response.status_code == 405
    assert response.json() == expected_error(shape, 405, 'Method "PATCH" not allowed.')
    assert "POST" in response["Allow"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_crash_is_500_in_the_dialects_shape_without_a_trace(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    api.raise_request_exception = False
    response = api.post(path, data={"name": "x", "outcome": "crash"}, format="json")
    assert response.status_code == 500
    assert response.json() == expected_error(shape, 500, "Internal server error.")
    assert b"Traceback" not in response.content and b"unexpected" not in response.content


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_unknown_path_under_a_dialect_is_404_in_its_shape(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    response = api.get(path.rstrip("/") + "/no/such/thing")
    assert response.status_code == 404
    assert response.json() == expected_error(shape, 404, "Not found.")


def test_the_client_request_id_is_echoed(api):
    response = api.get("/api/v1/test-writes", HTTP_X_REQUEST_ID="shop-42.retry:1")
    assert response["X-Request-ID"] == "shop-42.retry:1"


@pytest.mark.parametrize("sent", ["", "has space", "x" * 129, "<script>", "ä"])
def test_an_unusable_request_id_is_replaced(api, sent):
    response = api.get("/api/v1/test-writes", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32


def test_every_response_has_a_request_id(client):
    assert len(client.get("/healthz")["X-Request-ID"]) == 32
    assert len(client.get("/api/v1/test-writes")["X-Request-ID"]) == 32


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # as in production: the failed statement leaves no broken transaction
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_value_the_database_cannot_store_is_400_in_the_dialects_shape(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    response = api.post(path, data={"name": "x", "outcome": "unstorable"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400
    assert response.json() == expected_error(
        shape, 400, "A value in the request is out of the range that can be stored."
    )
    assert not IdempotencyKey.objects.exists()


# Refused by the parser for every dialect, whatever field they are in (lone surrogates and numbers
# that no column can hold); the test endpoint would otherwise write a key named `name`.
UNREADABLE_BODIES = {
    "lone surrogate": (
        rb'{"name": "x\ud800y"}',
        "JSON parse error - name: a string with a lone UTF-16 surrogate is not valid Unicode.",
    ),
    "lone low surrogate, nested": (
        rb'{"name": "a", "extra": [{"deep": "\udc00"}]}',
        "JSON parse error - extra.0.deep: a string with a lone UTF-16 surrogate is not valid Unicode.",
    ),
    "surrogate in a key": (
        rb'{"name": "a", "x\udfff": 1}',
        "JSON parse error - a key of the document: a string with a lone UTF-16 surrogate is not valid Unicode.",
    ),
    "number past a double": (b'{"name": "a", "pause": 1e400}', "JSON parse error - the number 1e400 is out of range."),
    "negative number past a double": (
        b'{"name": "a", "x": -2e308}',
        "JSON parse error - the number -2e308 is out of range.",
    ),
    "NaN": (b'{"name": "a", "pause": NaN}', "JSON parse error - NaN is not a valid JSON number."),
    "Infinity": (b'{"name": "a", "pause": -Infinity}', "JSON parse error - -Infinity is not a valid JSON number."),
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", UNREADABLE_BODIES)
def test_strings_and_numbers_no_column_can_hold_are_400_in_the_dialects_shape(api, project, dialect, case):
    path, shape = DIALECT_PATHS[dialect]
    body, message = UNREADABLE_BODIES[case]
    keys_before = project.api_keys.count()
    response = api.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == expected_error(shape, 400, message)
    assert project.api_keys.count() == keys_before


def test_a_paired_surrogate_escape_is_the_character_it_encodes(api):
    response = api.post("/api/v1/test-writes", data=rb'{"name": "emoji \ud83d\ude00"}', content_type="application/json")
    assert response.status_code == 201
    assert response.json()["name"] == "emoji \U0001f600"


def chunked(body: bytes) -> dict:
    """A request as gunicorn hands over a `Transfer-Encoding: chunked` body: no Content-Length."""
    return {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body)}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_chunked_body_is_read(api, project, dialect):
    path, _ = DIALECT_PATHS[dialect]
    response = api.post(path, content_type="application/json", **chunked(b'{"name": "chunked"}'))
    assert response.status_code == 201
    assert project.api_keys.filter(name="chunked").exists()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_chunked_body_over_the_limit_is_413_while_streaming(api, project, dialect):
    path, shape = DIALECT_PATHS[dialect]
    limit = 50 if dialect == "custobar" else 1
    stream = io.BytesIO(b'{"name": "big", "p": "' + b"x" * (limit * MB) + b'"}')
    response = api.post(path, content_type="application/json", **{**chunked(b""), "wsgi.input": stream})
    assert response.status_code == 413
    message = f"Request body too large: over {limit * MB} bytes, the limit is {limit} MB."
    assert response.json() == expected_error(shape, 413, message)
    # Refused once past the limit: the rest of the stream was never read.
    assert stream.tell() == limit * MB + 1
    assert not project.api_keys.filter(name="big").exists()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_host_not_served_is_400_in_the_dialects_shape(api, dialect):
    path, shape = DIALECT_PATHS[dialect]
    response = api.post(path, data={"name": "x"}, HTTP_HOST="evil.example")
    assert response.status_code == 400
    body = response.json()
    message = "Bad request: the Host header names no site this server serves."
    assert error_message(body) == message
    if dialect == "track":  # its doc_url cannot be built on a host that is refused
        assert body["error"]["doc_url"] == "/docs/errors/bad_request"
    else:
        assert body == expected_error(shape, 400, message)


def test_a_host_not_served_outside_the_api_keeps_djangos_page(client):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
