"""Root URLs: every dialect at its documented path, the native API, docs, admin and owner pages."""

import os
import re
from importlib import import_module

from django.contrib import admin
from django.urls import URLResolver, include, path
from django.urls.resolvers import RegexPattern, RoutePattern
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from salesledger import views
from salesledger.errors import DIALECT_BY_PATH_PREFIX

PAGES_WITH_SLASH = ("admin", "projects", "api/schema", "api/docs", "api/redoc")

API_URLCONFS = [
    "apikeys.api.urls",
    "inventory.api.urls",
    "tracking.api.urls",
    "sales.ledger.api.urls",
    "sales.pos.api.urls",
    "sales.uploads.api.urls",
]
# The benchmark's floor endpoint (bench/floor.py), only in a server the benchmark starts.
if os.environ.get("SALESLEDGER_BENCH_FLOOR") == "1":
    API_URLCONFS.append("bench.floor")


class PathPrefixes(RoutePattern):
    """The route "" (its patterns see the whole path, URLs and the schema are theirs) for a path that
    begins with one of `prefixes` only."""

    def __init__(self, prefixes: tuple[str, ...]):
        super().__init__("", is_endpoint=False)
        self.prefixes = prefixes

    def match(self, path):
        return super().match(path) if path.startswith(self.prefixes) else None


# What a regex must match literally from its start: up to its first special character, less the
# character before a quantifier ("^sells/?$" -> "sells").
_LITERAL_START = re.compile(r"\^?((?:[^.^$*+?{}\[\]\\|()])*)(.?)")


def literal_prefix(pattern) -> str:
    """The text every path that `pattern` (a route or a regex) matches begins with."""
    if isinstance(pattern, RoutePattern):
        return str(pattern).partition("<")[0]
    assert isinstance(pattern, RegexPattern), pattern
    literal, after = _LITERAL_START.match(str(pattern)).groups()
    return literal[:-1] if after and after in "?*{" else literal


def by_prefix(urlconf: str) -> URLResolver:
    """`include(urlconf)`, tried only for a path beginning with one of its patterns' literal prefixes: a
    request skips the URLconfs that cannot match it without trying their patterns one by one (Django
    builds a Resolver404 with every pattern tried for each include that does not match)."""
    patterns = import_module(urlconf).urlpatterns
    return URLResolver(PathPrefixes(tuple({literal_prefix(pattern.pattern) for pattern in patterns})), urlconf)


urlpatterns = [
    # The API first, behind one test of its prefixes: an API request tries the API's patterns only,
    # any other request skips them all at once. No API path is also a page's (the API's own pages,
    # /api/schema, /api/docs, /api/redoc, are tried after), so the order changes no page's URL.
    URLResolver(
        PathPrefixes(tuple(prefix.removeprefix("/") for prefix, _ in DIALECT_BY_PATH_PREFIX)),
        [by_prefix(urlconf) for urlconf in API_URLCONFS],
    ),
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
    path("", include("sales.uploads.urls")),
    # The pages' documented paths typed without their slash lead to them (API paths answer both themselves).
    *[path(page, RedirectView.as_view(url=f"/{page}/", query_string=True)) for page in PAGES_WITH_SLASH],
]

handler400 = "salesledger.views.refused"
handler403 = "salesledger.views.forbidden"
handler404 = "salesledger.views.not_found"
handler500 = "salesledger.views.crashed"
