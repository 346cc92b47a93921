"""URLs of the custobar row upload, at its documented path, with and without a trailing slash."""

from django.urls import re_path

from sales.uploads.api.custobar import SalesUploadView

urlpatterns = [re_path(r"^api/sales/upload/?$", SalesUploadView.as_view(), name="custobar-sales-upload")]
