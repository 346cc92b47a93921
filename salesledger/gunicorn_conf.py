"""gunicorn settings for production: `gunicorn -c python:salesledger.gunicorn_conf salesledger.wsgi`.

Every value can be changed with gunicorn's own flags or GUNICORN_CMD_ARGS; the README's Production
section explains each choice.
"""

import os
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers, two per core: a request holds its worker (and one database connection) throughout.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
# The 50 MB custobar upload is the longest request; past this the worker is killed and the request's
# transaction rolls back (nothing half-written). Bigger files go through `import_sales_rows`.
timeout = 30
graceful_timeout = 30
keepalive = 5
# The app is imported once, in the master: a worker that dies (killed, out of memory, recycled) is
# replaced by a fork in milliseconds instead of a fresh import of Django. Deploy by restarting gunicorn.
preload_app = True
# Recycle each worker after this many requests (with jitter, so they do not all restart at once).
max_requests = 10_000
max_requests_jitter = 1_000
# Request line and headers: gunicorn's defaults, stated. Bodies are limited by the app (413).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl) that every
# gunicorn of that user would share; we manage gunicorn with signals, so it is off.
control_socket_disable = True


# /metrics starts from zero: the folder may hold the values of a previous run's workers. Done when
# gunicorn reads this file, before the (preloaded) app creates its own files there.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    _metrics.mkdir(parents=True, exist_ok=True)
    for _values in _metrics.glob("*.db"):
        _values.unlink()


def child_exit(server, worker):
    """A dead worker's gauges leave /metrics (its counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
