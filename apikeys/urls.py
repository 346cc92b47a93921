from django.urls import include, path

from apikeys import views

urlpatterns = [
    path("", include("apikeys.api.urls")),
    path("projects/", views.project_list, name="project-list"),
    path("projects/<slug:slug>/keys/", views.key_list, name="key-list"),
    path("projects/<slug:slug>/keys/create", views.key_create, name="key-create"),
    path("projects/<slug:slug>/keys/<uuid:key_id>/rotate", views.key_rotate, name="key-rotate"),
    path("projects/<slug:slug>/keys/<uuid:key_id>/revoke", views.key_revoke, name="key-revoke"),
    path("projects/<slug:slug>/keys/<uuid:key_id>/requests", views.key_requests, name="key-requests"),
]
