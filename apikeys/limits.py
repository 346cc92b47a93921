"""Fixed-window counters that every server process shares: rate limits per key, failed logins per address.

With `REDIS_URL` set they live in Redis (atomic INCR). Otherwise each bucket is one database row
bumped by one atomic upsert: Django's database cache would do the same job with a non-atomic
get-then-set (lost updates between workers) and about six queries per hit.

Redis unreachable degrades, never fails: the counters fall back to the database rows for
REDIS_RETRY_SECONDS (one warning per process each time), then Redis is tried again, so limits keep
holding through an outage and go back to Redis by themselves. The two stores count apart: a window
that spans the switch starts again from zero in the other store.
"""

import functools
import hashlib
import ipaddress
import logging
import math
import os
import secrets
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from rest_framework.throttling import BaseThrottle

from apikeys.models import RateCounter
from salesledger.db import execute_prepared

logger = logging.getLogger(__name__)
RATE_WINDOW_SECONDS = 60
# After Redis fails, how long the counters stay in the database before Redis is tried again.
REDIS_RETRY_SECONDS = 10
# A key-guessing client gets 429 instead of 401 after this many failures per minute from its address:
# per (address, prefix) for a key whose prefix exists, so guessing one project's key from a shared
# address (a NAT, an office) never locks another project's keys out; per address, with a much larger
# cap, for every other failure (unknown prefixes, malformed keys).
FAILED_AUTH_LIMIT = settings.FAILED_AUTH_LIMIT
FAILED_AUTH_UNKNOWN_PREFIX_LIMIT = settings.FAILED_AUTH_UNKNOWN_PREFIX_LIMIT
FAILED_AUTH_WINDOW_SECONDS = 60
# Failed logins to the admin and the owner pages, per client address.
FAILED_LOGIN_LIMIT = 10
FAILED_LOGIN_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Window:
    """The state of one bucket after a hit."""

    hits: int
    limit: int
    reset: int  # seconds until the window ends and the count starts again

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.hits)

    @property
    def exceeded(self) -> bool:
        return self.hits > self.limit


def client_address(request) -> str | None:
    """The client's IP: REMOTE_ADDR, or the X-Forwarded-For entry the `NUM_PROXIES` trusted proxies added.
    Worked out once per request (the gate's limits and the request log both ask)."""
    http_request = getattr(request, "_request", request)  # DRF's request wraps Django's
    if "client_address" not in http_request.__dict__:
        try:
            address = str(ipaddress.ip_address(BaseThrottle().get_ident(http_request)))
        except ValueError:
            address = None
        http_request.client_address = address
    return http_request.client_address


def _period(seconds: int, now: float) -> tuple[int, int]:
    period = int(now // seconds)
    # Rounded up, so a client that waits `Retry-After` seconds is never a moment early.
    return period, max(1, math.ceil((period + 1) * seconds - now))


def reset_in(seconds: int) -> int:
    """Seconds until the current window of length `seconds` ends."""
    return _period(seconds, time.time())[1]


_redis_retry_at = 0.0
# The key epoch (apikeys/key_cache.py), a cache key: read with every hit, set anew by every change to a key.
KEY_EPOCH = "apikeys-epoch"


def _redis():
    """The Redis cache, unless there is none or it failed less than REDIS_RETRY_SECONDS ago."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache) or time.time() < _redis_retry_at:
        return None
    return backend


def _redis_failed(error: RedisError) -> None:
    global _redis_retry_at
    _redis_retry_at = time.time() + REDIS_RETRY_SECONDS
    logger.warning("Redis unreachable (%s): rate limits count in the database for %ds.", error, REDIS_RETRY_SECONDS)


@functools.lru_cache(maxsize=8)
def _redis_client(cache_client) -> redis.Redis:
    """The redis-py client of a Django Redis cache, built once: Django's RedisCache has no pipeline of its
    own, and its `get_client` builds a new client at every call, which costs more CPU than the round trip."""
    return cache_client.get_client(write=True)


def _key_epoch_lua(index: int) -> str:
    """Lua reading the key epoch (KEYS[index]) into `epoch`, set to ARGV[index] when missing (Redis
    restarted or flushed), so that it is always there to compare; Redis runs a script whole, so two
    processes that find it missing agree on one."""
    return f"""
local epoch = redis.call('GET', KEYS[{index}])
if not epoch then
    epoch = ARGV[{index}]
    redis.call('SET', KEYS[{index}], epoch)
end
"""


# INCR is atomic by itself; the script only saves the round trips and the client's pipeline machinery.
_HIT_SCRIPT = f"""
local hits = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
{_key_epoch_lua(2)}
local peeked = 0
if KEYS[3] then peeked = tonumber(redis.call('GET', KEYS[3])) or 0 end
return {{hits, peeked, epoch}}
"""
_KEY_EPOCH_SCRIPT = f"{_key_epoch_lua(1)}\nreturn epoch"


_held = threading.local()
# How many connections the gate has opened to Redis in this process. A Redis that restarted or failed over
# may hold an older key epoch (restored from its snapshot, or a replica's that missed the last renewal):
# the key cache uses no entry filled before the latest connection (apikeys/key_cache.py).
connections_opened = 0


class _HeldConnection:
    """A thread's own connection to the cache's Redis, built from its pool's settings."""

    def __init__(self, pool):
        self.pool, self.pid = pool, os.getpid()
        self.connection = pool.connection_class(**pool.connection_kwargs)
        self.connection.register_connect_callback(self.connected)

    def connected(self, connection) -> None:
        global connections_opened
        connections_opened += 1


def _run_script(backend: RedisCache, script: str, keys: list, args: list):
    """Run `script` as one Redis command (EVALSHA; loaded again after a restart of Redis) on this thread's
    own connection: the pool's checkout and return and the client's command machinery cost as much CPU as
    the round trip itself. A connection that fails reconnects at its next command (the caller falls back
    to the database meanwhile), one that Redis closed while idle at once."""
    pool = _redis_client(backend._cache).connection_pool
    held = getattr(_held, "connection", None)
    if held is None or held.pool is not pool or held.pid != os.getpid():  # another Redis, or a forked child
        held = _held.connection = _HeldConnection(pool)
    connection = held.connection
    try:
        stale = connection.can_read()  # an answer left unread, or closed by Redis (a restart, an idle timeout)
    except (RedisConnectionError, OSError):
        stale = True
    if stale:
        connection.disconnect()  # the command below connects afresh, as the pool's checkout would
    sha = _script_sha(script)
    connection.send_command("EVALSHA", sha, len(keys), *keys, *args)
    try:
        return connection.read_response()
    except NoScriptError:
        connection.send_command("SCRIPT", "LOAD", script)
        connection.read_response()
        connection.send_command("EVALSHA", sha, len(keys), *keys, *args)
        return connection.read_response()


@functools.cache
def _script_sha(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()


def key_epoch() -> str | None:
    """The key epoch (set now when Redis has none); None without Redis or while it is unreachable."""
    backend = _redis()
    if backend is None:
        return None
    try:
        epoch = _run_script(
            backend, _KEY_EPOCH_SCRIPT, [backend.make_and_validate_key(KEY_EPOCH)], [secrets.token_hex(8)]
        )
    except RedisError as error:
        _redis_failed(error)
        return None
    return epoch.decode()


def key_epoch_renew() -> None:
    """Set a new key epoch. Tried even while this process's counters fall back to the database (a change
    must reach the processes that still reach Redis); an error in the log when Redis does not take it."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return
    try:
        _redis_client(backend._cache).set(backend.make_and_validate_key(KEY_EPOCH), secrets.token_hex(8))
    except RedisError as error:
        logger.error("Redis did not take the new key epoch (%s): processes may use keys as they read them "
                     "for up to their cache's 10 seconds.", error)  # fmt: skip


def _redis_hit(backend: RedisCache, name: str, ttl: int, peek_name: str | None) -> tuple[int, int, str]:
    """One command: count a hit on `name`, let it expire `ttl` seconds after its last hit (its window is
    over by then), read `peek_name` and the key epoch.

    The keys are the cache's own (`make_and_validate_key`), so `peek()` reads them through the cache API;
    the cache stores integers as plain numbers, which INCR counts."""
    keys = [backend.make_and_validate_key(name), backend.make_and_validate_key(KEY_EPOCH)]
    if peek_name:
        keys.append(backend.make_and_validate_key(peek_name))
    hits, peeked, epoch = _run_script(backend, _HIT_SCRIPT, keys, [ttl, secrets.token_hex(8)])
    return hits, peeked, epoch.decode()


class Hit(NamedTuple):
    window: Window
    peeked: int  # the peeked bucket's count (0 when absent)
    key_epoch: str | None  # the key epoch read with the hit; None when it was counted without Redis


_UPSERT = """
INSERT INTO {table} (bucket, period, hits) VALUES (%s, %s, 1)
ON CONFLICT (bucket) DO UPDATE SET
    hits = CASE WHEN {table}.period = excluded.period THEN {table}.hits + 1 ELSE 1 END,
    period = excluded.period
RETURNING hits, (SELECT other.hits FROM {table} other WHERE other.bucket = %s AND other.period = %s)
"""


def hit(bucket: str, *, limit: int, seconds: int, peek: str | None = None, peek_seconds: int = 60) -> Hit:
    """Count one hit on `bucket`; also read the current count of `peek`, and the key epoch, in the same
    round trip."""
    now = time.time()
    period, reset = _period(seconds, now)
    peek_period, _ = _period(peek_seconds, now)
    redis = _redis()
    if redis is not None:
        try:
            hits, peeked, epoch = _redis_hit(
                redis, f"rate:{bucket}:{period}", seconds + 1, peek and f"rate:{peek}:{peek_period}"
            )
            return Hit(Window(hits, limit, reset), peeked, epoch)
        except RedisError as error:
            _redis_failed(error)
    with connection.cursor() as cursor:
        sql = _UPSERT.format(table=RateCounter._meta.db_table)
        execute_prepared(cursor, "apikeys_rate_counter_hit", sql, [bucket, period, peek, peek_period])
        hits, peeked = cursor.fetchone()
    return Hit(Window(hits, limit, reset), peeked or 0, None)


def peek(bucket: str, *, seconds: int) -> int:
    """The current count of `bucket` without counting a hit."""
    period, _ = _period(seconds, time.time())
    redis = _redis()
    if redis is not None:
        try:
            return redis.get(f"rate:{bucket}:{period}", 0)
        except RedisError as error:
            _redis_failed(error)
    row = RateCounter.objects.filter(bucket=bucket, period=period).values_list("hits", flat=True).first()
    return row or 0


def key_bucket(api_key) -> str:
    return f"key:{api_key.pk}"


def failed_auth_bucket(address: str | None, prefix: str | None = None) -> str:
    """The failures from `address` at the existing key prefix `prefix`, or at no known prefix."""
    return f"auth-failed:{address}/{prefix}" if prefix else f"auth-failed:{address}"


def failed_auth_limit(prefix: str | None) -> int:
    return FAILED_AUTH_LIMIT if prefix else FAILED_AUTH_UNKNOWN_PREFIX_LIMIT


def failed_login_bucket(address: str | None) -> str:
    return f"login-failed:{address}"


# Window length of each kind of bucket, to tell finished windows apart.
WINDOW_SECONDS_BY_PREFIX = {
    "key:": RATE_WINDOW_SECONDS,
    "auth-failed:": FAILED_AUTH_WINDOW_SECONDS,
    "login-failed:": FAILED_LOGIN_WINDOW_SECONDS,
}


def finished_windows_purge() -> int:
    """Delete database counters whose window has ended (addresses that failed once stay no longer)."""
    now = time.time()
    deleted = 0
    for prefix, seconds in WINDOW_SECONDS_BY_PREFIX.items():
        count, _ = RateCounter.objects.filter(bucket__startswith=prefix, period__lt=_period(seconds, now)[0]).delete()
        deleted += count
    return deleted
