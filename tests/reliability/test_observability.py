"""Watching it run: /metrics (behind its token) and JSON log lines carrying the request's fields."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.test import override_settings
from prometheus_client import REGISTRY
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from salesledger.logs import RequestFieldsFilter

pytestmark = pytest.mark.django_db
TOKEN = "scraper-token"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(client):
    assert client.get("/metrics").status_code == 404
    with override_settings(METRICS_TOKEN=TOKEN):
        for sent in ({}, {"HTTP_AUTHORIZATION": "Bearer nope"}, {"HTTP_AUTHORIZATION": TOKEN}):
            response = client.get("/metrics", **sent)
            assert (response.status_code, response["WWW-Authenticate"]) == (401, "Bearer")


@override_settings(METRICS_TOKEN=TOKEN)
def test_requests_sales_refusals_and_replays_are_counted(
    client, api, project, make_product, django_capture_on_commit_callbacks
):
    product = make_product("Laptop", stock=10, price="5.00")
    labels = {"endpoint": "sells", "dialect": "sells", "method": "POST", "status": "201"}
    before = {
        "requests": sample("salesledger_api_requests_total", **labels),
        "latency": sample("salesledger_api_request_duration_seconds_count", endpoint="sells", dialect="sells"),
        "sales": sample("salesledger_sales_written_total", channel="sells"),
        "refusals": sample("salesledger_rate_limit_refusals_total", dialect="sells"),
        "replays": sample("salesledger_idempotency_replays_total", dialect="sells"),
        "django_201": sample("django_http_responses_total_by_status_total", status="201"),
        "django_200": sample("django_http_responses_total_by_status_total", status="200"),
        "django_templates": sample("django_http_responses_total_by_templatename_total", templatename="None"),
    }
    body = {"products": [{"productId": str(product.id), "quantity": 1}]}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/sells", body, format="json", HTTP_IDEMPOTENCY_KEY="once").status_code == 201
        assert api.post("/sells", body, format="json", HTTP_IDEMPOTENCY_KEY="once")["Idempotent-Replayed"] == "true"
    project.rate_limit = 2
    project.save()
    assert api.get("/sells").status_code == 429

    assert sample("salesledger_api_requests_total", **labels) == before["requests"] + 2
    assert (
        sample("salesledger_api_request_duration_seconds_count", endpoint="sells", dialect="sells")
        == before["latency"] + 3
    )
    assert sample("salesledger_sales_written_total", channel="sells") == before["sales"] + 1
    assert sample("salesledger_rate_limit_refusals_total", dialect="sells") == before["refusals"] + 1
    assert sample("salesledger_idempotency_replays_total", dialect="sells") == before["replays"] + 1
    # django-prometheus counts the pages (/healthz), not the API's requests.
    assert sample("django_http_responses_total_by_status_total", status="201") == before["django_201"]
    assert (
        sample("django_http_responses_total_by_templatename_total", templatename="None") == before["django_templates"]
    )
    assert client.get("/healthz").status_code == 200
    assert sample("django_http_responses_total_by_status_total", status="200") == before["django_200"] + 1
    page = scrape(client)
    for name in ("salesledger_sales_written_total", "salesledger_api_request_duration_seconds_bucket"):
        assert name in page
    assert 'django_http_responses_total_by_status_total{status="200"}' in page
    assert "salesledger_task_queue_depth 0.0" in page


def test_a_rolled_back_sale_is_not_counted(api, make_product, django_capture_on_commit_callbacks):
    product = make_product("Laptop", stock=1, price="5.00")
    before = sample("salesledger_sales_written_total", channel="sells")
    with django_capture_on_commit_callbacks(execute=True):
        short = api.post("/sells", {"products": [{"productId": str(product.id), "quantity": 2}]}, format="json")
    assert short.status_code == 409
    assert sample("salesledger_sales_written_total", channel="sells") == before


@pytest.fixture
def json_lines():
    """The root logger also writes through the json formatter and the request filter of the settings."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    configurator = logging.config.DictConfigurator(settings.LOGGING)
    handler.setFormatter(configurator.configure_formatter(dict(settings.LOGGING["formatters"]["json"])))
    handler.addFilter(RequestFieldsFilter())
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


@pytest.mark.urls("tests.reliability.urls")
def test_json_lines_carry_the_request_id_project_and_key_prefix_never_the_key(api, issued_key, json_lines):
    api.raise_request_exception = False
    api.post("/sells", {"name": "x", "outcome": "crash"}, format="json", HTTP_X_REQUEST_ID="req-42")
    api.post("/sells", {"name": "x", "outcome": "conflict"}, format="json", HTTP_X_REQUEST_ID="req-43")
    lines = json_lines()
    assert [(line["logger"], line["level"], line["request_id"]) for line in lines] == [
        ("django.request", "ERROR", "req-42"),
        ("apikeys.requests", "INFO", "req-42"),
        ("apikeys.requests", "INFO", "req-43"),
        ("django.request", "WARNING", "req-43"),  # Django logs a returned error after the middleware
    ]
    for line in lines:
        assert (line["project"], line["key_prefix"]) == ("alpha", issued_key.api_key.display_prefix)
    crash, crash_line, _, conflict = lines
    assert crash["message"] == "Internal Server Error: /sells"
    assert "RuntimeError: unexpected" in crash["exc_info"]
    assert crash_line["message"].startswith("POST /sells 500 ")
    assert conflict["message"] == "Conflict: /sells"
    assert all(issued_key.secret not in json.dumps(line) for line in lines)


@override_settings(METRICS_TOKEN=TOKEN)
def test_under_gunicorn_metrics_add_up_every_workers_file_even_with_one_killed_mid_write(client, tmp_path, monkeypatch):
    for pid, sold in ((101, 3), (102, 2)):
        values = MmapedDict(str(tmp_path / f"counter_{pid}.db"))
        key = mmap_key(
            "salesledger_sales_written", "salesledger_sales_written_total", ["channel"], ["sells"], "Ledger sales"
        )
        values.write_value(key, sold, 0)
        values.close()
    (tmp_path / "counter_103.db").touch()  # a worker killed -9 while creating its file
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert 'salesledger_sales_written_total{channel="sells"} 5.0' in scrape(client)
