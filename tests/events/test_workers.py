"""Webhook delivery by real worker processes, on the database backend and on RQ over Redis."""

import signal
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook

from events.services import NewEvent, events_record_many
from events.webhooks.models import DeliveryStatus, WebhookDelivery
from events.webhooks.services import deliveries_sweep, endpoint_create
from tests.events.receiver import receiver
from tests.events.workers import kill, rq_settings, wait_for, workers

ENGINES = [
    pytest.param("database", id="database"),
    pytest.param("rq", id="rq", marks=pytest.mark.redis),
]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=ENGINES)
def engine(request):
    if request.param == "rq":
        import django_rq

        with override_settings(**rq_settings()):
            django_rq.get_queue("default").empty()
            yield "rq"
    else:
        yield "database"


def record(project, count):
    with transaction.atomic():
        return events_record_many(
            project_id=project.pk, events=[NewEvent(type="stock.adjusted", data={"n": n}) for n in range(count)]
        )


def delivered() -> int:
    return WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count()


def test_two_workers_deliver_every_event_once_signed(project, engine):
    with receiver() as hooks, workers(2, engine=engine):
        endpoint = endpoint_create(project=project, url=hooks.url, event_types=["*"])
        events = record(project, 6)
        wait_for(lambda: delivered() == 6)
        for request in hooks.received:
            Webhook(endpoint.secret).verify(request.body, request.headers)
    assert sorted(r.headers["webhook-id"] for r in hooks.received) == sorted(e.public_id for e in events)


def test_a_worker_killed_mid_delivery_loses_nothing(project, engine):
    hold = threading.Event()
    with receiver(hold=hold) as hooks:
        endpoint_create(project=project, url=hooks.url, event_types=["*"])
        with workers(1, engine=engine) as [first]:
            [event] = record(project, 1)
            assert hooks.arrived.wait(60)
            kill(first, signal.SIGKILL)
        hold.set()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
        assert delivery.claimed_until > timezone.now()
        with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
            # The killed worker's hold has lapsed: the sweep queues the delivery again.
            assert deliveries_sweep() == 1
        with workers(1, engine=engine):
            wait_for(lambda: delivered() == 1)
    assert [r.headers["webhook-id"] for r in hooks.received] == [event.public_id] * 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
