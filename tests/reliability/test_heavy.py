"""Uploads cannot starve the server: one per project at a time, a few per machine, and every other
request keeps its workers. A refused upload is answered at once, 429 with `Retry-After`."""

import contextlib
import http.client
import json

import psycopg
import pytest
from django.test import override_settings

from apikeys import heavy
from sales.ledger.models import Sale
from sales.uploads.services import _LOCK_NAMESPACE
from tests.factories import issue_key
from tests.reliability.servers import PORTS, _database_url, gunicorns
from tests.sales.uploads.helpers import SECOND_EXAMPLE, UPLOAD_PATH

SERVER_BUSY = "The server is running as many uploads as it takes at once; retry shortly."
PROJECT_BUSY = "Another upload of this project is running; retry when it has finished."


def custobar_error(message: str) -> dict:
    return {"error": message, "errors": [{"row": None, "field": None, "message": message}]}


@contextlib.contextmanager
def every_slot_taken(directory, slots: int):
    """The machine's heavy-request slots, all held by this test process."""
    with override_settings(HEAVY_REQUEST_LOCK_DIR=str(directory)), contextlib.ExitStack() as stack:
        for _ in range(slots):
            stack.enter_context(heavy.heavy_slot())
        yield


@contextlib.contextmanager
def upload_running(project):
    """Another connection inside an upload of `project`: it holds the project's upload lock."""
    with psycopg.connect(_database_url()) as other, other.transaction():
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, project.pk % 2**31])
        yield


@pytest.mark.django_db
def test_an_upload_when_every_slot_is_taken_is_429_at_once_and_other_requests_run(
    api, other_api, monkeypatch, tmp_path
):
    monkeypatch.setattr(heavy, "HEAVY_REQUESTS", 2)
    with every_slot_taken(tmp_path, 2):
        refused = api.post(UPLOAD_PATH, SECOND_EXAMPLE, format="json")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "5"
        assert refused.json() == custobar_error(SERVER_BUSY)
        assert not Sale.objects.exists()
        assert other_api.get("/api/v1/project/").status_code == 200
        assert other_api.get("/sells").status_code == 200
    with override_settings(HEAVY_REQUEST_LOCK_DIR=str(tmp_path)):
        assert api.post(UPLOAD_PATH, SECOND_EXAMPLE, format="json").status_code == 200


@pytest.mark.django_db
def test_a_refused_upload_gives_its_slot_back(api, monkeypatch, tmp_path):
    monkeypatch.setattr(heavy, "HEAVY_REQUESTS", 1)
    with override_settings(HEAVY_REQUEST_LOCK_DIR=str(tmp_path)):
        assert api.post(UPLOAD_PATH, {"sales": [{"sale_external_id": "1"}]}, format="json").status_code == 400
        assert api.post(UPLOAD_PATH, rb'{"sales": "x\ud800"}', content_type="application/json").status_code == 400
        assert api.post(UPLOAD_PATH, SECOND_EXAMPLE, format="json").status_code == 200
        with heavy.heavy_slot():  # the only slot is free again
            pass


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_upload_of_one_project_is_429_at_once_while_other_projects_upload(api, other_api, project):
    with upload_running(project):
        refused = api.post(UPLOAD_PATH, SECOND_EXAMPLE, format="json")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "5"
        assert refused.json() == custobar_error(PROJECT_BUSY)
        assert not Sale.objects.filter(project=project).exists()
        assert other_api.post(UPLOAD_PATH, SECOND_EXAMPLE, format="json").status_code == 200
    assert api.post(UPLOAD_PATH, SECOND_EXAMPLE, format="json").status_code == 200


def send(base: str, method: str, path: str, *, headers=None, body=None, chunked=False):
    """(status, content type, body) of one raw HTTP request, as any client could send it."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_gunicorn_workers_share_the_caps_and_keep_serving(project, other_project, tmp_path, monkeypatch):
    monkeypatch.setattr(heavy, "HEAVY_REQUESTS", 1)
    key, other_key = issue_key(project), issue_key(other_project)
    upload = json.dumps(SECOND_EXAMPLE).encode()

    def headers(issued):
        return {"Authorization": f"Bearer {issued.secret}", "Content-Type": "application/json"}

    env = {"HEAVY_REQUESTS": "1", "HEAVY_REQUEST_LOCK_DIR": str(tmp_path)}
    with gunicorns(PORTS[:1], workers=2, env=env) as (base,):
        with every_slot_taken(tmp_path, 1):
            status, content_type, body = send(base, "POST", UPLOAD_PATH, headers=headers(key), body=upload)
            assert (status, content_type) == (429, "application/json")
            assert json.loads(body) == custobar_error(SERVER_BUSY)
            assert send(base, "GET", "/api/v1/project/", headers=headers(other_key))[0] == 200
        with upload_running(project):
            status, _, body = send(base, "POST", UPLOAD_PATH, headers=headers(key), body=upload)
            assert (status, json.loads(body)) == (429, custobar_error(PROJECT_BUSY))
            assert send(base, "POST", UPLOAD_PATH, headers=headers(other_key), body=upload)[0] == 200
        assert send(base, "POST", UPLOAD_PATH, headers=headers(key), body=upload)[0] == 200
    assert Sale.objects.filter(project=project).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_what_gunicorn_refuses_itself_and_what_django_answers_in_the_dialects_shape(project):
    key = issue_key(project)
    auth = {"Authorization": f"Bearer {key.secret}", "Content-Type": "application/json"}
    with gunicorns(PORTS[:1]) as (base,):
        # Django sees these: JSON in the dialect's shape.
        status, content_type, body = send(
            base, "POST", "/api/v1/products/", headers=auth, body=iter([b'{"name": "Chunked", ', b'"price": 5}']),
            chunked=True,
        )  # fmt: skip
        assert (status, content_type) == (201, "application/json")
        assert json.loads(body)["name"] == "Chunked"
        status, content_type, body = send(
            base, "POST", "/sells", headers=auth, body=(b"x" * 65536 for _ in range(17)), chunked=True
        )
        assert (status, json.loads(body)) == (
            413,
            {"message": "Request body too large: over 1048576 bytes, the limit is 1 MB."},
        )
        status, content_type, body = send(base, "GET", "/sells", headers={**auth, "Host": "evil.example"})
        assert (status, content_type) == (400, "application/json")
        assert json.loads(body) == {"message": "Bad request: the Host header names no site this server serves."}
        # gunicorn answers these before Django can (plain HTML); its limits are set in gunicorn.conf.py.
        status, content_type, _ = send(base, "GET", "/sells?" + "x" * 8200, headers=auth)
        assert (status, content_type) == (414, "text/html")
        status, content_type, _ = send(base, "GET", "/sells", headers={**auth, **{f"X-H{n}": "1" for n in range(101)}})
        assert (status, content_type) == (431, "text/html")
        status, content_type, _ = send(base, "GET", "/sells", headers={**auth, "X-Big": "x" * 8200})
        assert (status, content_type) == (431, "text/html")
