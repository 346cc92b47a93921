"""Root URLs: every dialect at its documented path, the native API, docs, admin and owner pages."""

import os

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from salesledger import views

PAGES_WITH_SLASH = ("admin", "projects", "api/schema", "api/docs", "api/redoc")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="project-list", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/", views.healthz),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics", views.metrics, name="metrics"),
    path("docs/errors/<slug:code>", views.error_doc, name="error-doc"),
    # The sales dashboard takes the admin's home and the owner's project page; before both.
    path("", include("sales.reporting.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", views.RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/redoc/redoc.standalone.js", views.redoc_bundle, name="redoc-bundle"),
    path("", include("apikeys.urls")),
    path("", include("inventory.api.urls")),
    path("", include("tracking.api.urls")),
    path("", include("sales.ledger.api.urls")),
    path("", include("sales.pos.api.urls")),
    path("", include("sales.uploads.api.urls")),
    path("", include("sales.uploads.urls")),
    # The pages' documented paths typed without their slash lead to them (API paths answer both themselves).
    *[path(page, RedirectView.as_view(url=f"/{page}/", query_string=True)) for page in PAGES_WITH_SLASH],
]

# The benchmark's floor endpoint (bench/floor.py), only in a server the benchmark starts.
if os.environ.get("SALESLEDGER_BENCH_FLOOR") == "1":
    urlpatterns.append(path("", include("bench.floor")))

handler400 = "salesledger.views.refused"
handler403 = "salesledger.views.forbidden"
handler404 = "salesledger.views.not_found"
handler500 = "salesledger.views.crashed"
