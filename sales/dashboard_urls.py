"""The dashboard's pages; included before the admin and the owner pages so they take these paths."""

from django.urls import path

from sales import dashboard_views

urlpatterns = [
    path("admin/", dashboard_views.staff_dashboard, name="admin-dashboard"),
    path("admin/sales-export.csv", dashboard_views.staff_export, name="admin-sales-export"),
    path("projects/<slug:slug>/", dashboard_views.owner_dashboard, name="project-dashboard"),
    path("projects/<slug:slug>/sales.csv", dashboard_views.owner_export, name="project-sales-export"),
]
