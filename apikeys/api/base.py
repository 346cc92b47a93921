"""Bases every API view builds on, so no view can forget the tenant, the limits or the dialect's error shape."""

import contextlib
import hashlib
import logging

from django.db import DataError, transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from rest_framework import exceptions, viewsets
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apikeys import heavy, limits
from apikeys.authentication import KeyRefused
from apikeys.models import APIKey
from apikeys.selectors import api_key_current
from apikeys.services import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    idempotency_claim,
    idempotency_complete,
    idempotency_hold,
    idempotency_release,
)
from salesledger import logs
from salesledger.errors import NATIVE, Dialect, make_exception_handler

logger = logging.getLogger(__name__)
IDEMPOTENT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


def request_project(request):
    """The project of the authenticated key (taken from `request.auth`, which survives OPTIONS)."""
    return request.auth.project


class BadIdempotencyKey(exceptions.APIException):
    status_code = 400
    default_detail = f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters."
    default_code = "bad_idempotency_key"


class GateRefusal(exceptions.APIException):
    """The gate's own refusals keep their status in every dialect (a dialect may map domain conflicts)."""

    def __init__(self, status_code: int, detail: str, wait: int | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.wait = wait


class Replay(Exception):
    """Raised in `initial` to answer with the stored response instead of running the handler."""

    def __init__(self, record):
        self.record = record


class GateMixin:
    """What every API request passes through after authentication, whatever its dialect.

    - failed authentication counted per client address and key prefix (`limits.failed_auth_bucket`);
      past the limit, 429 instead of 401, also for the right key of that prefix from that address;
    - the key's rate limit (the project's `rate_limit` per minute), `X-RateLimit-*` on every answer;
    - a write is one transaction, from the handler to its rendered answer: an error, a crash or a
      database lost at any point before the commit leaves nothing written;
    - `Idempotency-Key` on writes: claim, run once, store the answer in the write's transaction,
      replay it;
    - a view marked `heavy` holds one of the machine's heavy-request slots while it runs, or is
      refused at once with 429 and `Retry-After` when every slot is taken.
    """

    heavy = False
    rate_window: limits.Window | None = None
    idempotency_record = None
    write_transaction: transaction.Atomic | None = None
    # False for a view whose body must never be read whole (a file streamed to disk): the header is ignored.
    idempotent = True
    _held = None

    def perform_content_negotiation(self, request, force=False):
        """DRF's choice of renderer, without its work for a request that leaves the choice to the server
        (no `Accept`, `*/*`, or the first renderer's own type; no `?format=`): the first renderer, as DRF
        chooses it then. Any other request is negotiated by DRF (a type no renderer writes is a 406)."""
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if self.format_kwarg is None and api_settings.URL_FORMAT_OVERRIDE not in request._request.GET:
            renderer = self.renderer_classes[0]()
            if accept == "*/*" or accept == renderer.media_type:
                return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def perform_authentication(self, request):
        try:
            super().perform_authentication(request)
        except KeyRefused as refused:
            window = limits.hit(
                limits.failed_auth_bucket(limits.client_address(request), refused.prefix),
                limit=limits.failed_auth_limit(refused.prefix),
                seconds=limits.FAILED_AUTH_WINDOW_SECONDS,
            ).window
            if window.exceeded:
                raise exceptions.Throttled(
                    wait=window.reset, detail="Too many failed authentication attempts from this address."
                ) from None
            raise

    def check_throttles(self, request):
        super().check_throttles(request)
        if not isinstance(request.auth, APIKey):
            return
        # One round trip counts this request against the key, reads the address's failed attempts (so a
        # guesser that is blocked learns nothing even when it finally sends a valid key) and the key epoch.
        hit = limits.hit(
            limits.key_bucket(request.auth),
            limit=request.auth.project.rate_limit,
            seconds=limits.RATE_WINDOW_SECONDS,
            peek=limits.failed_auth_bucket(limits.client_address(request), request.auth.prefix),
            peek_seconds=limits.FAILED_AUTH_WINDOW_SECONDS,
        )
        if not api_key_current(request.auth, hit.key_epoch):
            # Taken from this process's key cache, and the key, its project or its user changed since:
            # authenticated again from the database (a revoked key is refused here), the hit counted.
            del request._user
            self.perform_authentication(request)
        logs.key_known(project=request.auth.project.slug, key_prefix=request.auth.display_prefix)
        self.rate_window = limits.Window(hit.window.hits, request.auth.project.rate_limit, hit.window.reset)
        if hit.peeked > limits.FAILED_AUTH_LIMIT:
            raise exceptions.Throttled(
                wait=limits.reset_in(limits.FAILED_AUTH_WINDOW_SECONDS),
                detail="Too many failed authentication attempts from this address.",
            )
        if self.rate_window.exceeded:
            raise exceptions.Throttled(
                wait=self.rate_window.reset,
                detail=f"Rate limit of {self.rate_window.limit} requests per minute exceeded.",
            )

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in IDEMPOTENT_METHODS:
            return
        # First the key, so a retry of a request that is running is told so (409), and a replay
        # needs no slot; a refused slot then releases the claim like any other error.
        self.idempotency_record = self._claim(request)
        if self.heavy:
            self._held = contextlib.ExitStack()
            try:
                self._held.enter_context(heavy.heavy_slot())
            except heavy.NoFreeSlot:
                raise GateRefusal(
                    429, "The server is running as many uploads as it takes at once; retry shortly.",
                    wait=heavy.RETRY_AFTER_SECONDS,
                ) from None  # fmt: skip
        # Kept once begun: beginning it may be the request's first use of the database (a known key needs
        # none), and a database away then fails it before it is open, with nothing to roll back.
        atomic = transaction.atomic()
        atomic.__enter__()
        self.write_transaction = atomic
        if self.idempotency_record is not None:
            try:
                idempotency_hold(record=self.idempotency_record)
            except IdempotencyKeyInFlight as error:
                self.idempotency_record = None  # Another request took the claim over: not ours to release.
                raise GateRefusal(error.status_code, error.message, wait=1) from None

    def _claim(self, request):
        """The idempotency claim this request now owns (None without a key); raises Replay for a
        stored answer and GateRefusal for a key in use or used otherwise."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None or not self.idempotent:
            return None
        if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not (key.isascii() and key.isprintable()):
            raise BadIdempotencyKey()
        path = request.get_full_path()
        digest = hashlib.sha256(f"{request.method}\n{path}\n".encode() + request.body).hexdigest()
        try:
            record, claimed = idempotency_claim(
                project=request_project(request), key=key, method=request.method, path=path, fingerprint=digest,
                now=timezone.now(),
            )  # fmt: skip
        except IdempotencyKeyReused as error:
            raise GateRefusal(error.status_code, error.message) from None
        except IdempotencyKeyInFlight as error:
            raise GateRefusal(error.status_code, error.message, wait=1) from None
        if not claimed:
            raise Replay(record)
        return record

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            response = HttpResponse(bytes(exc.record.body), status=exc.record.status_code)
            response["Content-Type"] = exc.record.content_type
            response["Idempotent-Replayed"] = "true"
            return response
        if isinstance(exc, Http404):
            # Answered by the view (with the rate headers), not by Django's handler404 after it.
            exc = exceptions.NotFound()
        elif isinstance(exc, DataError):
            # A value the database cannot hold (a number past its column, a time zone offset past
            # ±15:59) got past validation: still bad input, so a 400 and not a 500.
            logger.warning("Refused a value the database cannot store on %s: %s", self.request.path, exc)
            exc = GateRefusal(400, "A value in the request is out of the range that can be stored.")
        return super().handle_exception(exc)

    def raise_uncaught_exception(self, exc):
        self._end_write_transaction(exc)
        self._release_claim()
        self._release_slot()
        super().raise_uncaught_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        self._release_slot()
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.rate_window is not None:
            response["X-RateLimit-Limit"] = str(self.rate_window.limit)
            response["X-RateLimit-Remaining"] = str(self.rate_window.remaining)
            response["X-RateLimit-Reset"] = str(self.rate_window.reset)
        if self.write_transaction is not None:
            try:
                self._settle_write(response)
            except BaseException as error:  # An answer that cannot be rendered or stored: nothing stays.
                self._end_write_transaction(error)
                self._release_claim()
                raise
            self._end_write_transaction()
        self._release_claim()
        return response

    def _settle_write(self, response):
        """Render a success and store it with the Idempotency-Key, in the write's transaction; mark an
        error for rollback (an error writes nothing and is never stored: a retry with the key runs again)."""
        if response.status_code >= 400:
            transaction.set_rollback(True)
            return
        if hasattr(response, "render"):
            response.render()
        if self.idempotency_record is not None:
            idempotency_complete(
                record=self.idempotency_record, status_code=response.status_code,
                content_type=response.get("Content-Type", ""), body=response.content, now=timezone.now(),
            )  # fmt: skip
            self.idempotency_record = None

    def _end_write_transaction(self, exc: BaseException | None = None):
        """Commit the write's transaction, or roll it back (on `exc`, or when marked for rollback)."""
        atomic, self.write_transaction = self.write_transaction, None
        if atomic is not None:
            atomic.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)

    def _release_slot(self):
        if self._held is not None:
            self._held.close()
            self._held = None

    def _release_claim(self):
        if self.idempotency_record is not None:
            idempotency_release(record=self.idempotency_record)
            self.idempotency_record = None


class DialectView(GateMixin, APIView):
    """An API view answering errors in `dialect`'s documented shape."""

    dialect: Dialect = NATIVE

    def get_exception_handler(self):
        return make_exception_handler(self.dialect)

    @property
    def project(self):
        return request_project(self.request)


class ProjectScopedViewSet(GateMixin, viewsets.ModelViewSet):
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
