"""Permission: the request carries a usable project API key."""

from rest_framework.permissions import BasePermission

from apikeys.models import APIKey


class HasProjectKey(BasePermission):
    message = "Invalid or missing API key."

    def has_permission(self, request, view):
        return isinstance(request.auth, APIKey)
