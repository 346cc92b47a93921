"""Python's cyclic garbage collector paused while a bulk write builds its many objects.

An upload of 50,000 rows allocates millions of small objects (parsed rows, transactions, column values),
freed by reference counting as soon as they are done with; none of them are cycles. Their number alone
triggers full collections that walk them all again: about 30 % of the upload's Python time, for nothing.
"""

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused():
    """No cyclic garbage collection during the block. Blocks may nest and run in several threads at once:
    the collector runs again when the last one ends (if it ran before the first)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
