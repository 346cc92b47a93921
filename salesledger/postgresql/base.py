"""Django's PostgreSQL backend, less work a request: a health check that sends nothing while the connection is
sound, a transaction's BEGIN sent with its first statement, and prepared statements for the hottest reads.

The health check. CONN_HEALTH_CHECKS makes Django check a kept connection before each request uses it;
Django's check is a `SELECT 1`, one round trip per request. An idle connection has nothing to read: when
PostgreSQL ends it (a restart, a failover, `pg_terminate_backend`) the server sends its goodbye (FATAL
57P01) and closes the socket, which the kernel then reports readable at once. So the socket is polled
without waiting, and only a socket with something to read, or a connection not idle, goes to Django's
`SELECT 1` (which reads the goodbye, fails, and has the connection replaced). What neither check can
see is a server gone without closing its sockets (a host powered off, a cable cut): the kernel learns
that only when a send times out, after the check either way.

The BEGIN. Outside autocommit (a `transaction.atomic` block), psycopg opens the transaction with a
`BEGIN` of its own, one round trip, before the block's first statement. Django's cursors bind
parameters on the client and send a statement as one query string (PostgreSQL's simple protocol), which
may hold several statements: `Cursor` sends `BEGIN; <statement>` as one string instead, and keeps the
statement's result. PostgreSQL runs them in order as one message: the statement runs inside the
transaction, exactly as after a separate BEGIN; if the string does not parse, neither runs and the
connection stays outside any transaction (psycopg then has nothing to roll back, and its next
statement opens the transaction again). `executemany`, `COPY` and named cursors keep psycopg's own BEGIN.

The prepared statements. Django sends every statement as text, which PostgreSQL parses and plans each
time: for the key lookup every API request makes (three tables joined) planning takes five times
as long as running it. `execute_prepared` PREPAREs such a statement once per connection and EXECUTEs
it after that, with its plan kept by the session. A prepared statement outlives a rolled-back
transaction and ends with its session; it is PREPAREd on the connection itself, not through Django's
cursor, so it is not one of the request's statements (as Django's own session settings are not).
Once a transaction is open (or outside one), its runs are bound: the values go to the server apart from
the statement (PostgreSQL's extended protocol), where an `EXECUTE name(...)` had them quoted into its text
here and parsed out of it there; quoting a sale's 60 values was a sixth of its CPU. A run that opens the
transaction is still written in, to carry the BEGIN. Django's query log still shows `EXECUTE name(...)`
with the values written in (composed only when it is read).

The split of a statement. Binding on the client, psycopg splits a statement's text at its placeholders,
and keeps the split of the latest statements, but only of those with at most 50 parameters: the hot
writes bind 50 to 80 (a sale's stock, movements, the sale and its events in one statement), and their
splitting again at every request cost about 6 % of a `sells` sale's CPU. `Cursor` keeps those too.
"""

import functools
import re
import select

from django.db.backends.postgresql import base
from psycopg import _queries, adapt, errors, generators, pq
from psycopg.adapt import PyFormat

IDLE = pq.TransactionStatus.IDLE


# psycopg's own split (its cache is for statements of at most MAX_CACHED_STATEMENT_PARAMS parameters); a cache
# of its own, so that these statements never push psycopg's out. The statements a process sends are a few
# hundred texts, each at most MAX_CACHED_STATEMENT_LENGTH bytes.
_split_many = functools.lru_cache(maxsize=128)(_queries._query2pg_client_nocache)


class _ClientQuery(_queries.PostgresClientQuery):
    """psycopg's client-side binding, whose split of a statement is kept whatever its number of parameters."""

    __slots__ = ()

    def convert(self, query, vars):
        if vars is None or len(vars) <= _queries.MAX_CACHED_STATEMENT_PARAMS or not isinstance(query, str | bytes):
            return super().convert(query, vars)
        query = self._ensure_bytes(query)
        if len(query) > _queries.MAX_CACHED_STATEMENT_LENGTH:
            return super().convert(query, vars)
        self.template, self._order, self._parts = _split_many(query, self._tx.encoding)
        self.dump(vars)


class PreparedCall(str):
    """`EXECUTE name(%s, ...)`: what Django's cursor wrappers, its query log and the tests see of a run of the
    prepared statement `name`, which `Cursor` sends bound (see `Cursor._execute_bound_gen`)."""

    def __new__(cls, name: str, count: int):
        call = super().__new__(cls, f"EXECUTE {name}({', '.join(['%s'] * count)})")
        call.name = name.encode()
        return call


class _BoundQuery:
    """What Django's query log reads of a bound call (`cursor._query.query`): the call with its values written
    in as psycopg would have sent it, composed only when read."""

    __slots__ = ("_call", "_params", "_tx")

    def __init__(self, call, params, tx):
        self._call, self._params, self._tx = call, params, tx

    @property
    def query(self) -> bytes:
        written = _ClientQuery(self._tx)
        written.convert(self._call, self._params)
        return written.query


class Cursor(base.Cursor):
    """Django's client-side binding cursor, whose statement that opens a transaction carries the BEGIN, and
    whose statements' splits are kept (`_ClientQuery`)."""

    _query_cls = _ClientQuery

    def _execute_gen(self, query, params=None, *, prepare=None, binary=None):
        conn = self._conn
        if (
            type(query) is PreparedCall
            and not (conn._pipeline or binary or params is None)
            and (conn.autocommit or self._pgconn.transaction_status != IDLE)
        ):
            return (yield from self._execute_bound_gen(query, params))
        if conn.autocommit or conn._pipeline or binary or self._pgconn.transaction_status != IDLE:
            return (yield from super()._execute_gen(query, params, prepare=prepare, binary=binary))
        # psycopg's own steps of `execute` (its `_start_query`, less the connection's BEGIN).
        if self.closed:
            raise errors.InterfaceError("the cursor is closed")
        self._reset()
        self._tx = adapt.Transformer(self)
        self._query = statement = self._convert_query(query, params)
        if not statement.query.strip():  # nothing to carry the BEGIN
            return (yield from super()._execute_gen(query, params, prepare=prepare, binary=binary))
        self._pgconn.send_query(conn._get_tx_start_command() + b"; " + statement.query)
        results = yield from generators.execute(self._pgconn)
        self._check_results(results)
        self._set_results(results[1:])  # the BEGIN's own result is not the statement's
        self._last_query = query

    def _execute_bound_gen(self, call: PreparedCall, params):
        """Run the prepared statement `call.name` with `params` sent apart from it, as text (PostgreSQL's
        extended protocol): not quoted into a statement's text here nor parsed out of it by the server. The
        values are dumped by a transformer kept by the connection, which keeps the dumper of each type."""
        if self.closed:
            raise errors.InterfaceError("the cursor is closed")
        self._reset()
        self._tx = adapt.Transformer(self)  # loads this statement's rows
        conn = self._conn
        try:
            dumping = conn.salesledger_dumping
        except AttributeError:
            dumping = conn.salesledger_dumping = adapt.Transformer(conn)
        values = dumping.dump_sequence(params, [PyFormat.TEXT] * len(params))
        self._pgconn.send_query_prepared(call.name, values)
        self._query = _BoundQuery(call, params, self._tx)
        results = yield from generators.execute(self._pgconn)
        self._check_results(results)
        self._set_results(results)
        self._last_query = call


class DatabaseWrapper(base.DatabaseWrapper):
    def init_connection_state(self):
        super().init_connection_state()
        self.prepared_statements = set()  # the names PREPAREd in this session

    def execute_prepared(self, cursor, name: str, sql: str, params: list) -> None:
        """Run `sql` (Django's `%s` placeholders) with `params` on `cursor` as the session's prepared
        statement `name`, PREPAREd on first use."""
        if name not in self.prepared_statements:
            numbered = iter(range(1, len(params) + 1))
            self.connection.execute(f"PREPARE {name} AS " + re.sub("%s", lambda _: f"${next(numbered)}", sql))
            self.prepared_statements.add(name)
        cursor.execute(PreparedCall(name, len(params)), params)

    def get_connection_params(self):
        params = super().get_connection_params()
        if params["cursor_factory"] is base.Cursor:  # not with OPTIONS server_side_binding
            params["cursor_factory"] = Cursor
        return params

    def is_usable(self):
        connection = self.connection
        if (
            connection is None
            or self.errors_occurred  # after an error, a real query says whether the session is sound
            or connection.pgconn.status != pq.ConnStatus.OK
            or connection.info.transaction_status != IDLE
        ):
            return super().is_usable()
        poller = select.poll()
        poller.register(connection.pgconn.socket, select.POLLIN)
        return not poller.poll(0) or super().is_usable()
