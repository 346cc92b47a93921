"""Native API of the events outbox: the event stream (cursor-paginated) and webhook endpoints.

The views live beside the gate they pass through; the `events` app itself imports none of ours.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apikeys.api.base import DialectView, ProjectScopedViewSet
from events import selectors
from events.webhooks import services as webhooks
from events.webhooks.models import DELIVERY_ID_PREFIX, ENDPOINT_ID_PREFIX, WebhookDelivery, WebhookEndpoint

MAX_PAGE = 100
LATEST_DELIVERIES = 100
DELIVERY_PATTERN = f"{DELIVERY_ID_PREFIX}[0-9a-f]{{32}}"
EVENT_TYPE = r"^[a-z_]+(\.[a-z_]+)*(\.\*)?$"


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="`evt_` and 32 hex digits.")
    type = serializers.CharField(help_text="`sale.created`, `stock.adjusted`, `api_key.revoked`, ...")
    created = serializers.DateTimeField()
    data = serializers.SerializerMethodField(
        help_text="`object`: the object in the native API's shape when it changed; `previous_status` for transitions."
    )
    actor = serializers.SerializerMethodField(
        help_text="Who made the change: a user, an API key (prefix) or the system."
    )
    request_id = serializers.CharField(help_text="The `X-Request-ID` of the request that made the change, if any.")

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, event):
        return selectors.event_payload(event)["data"]

    @extend_schema_field(
        {"type": "object", "properties": {"type": {"type": "string", "enum": ["user", "api_key", "system"]},
                                          "name": {"type": "string"}}}
    )  # fmt: skip
    def get_actor(self, event):
        return {"type": event.actor_type, "name": event.actor}


class EventPageSerializer(serializers.Serializer):
    data = EventSerializer(many=True)
    has_more = serializers.BooleanField(help_text="Whether more events follow in the direction read.")


class EventQuerySerializer(serializers.Serializer):
    """The query of `GET /api/v1/events/`; its fields are named as sent (`created[gte]`)."""

    def get_fields(self):
        return {
            "type": serializers.ListField(
                child=serializers.RegexField(EVENT_TYPE, max_length=64), required=False,
                help_text="Repeat to ask for several; `sale.*` matches a whole family.",
            ),
            "created[gte]": serializers.DateTimeField(required=False, help_text="Created at or after (ISO 8601)."),
            "created[lt]": serializers.DateTimeField(required=False, help_text="Created before (ISO 8601)."),
            "starting_after": serializers.CharField(
                required=False, help_text="An event id: the page of older events that follows it."
            ),
            "ending_before": serializers.CharField(
                required=False, help_text="An event id: the page of newer events that precedes it."
            ),
            "limit": serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=10),
        }  # fmt: skip

    def validate(self, attrs):
        if "starting_after" in attrs and "ending_before" in attrs:
            raise serializers.ValidationError("Send starting_after or ending_before, not both.")
        for name in ("starting_after", "ending_before"):
            if name in attrs:
                attrs[name] = selectors.event_get(project=self.context["project"], public_id=attrs[name])
                if attrs[name] is None:
                    raise serializers.ValidationError({name: ["No such event in this project."]})
        return attrs


class EventListView(DialectView):
    """The project's events, newest first, kept 30 days. Page with `starting_after` / `ending_before`."""

    @extend_schema(
        operation_id="api_v1_events_list", parameters=[EventQuerySerializer], responses=EventPageSerializer,
        tags=["native"],
    )  # fmt: skip
    def get(self, request):
        query = {name: request.query_params.get(name) for name in request.query_params if name != "type"}
        if "type" in request.query_params:
            query["type"] = request.query_params.getlist("type")
        params = EventQuerySerializer(data=query, context={"project": self.project})
        params.is_valid(raise_exception=True)
        values = params.validated_data
        events, has_more = selectors.events_page(
            project=self.project, types=values.get("type", ()), created_gte=values.get("created[gte]"),
            created_lt=values.get("created[lt]"), starting_after=values.get("starting_after"),
            ending_before=values.get("ending_before"), limit=values["limit"],
        )  # fmt: skip
        return Response({"data": EventSerializer(events, many=True).data, "has_more": has_more})


class EventDetailView(DialectView):
    """One event of the project, by its `evt_` id."""

    @extend_schema(responses=EventSerializer, tags=["native"])
    def get(self, request, event_id):
        event = selectors.event_get(project=self.project, public_id=event_id)
        if event is None:
            raise Http404
        return Response(EventSerializer(event).data)


def _check(check, value):
    """Run a service's rule and answer its message as a field error."""
    try:
        return check(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(next(iter(error.message_dict.values()))) from None


class WebhookEndpointSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True, help_text="`we_` and 32 hex digits.")
    event_types = serializers.ListField(
        child=serializers.RegexField(r"^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$", max_length=64), min_length=1, max_length=50,
        help_text='What to send: `"*"` (everything), `"sale.*"` (a family) or exact types.',
    )  # fmt: skip

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "event_types", "description", "enabled", "disabled_reason", "created_at"]
        read_only_fields = ["disabled_reason", "created_at"]

    def validate_url(self, value):
        return _check(webhooks.endpoint_url_check, value)

    def validate_event_types(self, value):
        return _check(webhooks.event_types_check, value)


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret (`whsec_...`): shown only now.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", help_text="`msg_` and 32 hex digits.")
    event = serializers.CharField(source="event.public_id")
    type = serializers.CharField(source="event.type")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event", "type", "status", "attempts", "created_at", "next_attempt_at", "last_attempt_at",
            "last_status_code",
        ]  # fmt: skip


@extend_schema(tags=["native"])
class WebhookEndpointViewSet(ProjectScopedViewSet):
    """The project's webhook endpoints. The signing secret is answered once: on create and on rotate-secret."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    filter_backends = []
    lookup_value_regex = f"{ENDPOINT_ID_PREFIX}[0-9a-f]{{32}}"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_object(self):
        pk = selectors.public_id_parse(self.kwargs["pk"], ENDPOINT_ID_PREFIX)
        endpoint = self.get_queryset().filter(pk=pk).first()
        if endpoint is None:
            raise Http404
        return endpoint

    def get_serializer_class(self):
        if self.action in ("create", "rotate_secret"):
            return WebhookEndpointSecretSerializer
        if self.action in ("deliveries", "ping", "resend"):
            return WebhookDeliverySerializer
        return WebhookEndpointSerializer

    def perform_create(self, serializer):
        serializer.instance = webhooks.endpoint_create(project=self.project, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = webhooks.endpoint_update(endpoint=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        webhooks.endpoint_delete(endpoint=instance)

    @extend_schema(request=None, responses=WebhookEndpointSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, answered once; the next attempts are signed with it."""
        endpoint = webhooks.endpoint_secret_rotate(endpoint=self.get_object())
        return Response(WebhookEndpointSecretSerializer(endpoint).data)

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer, 409: OpenApiResponse(description="The endpoint is disabled.")},
    )
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        """Send a test event (`ping`) to this endpoint."""
        delivery = webhooks.endpoint_ping(endpoint=self.get_object(), actor_key=request.auth)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def deliveries(self, request, pk=None):
        """The endpoint's latest 100 deliveries, newest first."""
        deliveries = self.get_object().deliveries.select_related("event").order_by("-created_at")[:LATEST_DELIVERIES]
        return Response(WebhookDeliverySerializer(deliveries, many=True).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("delivery_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={202: WebhookDeliverySerializer, 409: OpenApiResponse(description="The endpoint is disabled.")},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"deliveries/(?P<delivery_id>{DELIVERY_ID_PREFIX}[0-9a-f]{{32}})/resend",
    )
    def resend(self, request, pk=None, delivery_id=None):
        """Send a delivery again now, with a new series of retries."""
        endpoint = self.get_object()
        delivery = endpoint.deliveries.filter(pk=selectors.public_id_parse(delivery_id, DELIVERY_ID_PREFIX)).first()
        if delivery is None:
            raise Http404
        delivery = webhooks.delivery_resend(delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
