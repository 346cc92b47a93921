"""Owner pages of imports."""

from django.urls import path

from sales.uploads import views

urlpatterns = [
    path("projects/<slug:slug>/imports/", views.import_list, name="import-list"),
    path("projects/<slug:slug>/imports/<uuid:job_id>.json", views.import_detail, name="import-detail"),
]
