"""SalesLedger settings: everything that differs between machines comes from the environment."""

import os
import re
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    # Ours, in dependency order: each may import only those above it.
    "events",
    "apikeys",
    "inventory",
    "tracking",
    "sales",
]

# Files of import jobs wait here until their job succeeds (or is imported again).
IMPORTS_DIR = Path(os.environ.get("IMPORTS_DIR", BASE_DIR / "var" / "imports"))
IMPORT_BATCH_SIZE = int(os.environ.get("IMPORT_BATCH_SIZE", "5000"))

MIDDLEWARE = [
    # django-prometheus's metrics for the pages; API requests have their own (salesledger/metrics.py).
    "salesledger.middleware.PagesOnlyPrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "salesledger.middleware.RequestIDMiddleware",
    "apikeys.middleware.RequestLogMiddleware",
    "salesledger.middleware.BodySizeLimitMiddleware",
    # Sessions, CSRF, users and messages serve the pages; API requests go past them (salesledger/middleware.py).
    "salesledger.middleware.PagesOnlySessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "salesledger.middleware.PagesOnlyCsrfViewMiddleware",
    "salesledger.middleware.PagesOnlyAuthenticationMiddleware",
    "salesledger.middleware.PagesOnlyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "salesledger.middleware.PagesOnlyPrometheusAfterMiddleware",
]

# API bodies are limited per path (1 MB; 50 MB for the custobar upload) by BodySizeLimitMiddleware
# from Content-Length before anything is read; this only has to let the largest of them through.
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

ROOT_URLCONF = "salesledger.urls"
# API paths answer with and without a trailing slash themselves; never redirect a POST.
APPEND_SLASH = False
WSGI_APPLICATION = "salesledger.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": dj_database_url.config(
            default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
            conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
            # A kept connection is checked before a request uses it (its socket polled, a `SELECT 1`
            # only when the server has sent something: salesledger/postgresql), so after a database
            # restart no request fails on a dead connection; off, each idle worker then answers one
            # 503 after a restart (README, Production).
            conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
        )
    }
except ValueError as error:
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a database URL ({str(error).split('.')[0]}): set it like "
        "postgres://user@host:5432/dbname, or unset it to use SQLite in db.sqlite3."
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that polls the socket instead of a `SELECT 1` round trip.
    DATABASES["default"]["ENGINE"] = "salesledger.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The rollups' covering indexes (INCLUDE columns) serve PostgreSQL's index-only scans; SQLite
    # keeps their key columns, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# The cache backs rate limits, so every server process must see the same one:
# Redis when configured, otherwise a database table (never per-process memory).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that hangs costs a request half a second once, then limits fall back to the database
            # (apikeys/limits.py); without timeouts a black-holed Redis would hang every worker.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "salesledger_cache",
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background tasks (webhook deliveries) run on Django's Tasks API. "database" keeps the queue in a
# table of DATABASE_URL (no other server); "rq" puts it on Redis (REDIS_URL) for workers on many machines.
# Either way the delivery state lives in our own tables, so switching engines loses nothing.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database")
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL.")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be 'database' or 'rq', not {TASKS_BACKEND!r}.")
RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 300}}

# Webhooks go to public https URLs only. Hosts listed here may also be http and resolve to private,
# loopback or link-local addresses (an in-house receiver); with DEBUG on, http is allowed everywhere.
WEBHOOKS_ALLOW_PRIVATE_URLS = env_list("WEBHOOKS_ALLOW_PRIVATE_URLS", "")

# Failed API authentications per minute before 429 instead of 401: per client address and existing key
# prefix, and per client address for keys whose prefix does not exist (see SECURITY.md).
# The request log is written by a thread of each server process, in one INSERT of the rows of the last
# REQUEST_LOG_FLUSH_SECONDS (or as soon as REQUEST_LOG_FLUSH_ROWS are waiting), and when the process
# exits; 0 writes each row during its request (apikeys/request_log.py).
REQUEST_LOG_FLUSH_SECONDS = float(os.environ.get("REQUEST_LOG_FLUSH_SECONDS", "1"))
REQUEST_LOG_FLUSH_ROWS = int(os.environ.get("REQUEST_LOG_FLUSH_ROWS", "500"))
FAILED_AUTH_LIMIT = int(os.environ.get("FAILED_AUTH_LIMIT", "30"))
FAILED_AUTH_UNKNOWN_PREFIX_LIMIT = int(os.environ.get("FAILED_AUTH_UNKNOWN_PREFIX_LIMIT", "300"))
# Heavy requests (uploads) running at once on one machine: by default half of gunicorn's workers
# (WEB_CONCURRENCY, as gunicorn.conf.py reads it), so the other half always serves everyone else.
HEAVY_REQUESTS = int(os.environ.get("HEAVY_REQUESTS") or max(1, int(os.environ.get("WEB_CONCURRENCY", "4")) // 2))
# Where their slots' lock files live: one directory per database, so two deployments (or test runs)
# on one machine do not share slots.
HEAVY_REQUEST_LOCK_DIR = os.environ.get("HEAVY_REQUEST_LOCK_DIR") or os.path.join(
    tempfile.gettempdir(), "salesledger-heavy-" + re.sub(r"[^A-Za-z0-9_.-]", "_", str(DATABASES["default"]["NAME"]))
)
# Password logins (admin, owner pages) are limited per client address.
AUTHENTICATION_BACKENDS = ["apikeys.backends.LoginLimitedModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy set HTTPS=1: cookies become secure and HSTS is sent.
if env_bool("HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apikeys.authentication.APIKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apikeys.permissions.HasProjectKey"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["salesledger.parsers.SafeJSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "apikeys.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "apikeys.api.schema.GateAutoSchema",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "salesledger.errors.native_exception_handler",
    # Proxies in front of the app that append to X-Forwarded-For: 0 trusts REMOTE_ADDR only, so a client
    # cannot dodge the failed-authentication limit by sending its own X-Forwarded-For.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SalesLedger API",
    "DESCRIPTION": (
        "One ledger of sales for many projects. Five sales dialects (costtrack, sells, track, "
        "custobar, connecteam) at their documented paths, plus the native REST API under /api/v1/. "
        "Authenticate with a project API key as `Authorization: Bearer KEY`, `X-API-KEY: KEY` "
        "or HTTP Basic (the key as user name or password): any one of the three."
    ),
    # One description per dialect (docs/dialects.md says more).
    "TAGS": [
        {
            "name": "costtrack",
            "description": "CostTrack Pro's integration API: `POST /api/sales/create` records one "
            'confirmed sale of one product (by UUID). Errors: `{"success": false, "error": "..."}`.',
        },
        {
            "name": "sells",
            "description": "The sells API: sales of several products by the key's acting user, created "
            "pending (stock reserved), then confirmed or cancelled; `GET /sells` lists them with totals. Errors: "
            '`{"message": "..."}`.',
        },
        {
            "name": "track",
            "description": "Dub's conversion tracking API (`/track/sale`, `/track/lead`; Dub's official "
            "SDKs work unchanged): attribution of leads and sales to clicks, sales in any ISO 4217 currency converted "
            'to US cents (or recorded pending until a rate exists). Errors: `{"error": {"code", "message", '
            '"doc_url"}}`.',
        },
        {
            "name": "custobar",
            "description": 'Custobar\'s sales data upload: `{"sales": [row, ...]}` with the key as '
            "HTTP Basic user name; rows with one `sale_external_id` form one transaction; all or nothing, re-uploads "
            "update.",
        },
        {
            "name": "connecteam",
            "description": "Connecteam's Sales API (transactions of POS locations, key as "
            '`X-API-KEY`): create 1-100 at once, delete by period or one by one; FastAPI-style `{"detail": ...}` '
            "errors.",
        },
        {
            "name": "native",
            "description": "SalesLedger's own REST API under `/api/v1/`: products and stock, sales, "
            "locations, customers and conversions, the key's project and keys.",
        },
    ],
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its viewers are public: a key sent to them is not read (it would be a free check of
    # whether a key is valid, outside the gate's failed-attempt limits and its key cache's confirmation).
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"},
                "code": {"fontFamily": "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace"},
            }
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/",
    # Several components have a `status` with different choices; name each set.
    "ENUM_NAME_OVERRIDES": {
        "SaleStatusEnum": "sales.ledger.models.SaleStatus",
        "ImportFileFormatEnum": "sales.uploads.models.ImportJob.Format",
    },
}

# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; without a token it is off (404).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# `seed_demo` keeps the demo key's secret here so that every run prints the same working key.
DEMO_KEY_FILE = os.environ.get("DEMO_KEY_FILE", str(BASE_DIR / ".demo-api-key"))

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
# plain (the default, for development) or json: one JSON object a line, with the request's fields.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "salesledger.logs.RequestFieldsFilter"}},
    "formatters": {
        "plain": {
            "()": "salesledger.logs.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(project)s %(key_prefix)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    # The level is on the handler too: Django's own loggers (django.request) propagate to it past the root's level.
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request"],
            "level": LOG_LEVEL,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
