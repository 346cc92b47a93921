"""Reads of webhooks: a project's endpoints with their latest deliveries."""

from collections import defaultdict

from events.webhooks.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 10


def endpoints_with_recent_deliveries(*, project) -> list[WebhookEndpoint]:
    """The project's endpoints, each with `recent`: its latest deliveries (two queries in all)."""
    endpoints = list(WebhookEndpoint.objects.filter(project=project).order_by("-created_at"))
    latest = (
        WebhookDelivery.objects.filter(endpoint__in=endpoints)
        .select_related("event")
        .order_by("-created_at")[: RECENT_DELIVERIES * max(len(endpoints), 1) * 5]
    )
    by_endpoint = defaultdict(list)
    for delivery in latest:
        if len(by_endpoint[delivery.endpoint_id]) < RECENT_DELIVERIES:
            by_endpoint[delivery.endpoint_id].append(delivery)
    for endpoint in endpoints:
        endpoint.recent = by_endpoint[endpoint.pk]
    return endpoints
