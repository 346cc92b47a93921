"""Real races for PostgreSQL tests: N threads, each with its own connection, released together; a held claim."""

import contextlib
import threading

from django.db import connection, transaction
from django.utils import timezone

from apikeys.models import IdempotencyKey
from apikeys.services import IDEMPOTENCY_TTL


def race(count: int, work) -> list:
    """Run `work(index)` in `count` threads started at the same instant; return results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the caller inspects every outcome
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@contextlib.contextmanager
def held_claim(*, project, key: str, like):
    """An idempotency claim for `key` as a request that still runs holds it: committed, unfinished, and
    (where the database has row locks) locked by another connection until the block ends. `like` is a
    stored record whose fingerprint, method and path the claim copies."""
    now = timezone.now()
    record = IdempotencyKey.objects.create(
        project=project, key=key, fingerprint=like.fingerprint, method=like.method, path=like.path,
        claimed_at=now, expires_at=now + IDEMPOTENCY_TTL,
    )  # fmt: skip
    if not connection.features.has_select_for_update_skip_locked:
        yield record  # No row locks: a recent claim counts as running.
        return
    locked, done = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                IdempotencyKey.objects.select_for_update().get(pk=record.pk)
                locked.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(timeout=10)
    try:
        yield record
    finally:
        done.set()
        holder.join()
