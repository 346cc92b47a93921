"""Every write to projects and keys: creation, rotation, revocation, usage stamps."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apikeys import key_cache, keys
from apikeys.models import APIKey, IdempotencyKey, Project, RequestLog
from events.services import event_record
from salesledger.bulk import rows_insert
from salesledger.errors import Conflict, ServiceError

# The grace periods an owner may choose when rotating a key.
GRACE_PERIODS = {
    "none": timedelta(0),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
GRACE_CHOICES = [("none", "None: refuse the old key at once"), ("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days")]
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A stored answer is replayed for this long after the first request.
IDEMPOTENCY_TTL = timedelta(hours=24)
# A claim whose request has not finished after this long was left by a crashed worker (gunicorn kills
# a request after 30 s by default): the next request with the key takes it over.
IDEMPOTENCY_CLAIM_TIMEOUT = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the only moment its secret exists outside the client."""

    api_key: APIKey
    secret: str


def project_create(*, slug: str, name: str, owner, currency: str = "USD", time_zone: str = "UTC") -> Project:
    """Create a project owned by `owner`. Raises ValidationError for a bad slug, currency or zone."""
    project = Project(slug=slug, name=name, currency=currency.upper(), time_zone=time_zone)
    project.full_clean()
    with transaction.atomic():
        project.save()
        project.owners.add(owner)
    return project


def user_get_or_create(*, username: str, password: str | None = None, email: str = "", superuser: bool = False):
    """The user named `username`, created when missing; the password is set when given, and
    `superuser` makes the user staff and superuser (the demo owner, who also runs the admin).

    Raises ValidationError (on `username`) for a name the user model refuses (too long, bad characters).
    """
    User = get_user_model()
    try:
        User._meta.get_field(User.USERNAME_FIELD).run_validators(username)
    except ValidationError as error:
        raise ValidationError({"username": error.messages}) from error
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    elif created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if superuser and not (user.is_staff and user.is_superuser):
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return user


def api_key_create(*, project: Project, name: str, user, expires_at=None) -> IssuedKey:
    """Issue a new key for `project` acting as `user` (event `api_key.created`). The secret is never stored."""
    secret, prefix = keys.generate()
    with transaction.atomic(savepoint=False):
        api_key = APIKey.objects.create(
            project=project, name=name, user=user, prefix=prefix, hashed_key=keys.hash_key(secret),
            expires_at=expires_at,
        )  # fmt: skip
        _api_key_event(api_key, "api_key.created", actor_user=user)
    return IssuedKey(api_key=api_key, secret=secret)


def api_key_rotate(*, api_key: APIKey, grace: str = "none", user=None) -> IssuedKey:
    """Issue a replacement with the same name and settings; the old key works for `grace`, then not.

    Records `api_key.created` for the new key and `api_key.rotated` for the old one.
    Raises KeyError for an unknown grace period and ValueError for a key that is no longer usable.
    """
    grace_period = GRACE_PERIODS[grace]
    now = timezone.now()
    with transaction.atomic():
        old = APIKey.objects.select_for_update().get(pk=api_key.pk)
        if not old.is_usable(now) or old.replaced_by_id is not None:
            raise ValueError("Only an active key that has not been rotated yet can be rotated.")
        issued = api_key_create(project=old.project, name=old.name, user=user or old.user, expires_at=old.expires_at)
        old.replaced_by = issued.api_key
        if grace_period:
            old.expires_at = min(filter(None, [old.expires_at, now + grace_period]))
        else:
            old.revoked_at = now
        old.save(update_fields=["replaced_by", "expires_at", "revoked_at"])
        _api_key_event(old, "api_key.rotated", actor_user=user or old.user)
    api_key.refresh_from_db()
    return issued


def api_key_revoke(*, api_key: APIKey, user=None) -> APIKey:
    """Refuse the key from now on (event `api_key.revoked`, by `user`). Revoking a revoked key changes nothing."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        revoked = APIKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now)
        api_key.refresh_from_db()
        if revoked:
            key_cache.changed()  # an update() sends no post_save
            _api_key_event(api_key, "api_key.revoked", actor_user=user)
    return api_key


def _api_key_event(api_key: APIKey, type: str, *, actor_user) -> None:
    from apikeys.api.native import APIKeySerializer  # The native shape; the API module imports these services.

    event_record(
        project_id=api_key.project_id, type=type, data=APIKeySerializer(api_key).data, object_id=api_key.pk,
        actor_user=actor_user,
    )  # fmt: skip


def api_key_touch(*, api_key: APIKey, now) -> None:
    """Stamp `last_used_at`, at most once a minute per key, so requests don't all write."""
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


class IdempotencyKeyReused(ServiceError):
    status_code = 422
    code = "idempotency_key_reused"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency_key_in_flight"


def idempotency_claim(*, project: Project, key: str, method: str, path: str, fingerprint: str, now):
    """Phase 1 of a keyed request: claim `key`, or find the answer stored for it (one short transaction).

    Returns `(record, claimed)`: `claimed` is True when the caller now owns the key and must run the
    request in a transaction that starts with `idempotency_hold` and ends with `idempotency_complete`
    (or roll back and call `idempotency_release`); False when `record` holds the stored answer to
    replay. Raises IdempotencyKeyReused (422) when the key was used with another
    method, path or body, and IdempotencyKeyInFlight (409) while the first request still runs.
    The unique (project, key) row decides races between workers: one insert wins. An unfinished claim
    whose owner is gone (its worker crashed, so its transaction and row lock went with it) is taken
    over at once where the database can tell (`SKIP LOCKED`), else after IDEMPOTENCY_CLAIM_TIMEOUT.
    """
    fields = {"method": method, "path": path[:2000], "fingerprint": fingerprint}
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    project=project, key=key, claimed_at=now, expires_at=now + IDEMPOTENCY_TTL, **fields
                )
            return record, True
        except IntegrityError:
            record = IdempotencyKey.objects.filter(project=project, key=key).first()
        if record is None:
            continue  # Released between our insert and our read: try to claim it again.
        if record.expires_at <= now or _abandoned(record, now):
            taken = IdempotencyKey.objects.filter(
                Q(completed_at__isnull=True) | Q(expires_at__lte=now), pk=record.pk, claimed_at=record.claimed_at
            ).update(
                claimed_at=now, completed_at=None, expires_at=now + IDEMPOTENCY_TTL, status_code=None,
                content_type="", body=b"", **fields,
            )  # fmt: skip
            if taken:
                return IdempotencyKey.objects.get(pk=record.pk), True
            continue
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with other parameters (method, path or body); "
                "send a new key for a new request."
            )
        if record.completed_at is None:
            break
        return record, False
    raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still being processed; retry later.")


def _abandoned(record: IdempotencyKey, now) -> bool:
    """An unfinished claim that no running request holds: its owner's row lock is gone (or, where the
    database cannot skip locked rows, the claim is older than any request may run)."""
    if record.completed_at is not None:
        return False
    if record.claimed_at <= now - IDEMPOTENCY_CLAIM_TIMEOUT:
        return True
    if not connection.features.has_select_for_update_skip_locked:
        return False
    with transaction.atomic():
        return IdempotencyKey.objects.select_for_update(skip_locked=True).filter(pk=record.pk).exists()


def idempotency_hold(*, record: IdempotencyKey) -> None:
    """Phase 2 of a keyed request, first statement of the request's transaction: lock the claim, so
    that other workers see it running for as long as the transaction lasts (a worker that dies takes
    its lock with it). Raises IdempotencyKeyInFlight (409) when another request took the claim over.
    """
    held = (
        IdempotencyKey.objects.select_for_update(skip_locked=True)
        .filter(pk=record.pk, claimed_at=record.claimed_at, completed_at__isnull=True)
        .exists()
    )
    if not held:
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still being processed; retry later.")


def idempotency_complete(*, record: IdempotencyKey, status_code: int, content_type: str, body: bytes, now) -> None:
    """Store the answer of the request holding `record`, in that request's transaction: the answer
    commits with the request's writes or not at all, so a retry after any crash replays or runs once."""
    IdempotencyKey.objects.filter(pk=record.pk, claimed_at=record.claimed_at).update(
        completed_at=now, status_code=status_code, content_type=content_type, body=body
    )


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Drop an unfinished claim (the request failed and wrote nothing), so a retry with the key runs."""
    IdempotencyKey.objects.filter(pk=record.pk, claimed_at=record.claimed_at, completed_at__isnull=True).delete()


def idempotency_keys_purge(*, now) -> int:
    """Delete the records whose 24 hours are over; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now).delete()
    return deleted


# The request log's columns, in the order `request_log_write` sends them, with the defaults of those a row may omit.
REQUEST_LOG_COLUMNS = [
    "created_at", "project_id", "api_key_id", "method", "path", "status_code", "duration_ms", "request_id",
    "client_address", "error",
]  # fmt: skip
REQUEST_LOG_DEFAULTS = {"project_id": None, "api_key_id": None, "request_id": "", "client_address": None, "error": ""}


def request_log_write(entries: list[dict]) -> None:
    """Record API requests (`RequestLog` fields, one dict each): one COPY on PostgreSQL (the writer
    thread's batch; a tenth of the CPU of the ORM's INSERT, with no model instance per row), else one
    multi-row INSERT.

    A NUL in the text (a path with %00) is stored as `%00`: PostgreSQL text cannot hold U+0000, and a
    failed insert here would lose every row of the batch. A row whose key or project was deleted since
    its request (the log may be written a second later, apikeys/request_log.py) would have been
    deleted with it: it is left out. Any other refusal is raised.
    """
    rows = [_request_log_row(fields) for fields in entries]
    try:
        _request_log_insert(rows)
    except IntegrityError:
        key_ids, project_ids = {row["api_key_id"] for row in rows}, {row["project_id"] for row in rows}
        existing = {None}  # key ids (UUIDs) and project ids (integers) that still exist
        existing.update(APIKey.objects.filter(pk__in=key_ids).values_list("pk", flat=True))
        existing.update(Project.objects.filter(pk__in=project_ids).values_list("pk", flat=True))
        kept = [row for row in rows if row["api_key_id"] in existing and row["project_id"] in existing]
        if len(kept) == len(rows):
            raise
        _request_log_insert(kept)


def _request_log_row(fields: dict) -> dict:
    """`fields` by column (a key or project given as its object becomes its id), text without NULs."""
    row = {"created_at": timezone.now(), **REQUEST_LOG_DEFAULTS}
    for name, value in fields.items():
        if name in ("project", "api_key"):
            name, value = f"{name}_id", value.pk if value is not None else None
        elif name in ("method", "path", "error"):
            value = value.replace("\x00", "%00")
        if name not in REQUEST_LOG_COLUMNS:
            raise TypeError(f"The request log has no column {name!r}.")
        row[name] = value
    return row


def _request_log_insert(rows: list[dict]) -> None:
    # Text COPY: the client's address is text here, which binary COPY would need as an `ipaddress` object.
    values = [tuple(row[name] for name in REQUEST_LOG_COLUMNS) for row in rows]
    rows_insert(RequestLog, REQUEST_LOG_COLUMNS, values, binary=False)


def request_log_purge(*, before) -> int:
    """Delete request log entries older than `before`; returns how many."""
    deleted, _ = RequestLog.objects.filter(created_at__lt=before).delete()
    return deleted
