"""Every error of the track endpoints is `{"error": {"code", "message", "doc_url"}}` with the status's one code."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

VALID_SALE = {"customerExternalId": "c1", "amount": 100}


def error_of(response, status_code, code):
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "doc_url"}
    assert body["error"]["code"] == code
    assert body["error"]["doc_url"] == f"http://testserver/docs/errors/{code}"
    return body["error"]["message"]


@pytest.mark.parametrize("path", ["/track/sale", "/track/sale/", "/track/lead", "/track/lead/"])
def test_a_missing_key_is_401(path):
    response = APIClient().post(path, VALID_SALE, format="json")
    assert "API key" in error_of(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_wrong_key_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer sl_live_nothere1_" + "x" * 40)
    assert error_of(client.post("/track/sale", VALID_SALE, format="json"), 401, "unauthorized")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [('{"amount": 1,', "application/json"), ("amount=1", "application/x-www-form-urlencoded"), ("hi", "text/plain")],
)
def test_a_body_that_is_not_json_is_400(api, body, content_type):
    for path in ["/track/sale", "/track/lead"]:
        assert error_of(api.post(path, body, content_type=content_type), 400, "bad_request")


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42"])
def test_json_that_is_not_an_object_is_422(api, body):
    message = error_of(api.post("/track/sale", body, content_type="application/json"), 422, "unprocessable_entity")
    assert message.startswith("Invalid data. Expected a dictionary")


def test_an_unknown_track_path_is_404_in_the_track_shape(api):
    assert error_of(api.post("/track/click", VALID_SALE, format="json"), 404, "not_found") == "Not found."


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405_in_the_track_shape(api, method):
    response = getattr(api, method)("/track/sale")
    assert response.status_code == 405
    assert set(response.json()["error"]) == {"code", "message", "doc_url"}


def test_the_doc_url_is_served(api):
    doc_url = api.post("/track/sale", {}, format="json").json()["error"]["doc_url"]
    assert api.get(doc_url.removeprefix("http://testserver")).status_code == 200


def test_unknown_keys_are_ignored(api):
    assert api.post("/track/sale", {**VALID_SALE, "somethingNew": {"a": 1}}, format="json").status_code == 200
