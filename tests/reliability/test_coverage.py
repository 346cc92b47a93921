"""Every API view passes the gate: a view that does not cannot rate-limit, replay or log."""

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.views import APIView

from apikeys.api.base import GateMixin
from salesledger.views import RedocView


def api_views(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is not None and issubclass(view_class, APIView):
                yield prefix + str(pattern.pattern), view_class


def test_every_api_view_is_built_on_the_gate():
    views = dict(api_views())
    assert len(views) > 20
    outside = {path: cls.__name__ for path, cls in views.items() if not issubclass(cls, GateMixin)}
    # The schema and its two viewers are documentation, open to everyone.
    assert outside == {
        "api/schema/": SpectacularAPIView.__name__,
        "api/docs/": SpectacularSwaggerView.__name__,
        "api/redoc/": RedocView.__name__,
    }
