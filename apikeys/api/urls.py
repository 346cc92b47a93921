from django.urls import re_path

from apikeys.api.events import EventDetailView, EventListView, WebhookEndpointViewSet
from apikeys.api.native import APIKeyViewSet, ProjectView
from salesledger.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("api/v1/keys", APIKeyViewSet, basename="api-key")
router.register("api/v1/webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = [
    re_path(r"^api/v1/project/?$", ProjectView.as_view(), name="api-project"),
    re_path(r"^api/v1/events/?$", EventListView.as_view(), name="event-list"),
    re_path(r"^api/v1/events/(?P<event_id>[^/]+)/?$", EventDetailView.as_view(), name="event-detail"),
    *router.urls,
]
