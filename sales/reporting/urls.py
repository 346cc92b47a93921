"""The dashboard's pages; included before the admin and the owner pages so they take these paths."""

from django.urls import path

from sales.reporting import views

urlpatterns = [
    path("admin/", views.staff_dashboard, name="admin-dashboard"),
    path("admin/sales-export.csv", views.staff_export, name="admin-sales-export"),
    path("projects/<slug:slug>/", views.owner_dashboard, name="project-dashboard"),
    path("projects/<slug:slug>/sales.csv", views.owner_export, name="project-sales-export"),
]
