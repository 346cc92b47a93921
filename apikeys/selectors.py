"""Reads of projects and keys."""

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from apikeys import key_cache, keys
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


def _values(row) -> list[list]:
    """The field values of the key, its project and its user in one row of the key lookup, converted as
    the ORM converts them."""
    _, models = _key_lookup()
    values, start = [], 0
    for _model, attnames, conversions in models:
        model_values = list(row[start : start + len(attnames)])
        start += len(attnames)
        for index, converters, column in conversions:
            for converter in converters:
                model_values[index] = converter(model_values[index], column, connection)
        values.append(model_values)
    return values


def _api_key(values: list[list]) -> APIKey:
    """The key, with its project and user, built from `_values` as the ORM builds them."""
    _, models = _key_lookup()
    api_key, project, user = (
        model.from_db(connection.alias, attnames, model_values)
        for (model, attnames, _), model_values in zip(models, values, strict=True)
    )
    APIKey._meta.get_field("project").set_cached_value(api_key, project)
    APIKey._meta.get_field("user").set_cached_value(api_key, user)
    return api_key


def api_key_resolve(raw_key: str) -> APIKey | None:
    """The usable key for a raw key string, with its project and user: from this process's key cache
    (apikeys/key_cache.py; the key then carries the epoch it was read under, `cached_epoch`, for the
    gate to confirm with `api_key_current`), else in one indexed query."""
    prefix = keys.parse_prefix(raw_key)
    if prefix is None:
        return None
    hashed_key = keys.hash_key(raw_key)
    if cached := key_cache.get(hashed_key):
        epoch, values = cached
        api_key = _api_key(values)
        api_key.cached_epoch = epoch
    else:
        epoch = key_cache.current_epoch()  # before the lookup: an entry is never older than its epoch
        sql, _ = _key_lookup()
        with connection.cursor() as cursor:
            execute_prepared(cursor, "apikeys_key_lookup", sql, [prefix])
            row = cursor.fetchone()
        if row is None:
            return None
        values = _values(row)
        api_key = _api_key(values)
        if not keys.constant_time_equal(api_key.hashed_key, hashed_key):
            return None
        if epoch is not None:
            key_cache.put(hashed_key, epoch, values)
    return api_key if api_key.is_usable(timezone.now()) else None


def api_key_current(api_key: APIKey, key_epoch: str | None) -> bool:
    """Whether `api_key` is what the database holds: read from it in this request, or from an entry of the
    key cache whose epoch is `key_epoch`, the current one. A stale entry is dropped."""
    cached_epoch = getattr(api_key, "cached_epoch", None)
    if cached_epoch is None or key_cache.is_current(cached_epoch, key_epoch):
        return True
    key_cache.forget(api_key.hashed_key)
    return False


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
