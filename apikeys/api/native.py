"""Native API of the gate: the key's own project, and its keys (read-only, never secrets)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apikeys.api.base import DialectView, ProjectScopedViewSet
from apikeys.models import APIKey, Project


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["slug", "name", "currency", "time_zone", "created_at"]


class APIKeySerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    user = serializers.CharField(source="user.username", read_only=True)
    status = serializers.ChoiceField(choices=APIKey.Status.choices, read_only=True)

    class Meta:
        model = APIKey
        fields = ["id", "name", "prefix", "user", "status", "created_at", "last_used_at", "expires_at", "revoked_at"]


class ProjectView(DialectView):
    """The project the key belongs to: a quick way for an integration to check its key."""

    @extend_schema(responses=ProjectSerializer, tags=["native"])
    def get(self, request):
        return Response(ProjectSerializer(self.project).data)


@extend_schema(tags=["native"])
class APIKeyViewSet(ProjectScopedViewSet):
    """The project's keys: prefix, name, status and usage. Secrets and hashes are never returned."""

    http_method_names = ["get", "head", "options"]
    queryset = APIKey.objects.select_related("user").order_by("-created_at")
    serializer_class = APIKeySerializer
    filterset_fields = ["name"]
    ordering_fields = ["created_at", "last_used_at", "name"]
