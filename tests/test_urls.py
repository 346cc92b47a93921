"""Each API URLconf is tried only for the paths that can match it (salesledger/urls.py)."""

import pytest
from django.urls import Resolver404, path, re_path, resolve

from salesledger.urls import literal_prefix


def view(request):
    raise AssertionError("not called")


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (re_path(r"^sells/?$", view), "sells"),
        (re_path(r"^api/v1/events/(?P<event_id>[^/]+)/?$", view), "api/v1/events/"),
        (re_path(r"^api/v1/keys\.json$", view), "api/v1/keys"),
        (re_path(r"^track/sale(s)*$", view), "track/sale"),
        (re_path(r"^ab{2}$", view), "a"),
        (path("docs/errors/<slug:code>", view), "docs/errors/"),
        (path("healthz", view), "healthz"),
    ],
)
def test_the_literal_prefix_of_a_pattern(pattern, prefix):
    assert literal_prefix(pattern.pattern) == prefix


@pytest.mark.parametrize(
    ("url", "view_name"),
    [
        ("/sells", "sells"),
        ("/sells/", "sells"),
        ("/sells/confirm/abc", "sells-confirm"),
        ("/api/sales/create", "costtrack-sale-create"),
        ("/api/sales/upload/", "custobar-sales-upload"),
        ("/track/sale", "track-sale"),
        ("/sales/v1/transactions", "connecteam-transactions"),
        ("/api/v1/products/", "product-list"),
    ],
)
def test_every_dialect_path_finds_its_view(url, view_name):
    assert resolve(url).view_name == view_name


def test_a_path_no_urlconf_begins_with_is_not_found():
    with pytest.raises(Resolver404):
        resolve("/sellsx")
