"""Password logins (admin and owner pages) are limited per client address."""

import pytest

from apikeys import limits
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/"])
def test_too_many_failed_logins_refuse_even_the_right_password(client, path, monkeypatch, time_machine):
    time_machine.move_to("2026-11-22 12:00:00", tick=False)
    monkeypatch.setattr(limits, "FAILED_LOGIN_LIMIT", 3)
    UserFactory(username="staff", is_staff=True)
    wrong = {"username": "staff", "password": "guess"}
    right = {"username": "staff", "password": "pw-for-tests-1"}
    for _ in range(3):
        assert client.post(path, wrong, REMOTE_ADDR="203.0.113.5").status_code == 200  # the form again
    refused = client.post(path, right, REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session

    assert client.post(path, right, REMOTE_ADDR="198.51.100.1").status_code == 302  # another address
    client.logout()
    time_machine.shift(limits.FAILED_LOGIN_WINDOW_SECONDS)
    assert client.post(path, right, REMOTE_ADDR="203.0.113.5").status_code == 302
