from django.urls import path

from apikeys import views

urlpatterns = [
    path("projects/", views.project_list, name="project-list"),
    path("projects/<slug:slug>/keys/", views.key_list, name="key-list"),
    path("projects/<slug:slug>/keys/create", views.key_create, name="key-create"),
    path("projects/<slug:slug>/keys/<uuid:key_id>/rotate", views.key_rotate, name="key-rotate"),
    path("projects/<slug:slug>/keys/<uuid:key_id>/revoke", views.key_revoke, name="key-revoke"),
    path("projects/<slug:slug>/keys/<uuid:key_id>/requests", views.key_requests, name="key-requests"),
    path("projects/<slug:slug>/webhooks/", views.webhook_list, name="webhook-list"),
    path("projects/<slug:slug>/webhooks/create", views.webhook_create, name="webhook-create"),
    path("projects/<slug:slug>/webhooks/<uuid:endpoint_id>/rotate", views.webhook_rotate, name="webhook-rotate"),
    path("projects/<slug:slug>/webhooks/<uuid:endpoint_id>/toggle", views.webhook_toggle, name="webhook-toggle"),
    path("projects/<slug:slug>/webhooks/<uuid:endpoint_id>/ping", views.webhook_ping, name="webhook-ping"),
    path("projects/<slug:slug>/webhooks/<uuid:endpoint_id>/delete", views.webhook_delete, name="webhook-delete"),
    path(
        "projects/<slug:slug>/webhooks/deliveries/<uuid:delivery_id>/resend",
        views.webhook_resend,
        name="webhook-resend",
    ),
]
