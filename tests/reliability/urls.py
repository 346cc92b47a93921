"""A test-only write endpoint at each dialect's path, so the gate is tested in every error shape."""

import time

from django.db import connection
from django.urls import re_path
from rest_framework import serializers
from rest_framework.response import Response

from apikeys.api.base import DialectView
from apikeys.services import api_key_create
from salesledger.errors import CONNECTEAM, COSTTRACK, CUSTOBAR, NATIVE, SELLS, TRACK, Conflict

DIALECT_PATHS = {
    "native": ("/api/v1/test-writes", NATIVE),
    "costtrack": ("/api/sales/create", COSTTRACK),
    "sells": ("/sells", SELLS),
    "track": ("/track/sale", TRACK),
    "custobar": ("/api/sales/upload/", CUSTOBAR),
    "connecteam": ("/sales/v1/transactions", CONNECTEAM),
}


class WriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    pause = serializers.FloatField(required=False, default=0, min_value=0, max_value=3)
    outcome = serializers.ChoiceField(
        choices=["ok", "conflict", "crash", "unstorable", "connection_lost", "unrenderable"],
        required=False,
        default="ok",
    )


class WriteView(DialectView):
    """Issues an API key named `name` (an observable write), after `pause` seconds; or fails as asked
    (before the write, or after it: `connection_lost`, `unrenderable`)."""

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        serializer = WriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        time.sleep(serializer.validated_data["pause"])
        outcome = serializer.validated_data["outcome"]
        if outcome == "conflict":
            raise Conflict("Refused by the business rules.")
        if outcome == "crash":
            raise RuntimeError("unexpected")
        if outcome == "unstorable":
            with connection.cursor() as cursor:
                cursor.execute("SELECT CAST(%s AS timestamptz)", ["1905-06-26 19:45:22-18:20"])
        issued = api_key_create(project=self.project, name=serializer.validated_data["name"], user=request.user)
        if outcome == "connection_lost":
            # The database goes away after the write, before the answer (PostgreSQL: this connection ends).
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        if outcome == "unrenderable":
            return Response({"name": "\ud800"}, status=201)  # a lone surrogate: JSON cannot encode it
        return Response({"id": str(issued.api_key.pk), "name": issued.api_key.name}, status=201)

    put = post


urlpatterns = [
    re_path(rf"^{path.strip('/')}/?$", WriteView.as_view(dialect=dialect), name=f"test-write-{name}")
    for name, (path, dialect) in DIALECT_PATHS.items()
]
handler400 = "salesledger.views.refused"
handler403 = "salesledger.views.forbidden"
handler404 = "salesledger.views.not_found"
handler500 = "salesledger.views.crashed"
