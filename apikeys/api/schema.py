"""OpenAPI for what the gate adds to every operation: its headers and the errors any request may meet."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from apikeys.api.base import IDEMPOTENCY_HEADER, IDEMPOTENT_METHODS, MAX_IDEMPOTENCY_KEY_LENGTH

ERROR_BODY = {"type": "object", "description": "An error in the endpoint's documented error shape."}
RATE_HEADERS = {
    "X-RateLimit-Limit": "Requests this key may make per minute (the project's limit).",
    "X-RateLimit-Remaining": "Requests left in the current minute.",
    "X-RateLimit-Reset": "Seconds until the current minute's count starts again.",
}
ANY_REQUEST_ERRORS = {
    "400": "Malformed request (unparseable JSON, a body of the wrong kind, a bad header).",
    "401": "Invalid or missing API key.",
    "429": "Rate limit exceeded, or too many failed authentication attempts; see `Retry-After`.",
}
# Answered by the HTTP server (gunicorn refuses a request line over 4 KB) before the application runs.
URI_TOO_LONG = {
    "description": "The path and query are too long (over 4 KB): answered by the server, in HTML.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
WRITE_ERRORS = {
    "409": f"A request with the same `{IDEMPOTENCY_HEADER}` is still being processed; retry later.",
    "413": "Request body too large (1 MB; 50 MB for the custobar upload, 1 GB for an import file).",
    "415": "Unsupported content type: send `application/json`.",
    "422": f"The `{IDEMPOTENCY_HEADER}` was already used with another method, path or body.",
}


class GateAutoSchema(AutoSchema):
    """Documents the `Idempotency-Key` and `X-Request-ID` headers and the gate's error answers."""

    def get_override_parameters(self):
        parameters = [
            *super().get_override_parameters(),
            OpenApiParameter(
                "X-Request-ID", OpenApiTypes.STR, OpenApiParameter.HEADER,
                description="Echoed in the response and kept in the request log; 1-128 of `A-Z a-z 0-9 . _ : -`. "
                "A new one is made when absent or invalid.",
            ),
        ]  # fmt: skip
        if self.method in IDEMPOTENT_METHODS:
            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description=f"1-{MAX_IDEMPOTENCY_KEY_LENGTH} characters. The same key with the same request "
                    "within 24 hours replays the first answer (`Idempotent-Replayed: true`) instead of running again.",
                )  # fmt: skip
            )
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = dict(ANY_REQUEST_ERRORS)
        if "{" in self.path:
            errors["404"] = "Not found in the key's project."
        if self.method in IDEMPOTENT_METHODS:
            errors.update(WRITE_ERRORS)
        for code, description in errors.items():
            responses.setdefault(
                code, {"description": description, "content": {"application/json": {"schema": ERROR_BODY}}}
            )
        if self.method == "GET":
            responses.setdefault("414", URI_TOO_LONG)
        for code, response in responses.items():
            headers = response.setdefault("headers", {})
            headers.setdefault("X-Request-ID", {"schema": {"type": "string"}, "description": "The request's id."})
            if code != "401":
                for name, description in RATE_HEADERS.items():
                    headers.setdefault(name, {"schema": {"type": "integer"}, "description": description})
        return responses
