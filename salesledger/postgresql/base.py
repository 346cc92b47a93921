"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is sound.

CONN_HEALTH_CHECKS makes Django check a kept connection before each request uses it; Django's check is
a `SELECT 1`, one round trip per request. An idle connection has nothing to read: when PostgreSQL ends
it (a restart, a failover, `pg_terminate_backend`) the server sends its goodbye (FATAL 57P01) and
closes the socket, which the kernel then reports readable at once. So the socket is polled without
waiting, and only a socket with something to read, or a connection not idle, goes to Django's
`SELECT 1` (which reads the goodbye, fails, and has the connection replaced). What neither check can
see is a server gone without closing its sockets (a host powered off, a cable cut): the kernel
learns that only when a send times out, after the check either way.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if (
            connection is None
            or self.errors_occurred  # after an error, a real query says whether the session is sound
            or connection.pgconn.status != pq.ConnStatus.OK
            or connection.info.transaction_status != pq.TransactionStatus.IDLE
        ):
            return super().is_usable()
        poller = select.poll()
        poller.register(connection.pgconn.socket, select.POLLIN)
        return not poller.poll(0) or super().is_usable()
