"""The bare floor: the same Django, DRF, psycopg and gunicorn with none of the project's code.

No middleware, no app of ours: one DRF view that finds the API key by its prefix (one indexed
SELECT on the project's key table), compares its SHA-256, and INSERTs one row into `bench_floor`.
What any Django service on this machine pays for an authenticated one-row write; the benchmark
reports every workload against it.

    DATABASE_URL=postgres://... gunicorn bench.bare_floor --workers 4 --bind 127.0.0.1:8199
"""

import hashlib
import hmac

import dj_database_url
import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-floor",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=["rest_framework"],
    DATABASES={"default": dj_database_url.config(conn_max_age=600)},
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    },
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import re_path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class BareFloorView(APIView):
    def post(self, request):
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        prefix = key.removeprefix("sl_live_").partition("_")[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT project_id, hashed_key FROM apikeys_apikey WHERE prefix = %s", [prefix])
            row = cursor.fetchone()
            if row is None or not hmac.compare_digest(row[1], hashlib.sha256(key.encode()).hexdigest()):
                return Response({"detail": "Invalid API key."}, status=401)
            cursor.execute("INSERT INTO bench_floor (project_id) VALUES (%s) RETURNING id", [row[0]])
            (row_id,) = cursor.fetchone()
        request.data  # noqa: B018  (parse the body, as every real endpoint does)
        return Response({"id": row_id}, status=201)


urlpatterns = [re_path(r"^api/bench/floor/?$", BareFloorView.as_view())]
application = get_wsgi_application()
