"""Password logins (admin, owner pages) limited per client address, so passwords cannot be guessed at speed."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from apikeys import limits


class LoginLimitedModelBackend(ModelBackend):
    """Django's backend, refusing every login from an address with too many recent failures."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        bucket = limits.failed_login_bucket(limits.client_address(request))
        if limits.peek(bucket, seconds=limits.FAILED_LOGIN_WINDOW_SECONDS) >= limits.FAILED_LOGIN_LIMIT:
            # Refused without checking the password: a guesser learns nothing until the window ends.
            raise PermissionDenied("Too many failed logins from this address.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            limits.hit(bucket, limit=limits.FAILED_LOGIN_LIMIT, seconds=limits.FAILED_LOGIN_WINDOW_SECONDS)
        return user
