"""Keys resolved moments ago, kept by each server process: a request with a key it knows skips the key
lookup (a PostgreSQL round trip, and its key, project and user read back into model instances).

Only with Redis. Redis holds one value, the key epoch: a random token, set anew each time a key, a
project or a user changes through the app (`changed`, once when the change is made and again when it
commits). An entry remembers the epoch it was read under, and how many connections the gate had opened to
Redis then. The command every API request sends to Redis anyway, its rate limit's (`limits.hit`), reads
the epoch too: a key taken from an entry whose epoch is no longer current, or read before the gate last
connected to Redis (a Redis restarted or failed over may hold an older epoch), is looked up again in
the same request (`apikeys.api.base.GateMixin.check_throttles`). So a revoked key is refused from the
first request after its revocation commits, in every process.

The epoch is read before the lookup that fills an entry, so an entry never holds data older than its
epoch: a miss (a key not seen in the last ENTRY_SECONDS, or since any change to any key, project or
user; and any key that does not resolve) costs one more Redis round trip. Without Redis, or while it is
unreachable, nothing is kept and every request looks its key up.

What it cannot see: a change made outside the app (SQL by hand), or one whose new epoch Redis did not
take (unreachable at that moment: an error in the log). ENTRY_SECONDS bounds both: an entry is used for
at most that long after its lookup.
"""

import time

from django.db import transaction

from apikeys import limits

ENTRY_SECONDS = 10
MAX_ENTRIES = 10_000

# hashed key -> (epoch, monotonic time stored, the key's, project's and user's field values)
_entries: dict[str, tuple[str, float, list[list]]] = {}


def get(hashed_key: str) -> tuple[str, list[list]] | None:
    """The epoch and values of a fresh entry for `hashed_key`, or None."""
    entry = _entries.get(hashed_key)
    if entry is None:
        return None
    epoch, stored, values = entry
    if time.monotonic() - stored > ENTRY_SECONDS:
        _entries.pop(hashed_key, None)
        return None
    return epoch, values


def put(hashed_key: str, epoch: str, values: list[list]) -> None:
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[hashed_key] = (epoch, time.monotonic(), values)


def forget(hashed_key: str) -> None:
    _entries.pop(hashed_key, None)


def current_epoch() -> str | None:
    """The epoch now, to store an entry under; None when no entry may be stored (no Redis, or Redis
    unreachable)."""
    epoch = limits.key_epoch()
    return None if epoch is None else f"{epoch}@{limits.connections_opened}"


def is_current(entry_epoch: str, key_epoch: str | None) -> bool:
    """Whether an entry stored under `entry_epoch` holds what the database holds, `key_epoch` being the
    epoch Redis answered now (None: Redis did not answer)."""
    return key_epoch is not None and entry_epoch == f"{key_epoch}@{limits.connections_opened}"


def _renew_epoch() -> None:
    _entries.clear()
    limits.key_epoch_renew()


def changed() -> None:
    """A key, project or user changed: no process uses what it read before. Renewed at once (this
    process, and readers of the change in its own transaction) and after the commit (a process that
    read the old rows meanwhile stored them under the first renewal's epoch)."""
    _renew_epoch()
    transaction.on_commit(_renew_epoch)


def changed_by_save(sender, instance=None, update_fields=None, **kwargs) -> None:
    """`post_save` and `post_delete` receiver for the key, project and user models. A save of nothing
    but the usage stamps (`last_used_at`, `last_login`) changes nothing the gate reads from an entry
    for longer than the stamp's resolution."""
    if update_fields is not None and set(update_fields) <= {"last_used_at", "last_login"}:
        return
    changed()
