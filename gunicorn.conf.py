"""gunicorn's settings, read from the working directory by `gunicorn salesledger.wsgi`.

The request limits are set on purpose (see the README's production section): gunicorn refuses what
passes them itself, in plain HTML, before Django sees the request.
"""

import gc
import os
from pathlib import Path

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# A request that runs longer is killed (gunicorn answers 500); uploads are bounded well under it.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Each worker is replaced after this many requests (with jitter, so never all at once).
max_requests = 10_000
max_requests_jitter = 1_000
# The app is imported once, in the master: a worker that dies (killed, out of memory, recycled) is
# replaced by a fork in milliseconds instead of a fresh import of Django. Deploy by restarting gunicorn.
preload_app = True
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl) that every
# gunicorn of that user would share; we manage gunicorn with signals, so it is off.
control_socket_disable = True
# The request line (method, path and query): gunicorn's maximum, for long filter queries. Past it: 414.
limit_request_line = 8190
# Header count and the size of one header line. Past them: 431 and 400.
limit_request_fields = 100
limit_request_field_size = 8190

# /metrics starts from zero: the folder may hold the values of a previous run's workers. Done when
# gunicorn reads this file, before the (preloaded) app creates its own files there.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    _metrics.mkdir(parents=True, exist_ok=True)
    for _values in _metrics.glob("*.db"):
        _values.unlink()


def pre_fork(server, worker):
    """The preloaded app's objects (about 100,000: Django, DRF, the project's modules) leave the cyclic
    collector's care before each fork. They live as long as the process and hold no garbage; walked by
    each worker's full collections, they made every one of them a pause of 100 ms of CPU or more (the
    first also copying the master's pages it touched), the long tail of fast reads such as `GET /sells`."""
    gc.freeze()


def child_exit(server, worker):
    """A dead worker's gauges leave /metrics (its counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """A worker that stops (stopped, recycled, or killed by its timeout) writes its waiting request log rows."""
    from apikeys import request_log

    request_log.stop()
