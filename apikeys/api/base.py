"""Bases every API view builds on, so no view can forget the tenant or the dialect's error shape."""

from rest_framework import viewsets
from rest_framework.views import APIView

from salesledger.errors import NATIVE, Dialect, make_exception_handler


def request_project(request):
    """The project of the authenticated key (taken from `request.auth`, which survives OPTIONS)."""
    return request.auth.project


class DialectView(APIView):
    """An API view answering errors in `dialect`'s documented shape."""

    dialect: Dialect = NATIVE

    def get_exception_handler(self):
        return make_exception_handler(self.dialect)

    @property
    def project(self):
        return request_project(self.request)


class ProjectScopedViewSet(viewsets.ModelViewSet):
    """A native viewset whose queryset is always filtered to the key's project.

    Another project's object is therefore a 404, never a 403 and never data.
    """

    project_field = "project"

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(**{self.project_field: request_project(self.request)})

    @property
    def project(self):
        return request_project(self.request)
