"""Native locations API: `/api/v1/locations/`, the points of sale connecteam transactions refer to by id."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from apikeys.api.base import ProjectScopedViewSet
from sales.pos.models import Location
from sales.pos.services import location_create, location_delete, location_update


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "address", "time_zone", "active"]


class LocationFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="iexact", label="Name, exactly (any case)")
    name__icontains = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Location
        fields = ["active"]


@extend_schema_view(
    destroy=extend_schema(
        description="Deletes a location that has no transactions. A location with transactions (or with "
        "deleted transactions staff could restore) is deactivated instead and returned with `active: false`.",
        responses={
            200: OpenApiResponse(LocationSerializer, description="Deactivated: it has transactions."),
            204: OpenApiResponse(description="Deleted."),
        },
    )
)
@extend_schema(tags=["native"])
class LocationViewSet(ProjectScopedViewSet):
    """The project's locations; connecteam transactions name them by their integer `id`."""

    queryset = Location.objects.order_by("name", "id")
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    ordering_fields = ["name", "id"]

    def perform_create(self, serializer):
        serializer.instance = location_create(project=self.project, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = location_update(location=serializer.instance, **serializer.validated_data)

    def destroy(self, request, *args, **kwargs):
        location = self.get_object()
        if location_delete(location=location):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(location).data)
