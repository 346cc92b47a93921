"""Every write of events: recording them with the change they describe, and purging old ones.

Services of every app call `event_record` (one change) or `events_record_many` (a batch) inside
their own transaction, or `events_record_with` to send the INSERT with the change's own statements
(one statement on PostgreSQL), so an event exists exactly when its change committed. Recording is
one INSERT, which also tells whether the project has webhook endpoints; only then are deliveries
written (same transaction) and their tasks enqueued once it commits.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from events.models import Actor, Event
from events.webhooks import services as webhooks
from events.webhooks.models import WebhookEndpoint
from salesledger import logs
from salesledger.bulk import json_recordset
from salesledger.writes import Statement, insert_sql, run_together

# Rows per INSERT: well under the bound parameters SQLite (32,766) and PostgreSQL (65,535) accept.
BATCH_ROWS = 2000
RETENTION = timedelta(days=30)
_DATA = Event._meta.get_field("data")


@dataclass(frozen=True)
class NewEvent:
    """What changed: the event's type, the object in the native API's shape, and its id."""

    type: str
    data: dict
    object_id: str = ""
    previous_status: str = ""


def actor_of(*, actor_user=None, actor_key=None) -> tuple[str, str]:
    """(actor type, name): the API key's prefix when a key acted, else the user's name, else the system."""
    if actor_key is not None:
        return Actor.API_KEY, actor_key.display_prefix
    if actor_user is not None:
        return Actor.USER, actor_user.get_username()
    return Actor.SYSTEM, ""


def event_record(
    *, project_id, type: str, data: dict, object_id="", previous_status: str = "", actor_user=None, actor_key=None
) -> Event:
    """Record one event of the project in the current transaction (one INSERT when it has no endpoints)."""
    [event] = events_record_many(
        project_id=project_id,
        events=[NewEvent(type=type, data=data, object_id=str(object_id), previous_status=previous_status)],
        actor_user=actor_user,
        actor_key=actor_key,
    )
    return event


def events_record_many(*, project_id, events: list[NewEvent], actor_user=None, actor_key=None) -> list[Event]:
    """Record a batch of events of one project: one INSERT per 2,000, plus the deliveries when it has endpoints."""
    if not events:
        return []
    rows = events_rows(project_id=project_id, events=events, actor_user=actor_user, actor_key=actor_key)
    # Without a savepoint: inside the caller's transaction this costs no statement of its own.
    with transaction.atomic(savepoint=False):
        has_endpoints = False
        for start in range(0, len(rows), BATCH_ROWS):
            sql, params = events_insert_sql(rows[start : start + BATCH_ROWS])
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                has_endpoints |= any(flag for (flag,) in cursor.fetchall())
        events_inserted(rows, has_endpoints=has_endpoints)
    return rows


def events_record_with(*, writes: list[Statement], project_id, events: list[NewEvent], actor_user=None,
                       actor_key=None) -> list[Event]:  # fmt: skip
    """Run a change's `writes` (INSERTs and UPDATEs) and record its `events` (at most BATCH_ROWS) with them:
    one statement on PostgreSQL (`salesledger.writes.run_together`), so the change and its events are
    written together, in the caller's transaction; then the deliveries when the project has endpoints."""
    rows = events_rows(project_id=project_id, events=events, actor_user=actor_user, actor_key=actor_key)
    flags = run_together([*writes, events_insert_sql(rows)] if rows else writes)
    events_inserted(rows, has_endpoints=any(flag for (flag,) in flags) if rows else False)
    return rows


def events_record_if_inserted(*, insert: Statement, project_id, events: list[NewEvent], actor_user=None,
                              actor_key=None) -> bool:  # fmt: skip
    """Run `insert`, an INSERT that may insert nothing (`... ON CONFLICT DO NOTHING RETURNING ...`), and record
    its `events` (at most BATCH_ROWS) only when it inserted a row, then their deliveries when the project has
    endpoints; returns whether it inserted. One statement on PostgreSQL (the events' INSERT selects its rows
    only when `insert` returned one), two on SQLite, which has no data-modifying CTEs."""
    rows = events_rows(project_id=project_id, events=events, actor_user=actor_user, actor_key=actor_key)
    if connection.vendor == "postgresql":
        flags = run_together([insert, events_insert_sql(rows, only_if="write_0")])  # `insert` is write_0
    elif run_together([insert]):
        flags = run_together([events_insert_sql(rows)])
    else:
        flags = []
    if not flags:
        return False
    events_inserted(rows, has_endpoints=any(flag for (flag,) in flags))
    return True


def events_rows(*, project_id, events: list[NewEvent], actor_user=None, actor_key=None) -> list[Event]:
    """The rows (not yet saved) recording `events` of the project, by this actor, in this request."""
    actor_type, actor = actor_of(actor_user=actor_user, actor_key=actor_key)
    now = timezone.now()
    request_id = logs.current_request_id()
    return [
        Event(
            id=uuid.uuid4(),
            project_id=project_id,
            type=new.type,
            created=now,
            actor_type=actor_type,
            actor=actor,
            request_id=request_id,
            object_id=new.object_id,
            data=new.data,
            previous_status=new.previous_status,
        )
        for new in events
    ]


def events_record_select(*, project_id, select: str, params: list, actor_user=None, actor_key=None) -> None:
    """Record the events of one project that the SQL `select` yields, one per row of (type, object_id, data
    jsonb, previous_status), in one INSERT ... SELECT, plus the deliveries when it has endpoints: for a
    batch whose objects the database builds from the rows just written (PostgreSQL only)."""
    actor_type, actor = actor_of(actor_user=actor_user, actor_key=actor_key)
    now = timezone.now()
    table = connection.ops.quote_name(Event._meta.db_table)
    endpoints = connection.ops.quote_name(WebhookEndpoint._meta.db_table)
    # The events come back (for their deliveries) only when the project has an enabled endpoint.
    sql = (
        f"WITH inserted AS (INSERT INTO {table} (id, project_id, type, created, actor_type, actor, request_id, "
        f"object_id, data, previous_status) SELECT gen_random_uuid(), %s, event.type, %s, %s, %s, %s, "
        f"event.object_id, event.data, event.previous_status "
        f"FROM ({select}) AS event (type, object_id, data, previous_status) RETURNING id, type) "
        f"SELECT id, type FROM inserted "
        f"WHERE EXISTS (SELECT 1 FROM {endpoints} WHERE project_id = %s AND enabled)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [project_id, now, actor_type, actor, logs.current_request_id(), *params, project_id])
        rows = cursor.fetchall()
    if rows:
        events = [Event(id=event_id, project_id=project_id, type=type) for event_id, type in rows]
        webhooks.deliveries_create(project_id=project_id, events=events, now=now)


def events_insert_sql(rows: list[Event], *, only_if: str = "") -> Statement:
    """The INSERT of `rows` (at most BATCH_ROWS, of one project), for a service to send with the change
    they record (`salesledger.writes.run_together`, as its last statement); it returns a row per event
    telling whether the project has an enabled webhook endpoint, to pass to `events_inserted`. `only_if`
    (PostgreSQL): a CTE of the same statement; the rows are inserted only when it returned a row."""
    fields = Event._meta.concrete_fields
    table = connection.ops.quote_name(Event._meta.db_table)
    endpoints = connection.ops.quote_name(WebhookEndpoint._meta.db_table)
    returning = f"EXISTS (SELECT 1 FROM {endpoints} WHERE project_id = {table}.project_id AND enabled)"
    where = f"EXISTS (SELECT 1 FROM {only_if})" if only_if else ""
    if connection.vendor == "postgresql" and len(rows) > 1:
        # Many rows as one JSON document (`salesledger.bulk`); `data` encoded as its field encodes it.
        names = [f.attname for f in fields]
        columns, values = json_recordset(Event, names)
        params = [json.dumps([{name: getattr(row, name) for name in names} for row in rows], cls=_DATA.encoder)]
        values += f" WHERE {where}" if where else ""
        return f"INSERT INTO {table} ({columns}) {values} RETURNING {returning}", params
    values = [{f.attname: getattr(row, f.attname) for f in fields} for row in rows]
    return insert_sql(Event, values, returning=returning, where=where)


def events_inserted(rows: list[Event], *, has_endpoints: bool) -> None:
    """After the INSERT of `rows`: their webhook deliveries (same transaction) when the project has endpoints."""
    if rows and has_endpoints:
        webhooks.deliveries_create(project_id=rows[0].project_id, events=rows, now=rows[0].created)


def events_purge(*, before) -> int:
    """Delete the events created before `before` (their deliveries and attempts with them); returns how many."""
    deleted, per_model = Event.objects.filter(created__lt=before).delete()
    return per_model.get(Event._meta.label, 0)
