"""URLs of the custobar row upload, at its documented path, with and without a trailing slash; import jobs."""

from django.urls import re_path

from sales.uploads.api.custobar import SalesUploadView
from sales.uploads.api.imports import ImportJobViewSet
from salesledger.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("api/v1/imports", ImportJobViewSet, basename="import-job")

urlpatterns = [
    re_path(r"^api/sales/upload/?$", SalesUploadView.as_view(), name="custobar-sales-upload"),
    *router.urls,
]
