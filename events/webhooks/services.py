"""Every write of webhooks: endpoints, deliveries, the attempt at one, retries and the sweep.

A delivery is at least once: each attempt is claimed by a conditional UPDATE (one worker at a time,
for `CLAIM_LEASE`), sent outside any transaction, then recorded with the delivery's next step in one
transaction. Tasks only say "look at this delivery now"; losing one loses nothing, because the sweep
finds every due delivery that no queued task or worker is taking care of.
"""

import http.client
import ipaddress
import random
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events.models import Event
from events.selectors import event_payload
from events.webhooks import guard, signing, tasks
from events.webhooks.models import (
    PING,
    RESPONSE_BODY_LIMIT,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from salesledger.errors import Conflict
from salesledger.metrics import webhook_attempt_counted

# Waits after the 1st, 2nd, ... failed attempt (±10% jitter): about 28 hours in all, then the delivery fails.
RETRY_SCHEDULE = [
    timedelta(seconds=30),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
]
JITTER = 0.1
# How long a worker holds a delivery it is sending: well past the request's timeout.
CLAIM_LEASE = timedelta(seconds=guard.TIMEOUT_SECONDS * 6)
# A due delivery whose task has not claimed it this long after being queued is queued again by the sweep.
QUEUE_GRACE = timedelta(minutes=5)
SWEEP_BATCH = 1000
# More deliveries than this in one commit are handed to the sweep task instead of one task each.
ENQUEUE_EACH_UP_TO = 20
DISABLE_AFTER = timedelta(days=3)


class EndpointDisabled(Conflict):
    code = "endpoint_disabled"


# Endpoints


def endpoint_url_check(url: str) -> str:
    """`url` when webhooks may post to it; raises ValidationError (on `url`) otherwise.

    https only, unless DEBUG is on or the host is in WEBHOOKS_ALLOW_PRIVATE_URLS; a literal private,
    loopback or link-local address only for such hosts. Names are resolved (and checked) at each delivery.
    """
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": ["Enter a valid http or https URL."]}) from None
    parts = urlsplit(url)
    host = parts.hostname or ""
    allowed = guard.host_allowed_private(host)
    if parts.scheme != "https" and not (settings.DEBUG or allowed):
        raise ValidationError({"url": ["Webhook URLs must use https."]})
    if parts.username or parts.password:
        raise ValidationError({"url": ["Webhook URLs may not contain a user name or password."]})
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not (allowed or guard.address_public(str(literal))):
        raise ValidationError({"url": ["Webhook URLs may not point to private, loopback or link-local addresses."]})
    return url


def event_types_check(event_types: list[str]) -> list[str]:
    """The types as stored (deduplicated, in order); raises ValidationError (on `event_types`) when empty or odd."""
    cleaned = list(dict.fromkeys(event_type.strip() for event_type in event_types))
    if not cleaned or any(not event_type or len(event_type) > 64 or " " in event_type for event_type in cleaned):
        raise ValidationError({"event_types": ['List one or more event types: "*", "sale.*" or "sale.created".']})
    return cleaned


def endpoint_create(
    *, project, url: str, event_types: list[str], description: str = "", enabled: bool = True
) -> WebhookEndpoint:
    """A new endpoint with a new secret (read it from the returned object: it is shown once).

    Raises ValidationError for a refused URL or bad event types.
    """
    return WebhookEndpoint.objects.create(
        project=project, url=endpoint_url_check(url), event_types=event_types_check(event_types),
        description=description, enabled=enabled, secret=signing.secret_generate(),
    )  # fmt: skip


def endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change `url`, `event_types`, `description` or `enabled`; enabling clears the disabled notice.

    Raises ValidationError for a refused URL or bad event types.
    """
    if "url" in changes:
        changes["url"] = endpoint_url_check(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = event_types_check(changes["event_types"])
    if changes.get("enabled"):
        changes.update(disabled_reason="", failing_since=None)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=list(changes))
    return endpoint


def endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Replace the signing secret; the next attempt of every delivery is signed with the new one."""
    endpoint.secret = signing.secret_generate()
    endpoint.save(update_fields=["secret"])
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their attempts."""
    endpoint.delete()


def endpoint_ping(*, endpoint: WebhookEndpoint, actor_user=None, actor_key=None) -> WebhookDelivery:
    """Send a `ping` event to this endpoint only ("Send test event"). Raises EndpointDisabled (409)."""
    from events.services import event_record

    if not endpoint.enabled:
        raise EndpointDisabled("The endpoint is disabled: enable it to send a test event.")
    with transaction.atomic():
        event = event_record(
            project_id=endpoint.project_id, type=PING, data={"endpoint": endpoint.public_id},
            object_id=endpoint.public_id, actor_user=actor_user, actor_key=actor_key,
        )  # fmt: skip
        now = timezone.now()
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=now, enqueued_at=now)
        transaction.on_commit(lambda: deliveries_enqueue([delivery.pk]))
    return delivery


# Deliveries


def deliveries_create(*, project_id, events: list[Event], now) -> list[WebhookDelivery]:
    """A pending delivery per (event, enabled endpoint wanting its type), queued once the transaction commits."""
    endpoints = list(WebhookEndpoint.objects.filter(project_id=project_id, enabled=True))
    pairs = [(event, endpoint) for event in events for endpoint in endpoints if endpoint.wants(event.type)]
    # A large batch is left to one sweep task (which finds deliveries never queued), so that a commit
    # never waits on thousands of enqueues.
    each = len(pairs) <= ENQUEUE_EACH_UP_TO
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint, event=event, created_at=now, next_attempt_at=now, enqueued_at=now if each else None
        )
        for event, endpoint in pairs
    )
    if deliveries:
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: deliveries_enqueue(ids) if each else tasks.webhooks_sweep.enqueue())
    return deliveries


def deliveries_enqueue(ids) -> None:
    """A task per delivery, each of which makes the delivery's next attempt."""
    for delivery_id in ids:
        tasks.webhook_deliver.enqueue(str(delivery_id))


def delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery again now, with a new series of retries. Raises EndpointDisabled (409)."""
    if not delivery.endpoint.enabled:
        raise EndpointDisabled("The endpoint is disabled: enable it to resend.")
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, enqueued_at=now
        )
        transaction.on_commit(lambda: deliveries_enqueue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


def delivery_send(*, delivery_id) -> WebhookAttempt | None:
    """Make the next attempt of a due delivery, record it and schedule what follows.

    Returns the attempt, or None when the delivery is not due or another worker holds it (a duplicate
    task, or one that the sweep queued again): nothing is sent then.
    """
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_LEASE)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, claimed_until=None
        )
        return None
    body = signing.body_encode(event_payload(delivery.event))
    event_id = delivery.event.public_id
    headers = signing.headers_sign(secret=endpoint.secret, message_id=event_id, timestamp=now, body=body)
    started = time.monotonic()
    attempt = WebhookAttempt(delivery=delivery, attempted_at=now)
    try:
        answer = guard.post(endpoint.url, body=body.encode(), headers=headers, limit=RESPONSE_BODY_LIMIT)
        attempt.status_code = answer.status_code
        attempt.response_body = answer.body.decode("utf-8", "replace").replace("\x00", "")
    except guard.AddressRefused as error:
        attempt.error = str(error)[:500]
    except (OSError, http.client.HTTPException) as error:
        attempt.error = (f"{type(error).__name__}: {error}")[:500]
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    _attempt_record(delivery=delivery, attempt=attempt)
    return attempt


def _attempt_record(*, delivery: WebhookDelivery, attempt: WebhookAttempt) -> None:
    """Store the attempt, move the delivery on (delivered, retry later or failed) and track the endpoint's health."""
    now = timezone.now()
    attempts = delivery.attempts + 1
    changes = {"attempts": attempts, "claimed_until": None, "last_attempt_at": attempt.attempted_at}
    changes["last_status_code"] = attempt.status_code
    endpoint = delivery.endpoint
    if attempt.succeeded:
        outcome = "delivered"
        changes.update(status=DeliveryStatus.DELIVERED, next_attempt_at=None)
    elif attempts > len(RETRY_SCHEDULE):
        outcome = "failed"
        changes.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        outcome = "retry"
        wait = RETRY_SCHEDULE[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)
        # Queued to run then: the sweep gives that task its grace from then on.
        changes.update(next_attempt_at=now + wait, enqueued_at=now + wait)
    with transaction.atomic():
        attempt.save()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
        webhook_attempt_counted(outcome=outcome)
        if attempt.succeeded:
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        else:
            _endpoint_failed(endpoint=endpoint, now=now)
        if changes.get("next_attempt_at"):
            run_after = changes["next_attempt_at"]
            transaction.on_commit(lambda: tasks.webhook_deliver.using(run_after=run_after).enqueue(str(delivery.pk)))


def _endpoint_failed(*, endpoint: WebhookEndpoint, now) -> None:
    """Start the endpoint's failing run, or disable it when every attempt has failed for 3 days."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True, failing_since__lte=now - DISABLE_AFTER).update(
        enabled=False,
        disabled_reason=f"Disabled on {now:%Y-%m-%d %H:%M} UTC: every delivery failed for 3 days. "
        "Fix the receiver, then enable the endpoint again.",
    )


def deliveries_sweep() -> int:
    """Queue again every due delivery that no worker holds and no recent task was queued for; returns how many.

    This is what makes a lost queue (a Redis flush, a crashed worker, a commit whose enqueue never ran)
    lose nothing: the delivery rows are the truth, tasks are only a nudge.
    """
    now = timezone.now()
    due = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - QUEUE_GRACE))
        .order_by("next_attempt_at")
    )
    ids = list(due.values_list("pk", flat=True)[:SWEEP_BATCH])
    WebhookDelivery.objects.filter(pk__in=ids).update(enqueued_at=now, claimed_until=None)
    for delivery_id in ids:
        tasks.webhook_deliver.enqueue(str(delivery_id))
    return len(ids)
