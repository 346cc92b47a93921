"""The router of every native API: routes answer with and without a trailing slash, never a redirect."""

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """A SimpleRouter whose routes end in `/?`.

    DRF 3.18's constructor reads `trailing_slash` as a boolean ("/?" would mean "/"), so it is set after.
    """

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
