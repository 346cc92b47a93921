"""The benchmark's floor: the least a write endpoint of this server stack can do.

Everything every API write pays, and one INSERT: the middleware, the API key authentication, the
key's rate limit, the write's transaction and the request log (the path is under `/api/`, so it is
an API request like any other), then one INSERT into `bench_floor`, a table only the benchmark
creates (`bench/seed.py`), so no app owns a migration for it. Mounted only when
SALESLEDGER_BENCH_FLOOR=1, never in a normal deployment.
"""

from django.db import connection
from django.urls import re_path
from rest_framework.response import Response

from apikeys.api.base import DialectView

FLOOR_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_floor "
    "(id bigserial PRIMARY KEY, project_id bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
)


class FloorView(DialectView):
    schema = None  # not part of the public API

    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_floor (project_id) VALUES (%s) RETURNING id", [request.auth.project_id])
            (row_id,) = cursor.fetchone()
        return Response({"id": row_id}, status=201)


urlpatterns = [re_path(r"^api/bench/floor/?$", FloorView.as_view(), name="bench-floor")]
