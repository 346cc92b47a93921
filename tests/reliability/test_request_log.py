"""The request log: one row per API request, shown to staff and to the key's owner; never secrets."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apikeys.models import APIKey, IdempotencyKey, RequestLog
from apikeys.services import IDEMPOTENCY_TTL
from tests.factories import UserFactory, issue_key
from tests.helpers import KeyedClient

pytestmark = pytest.mark.django_db


def test_a_request_is_one_row_and_one_log_line(api, issued_key, project, caplog):
    caplog.set_level("INFO", logger="apikeys.requests")
    response = api.get("/api/v1/project/", HTTP_X_REQUEST_ID="abc-123", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    entry = RequestLog.objects.get()
    assert (entry.method, entry.path, entry.status_code, entry.request_id) == (
        "GET",
        "/api/v1/project/",
        200,
        "abc-123",
    )
    assert (entry.api_key, entry.project, entry.client_address, entry.error) == (
        issued_key.api_key,
        project,
        "198.51.100.7",
        "",
    )
    line = caplog.records[-1].getMessage()
    # The row and the log line carry the same measured duration.
    assert line.startswith(f"GET /api/v1/project/ 200 {entry.duration_ms}ms ")
    assert f"request_id=abc-123 key={issued_key.api_key.display_prefix}" in line


def test_errors_keep_what_the_client_was_told_but_never_the_key_or_body(project, issued_key):
    guesser = KeyedClient()
    wrong_last = "Y" if issued_key.secret.endswith("X") else "X"  # one wrong character, never the right one
    guesser.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret[:-1]}{wrong_last}")
    guesser.get("/api/v1/keys/")
    entry = RequestLog.objects.get()
    assert (entry.status_code, entry.api_key, entry.project) == (401, None, None)
    assert entry.error == '{"detail":"Invalid or missing API key."}'
    for row in RequestLog.objects.values():
        assert issued_key.secret[8:] not in str(row)


def test_a_nul_in_the_path_is_logged_escaped_and_answered_404(api):
    # PostgreSQL text cannot hold U+0000: stored raw, the log insert itself failed and every answer was a 500.
    response = api.get("/sells/detail/a%00b")
    assert response.status_code == 404
    assert response.json() == {"message": "Sale 'a\x00b' not found."}
    assert RequestLog.objects.get().path == "/sells/detail/a%00b"


@pytest.mark.urls("tests.reliability.urls")
def test_a_refused_body_is_not_logged(api):
    api.post("/sells", data={"name": "", "pause": "card-4111111111111111"}, format="json")
    entry = RequestLog.objects.get()
    assert entry.status_code == 400
    assert "name: This field may not be blank." in entry.error
    assert "4111" not in entry.error


def test_unknown_paths_and_other_pages_are_not_api_requests(client, api):
    api.get("/api/v1/nothing-here")
    client.get("/healthz")
    client.get("/accounts/login/")
    assert list(RequestLog.objects.values_list("path", "status_code")) == [("/api/v1/nothing-here", 404)]


def test_owner_sees_the_last_100_requests_of_each_key(
    client, owner, project, issued_key, django_assert_max_num_queries
):
    other = issue_key(project, name="other")
    now = timezone.now()
    RequestLog.objects.bulk_create(
        [
            RequestLog(created_at=now - timedelta(seconds=i), api_key=issued_key.api_key, project=project,
                       method="POST", path=f"/sells/{i}", status_code=422 if i == 0 else 201, duration_ms=3,
                       request_id=f"req-{i}", error='{"message":"quantity: must be > 0"}' if i == 0 else "")
            for i in range(105)
        ]
        + [RequestLog(created_at=now, api_key=other.api_key, project=project, method="GET", path="/other",
                      status_code=200, duration_ms=1, request_id="other-key")]
    )  # fmt: skip
    client.force_login(owner)
    url = reverse("key-requests", args=[project.slug, issued_key.api_key.pk])
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr class=") == 100
    assert html.index("req-0<") < html.index("req-1<")
    assert "req-99<" in html and "req-100<" not in html
    assert "quantity: must be &gt; 0" in html
    assert "other-key" not in html
    assert url in client.get(reverse("key-list", args=[project.slug])).content.decode()


def test_another_owner_cannot_see_the_requests(client, project, issued_key, other_project):
    client.force_login(other_project.owners.first())
    assert client.get(reverse("key-requests", args=[project.slug, issued_key.api_key.pk])).status_code == 404


@pytest.mark.parametrize(
    "query", ["", "?status_class=4", "?api=%2Fsells", "?method=GET", "?q=req-1", "?created_at__gte=2026-01-01"]
)
def test_admin_lists_and_filters_the_log(client, api, query):
    api.get("/api/v1/project/")
    client.force_login(UserFactory(username="staff", is_staff=True, is_superuser=True))
    response = client.get("/admin/apikeys/requestlog/" + query)
    assert response.status_code == 200


def test_purge_request_log_keeps_the_last_days(project):
    now = timezone.now()
    for age in (0, 29, 31):
        RequestLog.objects.create(created_at=now - timedelta(days=age), method="GET", path=f"/api/v1/{age}",
                                  status_code=200, duration_ms=1, request_id=str(age))  # fmt: skip
    out = StringIO()
    call_command("purge_request_log", "--days", "30", stdout=out)
    assert out.getvalue() == "Deleted 1 request log entries older than 30 days.\n"
    assert sorted(RequestLog.objects.values_list("request_id", flat=True)) == ["0", "29"]


@pytest.mark.parametrize("days", ["-1", "36501", str(10**9)])
def test_purge_request_log_refuses_days_out_of_range(project, days):
    with pytest.raises(CommandError, match="--days must be from 0 to 36500."):
        call_command("purge_request_log", "--days", days)


def test_purge_idempotency_keys_drops_expired_records(project):
    now = timezone.now()
    for name, age in (("fresh", timedelta(hours=1)), ("old", IDEMPOTENCY_TTL + timedelta(seconds=1))):
        IdempotencyKey.objects.create(project=project, key=name, fingerprint="f", method="POST", path="/sells",
                                      claimed_at=now - age, expires_at=now - age + IDEMPOTENCY_TTL)  # fmt: skip
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue() == "Deleted 1 expired idempotency records.\n"
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.fixture
def failing_request_log():
    """The request log's inserts fail in the database (as on a full disk), by a trigger; removed after."""
    table = RequestLog._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$"
            )
            cursor.execute(f"CREATE TRIGGER test_disk_full BEFORE INSERT ON {table} EXECUTE FUNCTION test_disk_full()")
        else:
            cursor.execute(
                f"CREATE TRIGGER test_disk_full BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER test_disk_full{' ON ' + table if connection.vendor == 'postgresql' else ''}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION test_disk_full()")


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.reliability.urls")
def test_a_failing_log_insert_never_turns_a_committed_write_into_an_error(api, failing_request_log, caplog):
    response = api.post("/api/v1/test-writes", {"name": "logged or not"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 201
    assert APIKey.objects.filter(name="logged or not").exists()
    assert not RequestLog.objects.exists()
    assert "Could not write the request log row of POST /api/v1/test-writes" in caplog.text
    again = api.post("/api/v1/test-writes", {"name": "logged or not"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (again.status_code, again.content) == (201, response.content)
    assert APIKey.objects.filter(name="logged or not").count() == 1


def test_control_characters_in_a_logged_field_cannot_forge_a_log_line(api):
    # The formatter every handler uses, fed through the real logger: one record, one line.
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    [console] = [handler for handler in logging.getLogger().handlers if handler.name == "console"]
    handler.setFormatter(console.formatter)
    logger = logging.getLogger("apikeys.requests")
    logger.addHandler(handler)
    try:
        api.get("/sells/detail/x%0d%0a2026-11-30 INFO apikeys.requests GET /admin/ 200%1b[31m%e2%80%a8")
    finally:
        logger.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    assert "GET /sells/detail/x\\r\\n2026-11-30 INFO apikeys.requests GET /admin/ 200\\x1b[31m\\u2028 404 " in line
