"""Our Prometheus metrics (django-prometheus adds Django's own), served at /metrics.

Under gunicorn, set PROMETHEUS_MULTIPROC_DIR (an empty folder) for the master and its workers:
every worker then writes its values there and /metrics adds them up (`gunicorn.conf.py`
empties the folder at start and retires a dead worker's files).
"""

from django.db import transaction
from prometheus_client import Counter, Histogram

API_REQUESTS = Counter(
    "salesledger_api_requests_total",
    "API requests answered, by endpoint (URL name), dialect, method and status.",
    ["endpoint", "dialect", "method", "status"],
)
API_LATENCY = Histogram(
    "salesledger_api_request_duration_seconds",
    "Time to answer an API request, by endpoint and dialect.",
    ["endpoint", "dialect"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
SALES_WRITTEN = Counter("salesledger_sales_written_total", "Ledger sales committed, by channel.", ["channel"])
RATE_LIMIT_REFUSALS = Counter(
    "salesledger_rate_limit_refusals_total", "429 answers (key over its limit, or too many failed logins).", ["dialect"]
)
IDEMPOTENT_REPLAYS = Counter(
    "salesledger_idempotency_replays_total", "Writes answered from a stored Idempotency-Key answer.", ["dialect"]
)

WEBHOOK_ATTEMPTS = Counter(
    "salesledger_webhook_attempts_total",
    "Webhook delivery attempts, by outcome: delivered, retry (failed, tried again later), failed (given up).",
    ["outcome"],
)


def sales_written(*, channel: str, count: int) -> None:
    """Count `count` new sales of `channel` when (if) the transaction writing them commits."""
    if count:
        transaction.on_commit(lambda: SALES_WRITTEN.labels(channel=channel).inc(count))


def webhook_attempt_counted(*, outcome: str) -> None:
    """Count one delivery attempt when (if) the transaction recording it commits."""
    transaction.on_commit(lambda: WEBHOOK_ATTEMPTS.labels(outcome=outcome).inc())


def api_request_observed(*, endpoint: str, dialect: str, method: str, status: int, seconds: float, replayed: bool):
    method = method if method in HTTP_METHODS else "other"  # a label per made-up method would never end
    API_REQUESTS.labels(endpoint=endpoint, dialect=dialect, method=method, status=str(status)).inc()
    API_LATENCY.labels(endpoint=endpoint, dialect=dialect).observe(seconds)
    if status == 429:
        RATE_LIMIT_REFUSALS.labels(dialect=dialect).inc()
    if replayed:
        IDEMPOTENT_REPLAYS.labels(dialect=dialect).inc()
