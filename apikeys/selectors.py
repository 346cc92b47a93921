"""Reads of projects and keys."""

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from apikeys import keys
from apikeys.models import APIKey, Project
from salesledger.db import execute_prepared


@functools.cache
def _key_lookup() -> tuple[str, list]:
    """The key lookup every API request makes: its SQL, and per model the fields its columns fill with
    the database's converters, built once from the models.

    What `APIKey.objects.select_related("project", "user").filter(prefix=...)` runs, without building and
    compiling that query again on every request (about a third of the CPU of the cheapest request).
    """
    quote = connection.ops.quote_name
    user_model = get_user_model()
    parts = [(APIKey, "k"), (Project, "p"), (user_model, "u")]
    columns, models = [], []
    for model, alias in parts:
        fields = model._meta.concrete_fields
        columns += [f"{alias}.{quote(field.column)}" for field in fields]
        conversions = []  # (index, converters, column) of the columns the database hands over in another type
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            if converters := connection.ops.get_db_converters(column) + column.get_db_converters(connection):
                conversions.append((index, converters, column))
        models.append((model, [field.attname for field in fields], conversions))
    key = APIKey._meta
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(key.db_table)} k "
        f"JOIN {quote(Project._meta.db_table)} p ON p.{quote(Project._meta.pk.column)} = "
        f"k.{quote(key.get_field('project').column)} "
        f"JOIN {quote(user_model._meta.db_table)} u ON u.{quote(user_model._meta.pk.column)} = "
        f"k.{quote(key.get_field('user').column)} "
        f"WHERE k.{quote(key.get_field('prefix').column)} = %s"
    )
    return sql, models


def _instances(row) -> list:
    """The key, its project and its user from one row of the key lookup, as the ORM would build them."""
    _, models = _key_lookup()
    instances, start = [], 0
    for model, attnames, conversions in models:
        values = list(row[start : start + len(attnames)])
        start += len(attnames)
        for index, converters, column in conversions:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        instances.append(model.from_db(connection.alias, attnames, values))
    return instances


def api_key_resolve(raw_key: str) -> APIKey | None:
    """The usable key for a raw key string, with its project and user, in one indexed query."""
    prefix = keys.parse_prefix(raw_key)
    if prefix is None:
        return None
    sql, _ = _key_lookup()
    with connection.cursor() as cursor:
        execute_prepared(cursor, "apikeys_key_lookup", sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    api_key, project, user = _instances(row)
    if not keys.constant_time_equal(api_key.hashed_key, keys.hash_key(raw_key)):
        return None
    APIKey._meta.get_field("project").set_cached_value(api_key, project)
    APIKey._meta.get_field("user").set_cached_value(api_key, user)
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
