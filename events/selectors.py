"""Reads of events: the cursor-paginated stream of a project, one event, an object's timeline."""

import uuid
from datetime import UTC

from django.db.models import Q

from events.models import EVENT_ID_PREFIX, Event


def public_id_parse(value: str, prefix: str) -> uuid.UUID | None:
    """The UUID of `evt_<32 hex>` (or another prefix), or None for anything else."""
    if not value.startswith(prefix):
        return None
    try:
        return uuid.UUID(hex=value[len(prefix) :])
    except ValueError:
        return None


def event_payload(event: Event) -> dict:
    """An event as webhooks send it and the events API shows it: id, type, created, data.object."""
    data = {"object": event.data}
    if event.previous_status:
        data["previous_status"] = event.previous_status
    created = event.created.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"id": event.public_id, "type": event.type, "created": created, "data": data}


def event_get(*, project, public_id: str) -> Event | None:
    pk = public_id_parse(public_id, EVENT_ID_PREFIX)
    return None if pk is None else Event.objects.filter(project=project, pk=pk).first()


def types_q(types: list[str]) -> Q:
    """Match exact types and whole families (`sale.*`)."""
    query = Q(type__in=[t for t in types if not t.endswith(".*")])
    for family in (t[:-1] for t in types if t.endswith(".*")):
        query |= Q(type__startswith=family)
    return query


def events_page(
    *, project, types=(), created_gte=None, created_lt=None, starting_after=None, ending_before=None, limit: int
) -> tuple[list[Event], bool]:
    """A page of the project's events, newest first, and whether more follow in the direction read.

    `starting_after` (an Event) reads older events after it; `ending_before` the newer ones before it.
    The order is (created, id), both ways, so a page never skips or repeats an event that shares a time.
    """
    events = Event.objects.filter(project=project)
    if types:
        events = events.filter(types_q(list(types)))
    if created_gte is not None:
        events = events.filter(created__gte=created_gte)
    if created_lt is not None:
        events = events.filter(created__lt=created_lt)
    if ending_before is not None:
        cursor = ending_before
        newer = Q(created__gt=cursor.created) | Q(created=cursor.created, id__gt=cursor.id)
        rows = list(events.filter(newer).order_by("created", "id")[: limit + 1])
        return list(reversed(rows[:limit])), len(rows) > limit
    if starting_after is not None:
        cursor = starting_after
        events = events.filter(Q(created__lt=cursor.created) | Q(created=cursor.created, id__lt=cursor.id))
    rows = list(events.order_by("-created", "-id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def events_of_object(*, object_id) -> list[Event]:
    """An object's timeline (a sale's history), oldest first."""
    return list(Event.objects.filter(object_id=str(object_id)).order_by("created", "id"))
