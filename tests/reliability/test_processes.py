"""Limits hold across server processes: two gunicorns share one count."""

import json

import pytest

from tests.factories import issue_key
from tests.reliability.servers import call, gunicorns

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_rate_limit_is_shared_by_two_server_processes(project):
    project.rate_limit = 4
    project.save()
    issued = issue_key(project)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    with gunicorns() as (first, second):
        answers = [call(f"{base}/api/v1/project/", headers=headers) for base in (first, second) * 3]
    statuses = [status for status, _, _ in answers]
    assert statuses[:4] == [200, 200, 200, 200]
    assert statuses[4:] == [429, 429]
    assert [answer[1]["X-RateLimit-Remaining"] for answer in answers] == ["3", "2", "1", "0", "0", "0"]
    status, response_headers, body = answers[4]
    assert int(response_headers["Retry-After"]) >= 1
    assert response_headers["X-RateLimit-Limit"] == "4"
    assert json.loads(body)["detail"].startswith("Rate limit of 4 requests per minute exceeded.")
