"""Webhook delivery on the database backend's worker, in this process: signed, retried, guarded."""

import json
import socket
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from prometheus_client import REGISTRY
from standardwebhooks import Webhook

from events.services import NewEvent, event_record, events_record_many
from events.webhooks import guard
from events.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from events.webhooks.services import deliveries_sweep, delivery_send, endpoint_create, endpoint_ping
from tests.events.receiver import receiver
from tests.events.tasks import run_due_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def record(project, type="stock.adjusted", data=None):
    with transaction.atomic():
        return event_record(project_id=project.pk, type=type, data=data or {"on_hand": 3}, object_id="obj-1")


def attempts_counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("salesledger_webhook_attempts_total", {"outcome": outcome}) or 0.0


def test_each_event_arrives_signed_so_that_standardwebhooks_verifies_it(project):
    with receiver() as hooks:
        endpoint = endpoint_create(project=project, url=hooks.url, event_types=["*"])
        event = record(project, data={"price": 12.5, "name": "Lamp"})
        run_due_tasks()
    [request] = hooks.received
    assert request.path == "/hooks"
    assert request.headers["webhook-id"] == event.public_id
    assert Webhook(endpoint.secret).verify(request.body, request.headers) == {
        "id": event.public_id,
        "type": "stock.adjusted",
        "created": event.created.isoformat().replace("+00:00", "Z"),
        "data": {"object": {"price": 12.5, "name": "Lamp"}},
    }
    assert request.headers["Content-Type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    [attempt] = delivery.attempt_log.all()
    assert (attempt.status_code, attempt.response_body, attempt.error) == (200, "answer 200", "")


def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(project):
    with receiver(statuses=[500, 500, 500]) as hooks, time_machine.travel(timezone.now(), tick=False) as clock:
        endpoint = endpoint_create(project=project, url=hooks.url, event_types=["stock.*"])
        record(project)
        run_due_tasks()
        delivery = WebhookDelivery.objects.get()
        waits = []
        for _ in range(3):
            delivery.refresh_from_db()
            waits.append(delivery.next_attempt_at - timezone.now())
            run_due_tasks()  # Not due yet: nothing is sent.
            clock.shift(waits[-1] + timedelta(seconds=1))
            run_due_tasks()
        assert Webhook(endpoint.secret).verify(hooks.received[-1].body, hooks.received[-1].headers)["type"] == (
            "stock.adjusted"
        )
    assert [r.headers["webhook-id"] for r in hooks.received] == [delivery.event.public_id] * 4
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.DELIVERED, 4, None)
    # 30 s, 5 min, 30 min, each with up to 10% jitter.
    for wait, base in zip(waits, [30, 300, 1800], strict=True):
        assert base * 0.9 <= wait.total_seconds() <= base * 1.1
    codes = [attempt.status_code for attempt in delivery.attempt_log.order_by("attempted_at")]
    assert codes == [500, 500, 500, 200]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_delivery_fails_after_about_28_hours_of_retries_and_3_days_of_failures_disable_the_endpoint(project):
    before = {outcome: attempts_counted(outcome) for outcome in ("retry", "failed")}
    with receiver(statuses=[503] * 40) as hooks, time_machine.travel(timezone.now(), tick=False) as clock:
        endpoint = endpoint_create(project=project, url=hooks.url, event_types=["*"])
        started = timezone.now()
        record(project)
        for _ in range(8):
            run_due_tasks()
            first = WebhookDelivery.objects.get()
            if first.next_attempt_at:
                clock.move_to(first.next_attempt_at + timedelta(seconds=1))
        assert (first.status, first.attempts, first.next_attempt_at) == (DeliveryStatus.FAILED, 8, None)
        assert len(hooks.received) == 8
        # /metrics counts each attempt by outcome: 7 to retry, then the one that gives up.
        assert attempts_counted("retry") - before["retry"] == 7
        assert attempts_counted("failed") - before["failed"] == 1
        endpoint.refresh_from_db()
        assert endpoint.enabled and endpoint.failing_since == started
        clock.move_to(started + timedelta(days=3, minutes=1))
        record(project, type="stock.low")
        run_due_tasks()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "every delivery failed for 3 days" in endpoint.disabled_reason


def test_redirects_are_not_followed_and_answers_are_kept_up_to_2_kb(project):
    with receiver(statuses=[302, 299]) as hooks:
        endpoint_create(project=project, url=hooks.url, event_types=["*"])
        record(project)
        run_due_tasks()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 302)
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        attempt = delivery_send(delivery_id=delivery.pk)
    assert [r.path for r in hooks.received] == ["/hooks", "/hooks"]
    assert attempt.status_code == 299 and attempt.response_body == "x" * 2048


@pytest.mark.parametrize(
    "addresses", [["10.0.0.7"], ["127.0.0.1"], ["169.254.169.254"], ["::1"], ["fd00::1"], ["::ffff:192.168.1.1"]]
)
def test_hosts_resolving_to_private_loopback_or_link_local_addresses_are_refused(project, monkeypatch, addresses):
    connects = []
    monkeypatch.setattr(guard, "resolve", lambda host, port: addresses)
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: connects.append(args))
    endpoint = endpoint_create(project=project, url="https://hooks.example.com/in", event_types=["*"])
    record(project)
    attempt = delivery_send(delivery_id=WebhookDelivery.objects.get(endpoint=endpoint).pk)
    assert connects == []
    assert attempt.status_code is None
    assert attempt.error == "hooks.example.com resolves only to private, loopback or link-local addresses."


def test_the_address_actually_connected_to_is_checked_again(project, monkeypatch):
    """DNS said public, the connection landed on loopback (rebinding): refused before a byte is sent."""
    with receiver() as hooks:
        real_connect = socket.create_connection
        monkeypatch.setattr(guard, "resolve", lambda host, port: ["93.184.216.34"])
        monkeypatch.setattr(
            socket, "create_connection", lambda address, timeout: real_connect(hooks.server_address, timeout)
        )
        endpoint_create(project=project, url="https://hooks.example.com/in", event_types=["*"])
        record(project)
        attempt = delivery_send(delivery_id=WebhookDelivery.objects.get().pk)
    assert hooks.received == []
    assert attempt.error == "hooks.example.com connected to 127.0.0.1, a private, loopback or link-local address."


def test_endpoints_get_only_the_types_they_asked_for(project, other_project):
    with receiver() as hooks:
        endpoint_create(project=project, url=hooks.url, event_types=["sale.*", "stock.low"])
        endpoint_create(project=other_project, url=hooks.url, event_types=["*"])
        for type in ["sale.created", "stock.adjusted", "stock.low", "lead.created"]:
            record(project, type=type)
        run_due_tasks()
    assert sorted(json.loads(r.body)["type"] for r in hooks.received) == ["sale.created", "stock.low"]


def test_a_test_event_is_a_ping_to_that_endpoint_only(project):
    with receiver() as hooks:
        endpoint = endpoint_create(project=project, url=hooks.url, event_types=["*"])
        endpoint_create(project=project, url=hooks.url + "/other", event_types=["*"])
        endpoint_ping(endpoint=endpoint)
        run_due_tasks()
    [request] = hooks.received
    body = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert (request.path, body["type"]) == ("/hooks", "ping")
    assert body["data"] == {"object": {"endpoint": endpoint.public_id}}


def test_the_sweep_queues_what_a_lost_queue_forgot(project):
    """The task queue is emptied after the commit: the delivery row is the truth, and the sweep finds it."""
    from django_tasks_db.models import DBTaskResult

    with receiver() as hooks, time_machine.travel(timezone.now(), tick=False) as clock:
        endpoint_create(project=project, url=hooks.url, event_types=["*"])
        record(project)
        DBTaskResult.objects.all().delete()
        assert deliveries_sweep() == 0  # Just queued: its task is given time first.
        clock.shift(timedelta(minutes=6))
        assert deliveries_sweep() == 1
        run_due_tasks()
        assert deliveries_sweep() == 0
    assert len(hooks.received) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_disabled_endpoint_gets_no_deliveries(project):
    with receiver() as hooks:
        endpoint = endpoint_create(project=project, url=hooks.url, event_types=["*"])
        WebhookEndpoint.objects.update(enabled=False)
        record(project)
        run_due_tasks()
    assert hooks.received == [] and not WebhookDelivery.objects.exists()
    assert endpoint.deliveries.count() == 0


def test_a_large_batch_is_handed_to_one_sweep_task_that_queues_each_delivery(project):
    from django_tasks_db.models import DBTaskResult

    with receiver() as hooks:
        endpoint_create(project=project, url=hooks.url, event_types=["*"])
        with transaction.atomic():
            events_record_many(
                project_id=project.pk, events=[NewEvent(type="sale.created", data={"n": n}) for n in range(25)]
            )
        assert [task.task_path for task in DBTaskResult.objects.all()] == ["events.webhooks.tasks.webhooks_sweep"]
        run_due_tasks()
    assert sorted(json.loads(r.body)["data"]["object"]["n"] for r in hooks.received) == list(range(25))
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 25
