"""A cap on heavy requests (uploads) running at once on one machine, so other requests keep free workers.

Each of `HEAVY_REQUESTS` slots is an exclusive `flock` on a file of `HEAVY_REQUEST_LOCK_DIR`: every
worker process on the machine sees the same slots, and a worker that dies (killed by gunicorn's
timeout, kill -9) lets go of its slot with its file descriptors. A request that finds no free slot is
refused at once, never queued behind the others.
"""

import contextlib
import fcntl
import os
from pathlib import Path

from django.conf import settings

HEAVY_REQUESTS = settings.HEAVY_REQUESTS
# Seconds a refused client is told to wait: a slot is held for the length of one upload.
RETRY_AFTER_SECONDS = 5


class NoFreeSlot(Exception):
    pass


@contextlib.contextmanager
def heavy_slot():
    """Hold one of the machine's heavy-request slots for the block; raises NoFreeSlot when all are taken."""
    directory = Path(settings.HEAVY_REQUEST_LOCK_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    for slot in range(HEAVY_REQUESTS):
        descriptor = os.open(directory / f"slot-{slot}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        try:
            yield slot
        finally:
            os.close(descriptor)  # closing the only descriptor of the file releases its lock
        return
    raise NoFreeSlot()
