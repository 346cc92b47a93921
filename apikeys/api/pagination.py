"""The default pagination of every list: `?limit=&offset=`, 50 rows unless asked, never more than 500."""

from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """A client may ask for bigger pages, up to what one request can afford."""

    max_limit = 500
