"""The one gate: a project API key sent as Bearer, X-API-KEY or HTTP Basic."""

import base64
import binascii

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apikeys import services
from apikeys.keys import parse_prefix
from apikeys.selectors import api_key_known_prefix, api_key_resolve

INVALID_KEY = "Invalid or missing API key."


class KeyRefused(exceptions.AuthenticationFailed):
    """A key was sent and refused; `prefix` is the existing key prefix it aimed at, if any."""

    def __init__(self, prefix: str | None):
        super().__init__(INVALID_KEY)
        self.prefix = prefix


def raw_key_from(request) -> str | None:
    """The key as the client sent it, or None when it sent none.

    Accepted: `Authorization: Bearer KEY`, `X-API-KEY: KEY`, and HTTP Basic with the key as
    user name (empty password) or as password.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer" and credentials:
        return credentials
    if scheme == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        username, _, password = decoded.partition(":")
        return username if parse_prefix(username) or not password else password
    if header:
        return ""
    api_key_header = request.META.get("HTTP_X_API_KEY")
    if api_key_header is not None:
        return api_key_header.strip()
    return None


class APIKeyAuthentication(authentication.BaseAuthentication):
    """Resolves key -> project -> acting user in one indexed query; `request.auth` is the APIKey."""

    def authenticate(self, request):
        raw_key = raw_key_from(request)
        if raw_key is None:
            return None
        api_key = api_key_resolve(raw_key)
        if api_key is None:
            raise KeyRefused(api_key_known_prefix(raw_key))
        if getattr(api_key, "cached_epoch", None) is None:
            # Read from the database now: stamped if its stamp is old. A key from the key cache was read at
            # most its ENTRY_SECONDS ago, so its stamp waits for its next lookup.
            services.api_key_touch(api_key=api_key, now=timezone.now())
        return api_key.user, api_key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.APIKeyAuthentication"
    name = ["BearerKey", "HeaderKey", "BasicKey"]

    def get_security_requirement(self, auto_schema):
        # Three alternatives (any one authenticates), not one requirement naming all three.
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer sl_live_...`"},
            {"type": "apiKey", "in": "header", "name": "X-API-KEY", "description": "`X-API-KEY: sl_live_...`"},
            {"type": "http", "scheme": "basic", "description": "HTTP Basic, the key as user name (or password)."},
        ]
