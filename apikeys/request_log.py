"""The request log off the request's path: each server process keeps its rows in memory and one thread
of its own writes them in one COPY (`request_log_write`; a multi-row INSERT on SQLite).

The thread writes every REQUEST_LOG_FLUSH_SECONDS (1 by default), at once when REQUEST_LOG_FLUSH_ROWS
rows are waiting, and the rest when the process exits: gunicorn's `worker_exit` hook (a worker
stopped, recycled after `max_requests`, or killed by its timeout, which gunicorn does with SIGABRT)
and `atexit` (any other server, commands). What a process killed outright (`kill -9`, the kernel's
out-of-memory killer) loses: the rows of its requests answered in the last REQUEST_LOG_FLUSH_SECONDS
before it died, and those of a write still running at that moment; nothing else. A batch the database
refuses (it is down) is logged as an error and dropped: a log row is never worth an answer's error.
With REQUEST_LOG_FLUSH_SECONDS=0 each row is written during its request, before its answer.
"""

import atexit
import logging
import os
import threading

from django.conf import settings
from django.db import DatabaseError, connection

from apikeys.services import request_log_write

logger = logging.getLogger(__name__)

_waiting: list[dict] = []
_waiting_lock = threading.Lock()  # guards `_waiting` and `_writer`
_writing = threading.Lock()  # held while a batch is written, so an exit's flush waits for the thread's
_full = threading.Event()
_stop = threading.Event()
_writer: threading.Thread | None = None


def record(**fields) -> None:
    """Log one API request (`RequestLog` fields): queued for the writer thread, or written now when
    REQUEST_LOG_FLUSH_SECONDS is 0."""
    if not settings.REQUEST_LOG_FLUSH_SECONDS:
        _write([fields])
        return
    global _writer
    with _waiting_lock:
        _waiting.append(fields)
        full = len(_waiting) >= settings.REQUEST_LOG_FLUSH_ROWS
        if _writer is None:
            interval = settings.REQUEST_LOG_FLUSH_SECONDS
            _writer = threading.Thread(target=_write_forever, args=[interval], name="request-log-writer", daemon=True)
            _writer.start()
    if full:
        _full.set()


def flush() -> None:
    """Write every waiting row now (the writer thread's work)."""
    with _writing:
        with _waiting_lock:
            rows = _waiting[:]
            _waiting.clear()
        if rows:
            _write(rows)


def stop() -> None:
    """Write every waiting row and end the writer thread, which closes its connection (at exit)."""
    global _writer
    with _waiting_lock:
        writer, _writer = _writer, None
    if writer is not None:
        _stop.set()
        _full.set()
        writer.join(timeout=30)
        _stop.clear()
    flush()


def _write(rows: list[dict]) -> None:
    try:
        request_log_write(rows)
    except DatabaseError:
        more = f" and of {len(rows) - 1} other requests" if len(rows) > 1 else ""
        logger.exception("Could not write the request log row of %s %s%s", rows[0]["method"], rows[0]["path"], more)


def _write_forever(interval: float) -> None:
    while not _stop.is_set():
        _full.wait(interval)
        _full.clear()
        try:
            connection.close_if_unusable_or_obsolete()  # this thread's own connection, as a request's
            flush()
        except Exception:  # the thread must outlive any one batch
            logger.exception("The request log writer failed")
    connection.close()


def _forget_in_child() -> None:
    """A forked process starts with no rows, no writer (threads do not survive a fork) and fresh locks."""
    global _writer, _waiting_lock, _writing, _full, _stop
    _waiting.clear()
    _writer = None
    _waiting_lock, _writing, _full, _stop = threading.Lock(), threading.Lock(), threading.Event(), threading.Event()


os.register_at_fork(after_in_child=_forget_in_child)
atexit.register(stop)
