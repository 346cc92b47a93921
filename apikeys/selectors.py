"""Reads of projects and keys."""

from django.utils import timezone

from apikeys import keys
from apikeys.models import APIKey, Project


def api_key_resolve(raw_key: str) -> APIKey | None:
    """The usable key for a raw key string, with its project and user, in one indexed query."""
    prefix = keys.parse_prefix(raw_key)
    if prefix is None:
        return None
    api_key = APIKey.objects.select_related("project", "user").filter(prefix=prefix).first()
    if api_key is None or not keys.constant_time_equal(api_key.hashed_key, keys.hash_key(raw_key)):
        return None
    return api_key if api_key.is_usable(timezone.now()) else None


def api_key_known_prefix(raw_key: str) -> str | None:
    """The prefix of `raw_key` when some key (usable or not) has it: what a failed attempt aimed at."""
    prefix = keys.parse_prefix(raw_key)
    return prefix if prefix and APIKey.objects.filter(prefix=prefix).exists() else None


def projects_owned_by(user):
    return Project.objects.filter(owners=user).order_by("name")


def api_keys_of(project: Project):
    return project.api_keys.select_related("user", "replaced_by").order_by("-created_at")


REQUESTS_SHOWN_PER_KEY = 100


def recent_requests_of(api_key: APIKey):
    """The key's latest requests, newest first (the (api_key, -created_at) index answers it)."""
    return api_key.requests.order_by("-created_at")[:REQUESTS_SHOWN_PER_KEY]
