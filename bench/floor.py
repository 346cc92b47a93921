"""The benchmark's floor: the least a write endpoint of this server stack can do.

The same middleware, the same API key authentication (one indexed lookup), then one INSERT into
`bench_floor`, a table only the benchmark creates (`bench/seed.py`), so no app owns a migration
for it. Mounted only when SALESLEDGER_BENCH_FLOOR=1, never in a normal deployment.
"""

from django.db import connection
from django.urls import re_path
from rest_framework.response import Response
from rest_framework.views import APIView

FLOOR_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_floor "
    "(id bigserial PRIMARY KEY, project_id bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
)


class FloorView(APIView):
    schema = None  # not part of the public API

    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_floor (project_id) VALUES (%s) RETURNING id", [request.auth.project_id])
            (row_id,) = cursor.fetchone()
        return Response({"id": row_id}, status=201)


urlpatterns = [re_path(r"^bench/floor/?$", FloorView.as_view(), name="bench-floor")]
