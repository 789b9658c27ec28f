"""Settings for the control plane.

Embedded defaults (SQLite, the local target, a Redis on localhost) let `make run` work on a
fresh machine; production overrides them from the environment (`DATABASE_URL`, `REDIS_URL`,
`DJANGO_SECRET_KEY`, `CONTROLPLANE_ENCRYPTION_KEYS`, `DJANGO_ALLOWED_HOSTS`). With `DJANGO_DEBUG`
off, every process (Daphne, Celery, any `manage.py` command) refuses to start on a missing, short
or development secret key or encryption key (`controlplane/secrets_check.py`).
"""
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import dj_database_url

from controlplane.secrets_check import (
    DEV_ENCRYPTION_KEY,
    DEV_SECRET_KEY,
    refuse_development_secrets,
    split_keys,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or DEV_SECRET_KEY
# Fernet keys that encrypt passwords and kubeconfigs at rest: the first encrypts, all decrypt
# (rotation: docs/security.md). CONTROLPLANE_ENCRYPTION_KEY (one key; the Kubernetes bundle sets it) is
# read when CONTROLPLANE_ENCRYPTION_KEYS is unset.
CONTROLPLANE_ENCRYPTION_KEYS = (split_keys(os.environ.get("CONTROLPLANE_ENCRYPTION_KEYS", ""))
                                or split_keys(os.environ.get("CONTROLPLANE_ENCRYPTION_KEY", ""))
                                or [DEV_ENCRYPTION_KEY])
if not DEBUG:
    refuse_development_secrets(SECRET_KEY, CONTROLPLANE_ENCRYPTION_KEYS)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Served over HTTPS by a TLS-terminating proxy that sets X-Forwarded-Proto (docs/security.md):
# cookies only over HTTPS, HSTS, plain HTTP redirected. `manage.py check --deploy` warns while it is off.
HTTPS = env_bool("DJANGO_HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)

VAR_DIR = Path(os.environ.get("CONTROLPLANE_VAR_DIR", BASE_DIR / "var"))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "axes",
    "accounts",
    "targets",
    "timeline",
    "clusters",
    "databases",
    "access",
    "backups",
    "localtarget",
    "metrics",
    "kube",
    "engine",
    "manifests",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the web process itself, compressed and cached (no separate file server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "frontend.errors.FriendlyServerErrors",
    # Last, as django-axes asks: turns a locked-out sign-in into the login page with the lockout message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "controlplane.urls"
ASGI_APPLICATION = "controlplane.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'var' / 'controlplane.sqlite3'}",
        conn_max_age=60,
    )
}
# deploy/kubernetes keeps the URL in a ConfigMap and the password in a Secret: it arrives separately.
if os.environ.get("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = os.environ["DATABASE_PASSWORD"]
# Web processes on PostgreSQL borrow connections from a pool (CONTROLPLANE_DB_POOL=<max per process>):
# under ASGI every request may run on another thread, and persistent per-thread connections pile up
# until the server refuses clients. Celery processes keep plain connections (their fork model).
DB_POOL_SIZE = int(os.environ.get("CONTROLPLANE_DB_POOL", "0"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_SIZE > 0:
    # After a PostgreSQL restart the first request must succeed (tests/faults/test_postgres_outage.py):
    # - CONN_HEALTH_CHECKS is how Django asks the pool to check a connection before lending it (psycopg_pool's
    #   `check`; Django passes `check` itself, so it cannot go in the pool options): connections the restart
    #   broke are dropped there instead of failing a request;
    # - reconnect_timeout bounds the pool's reconnection backoff (1, 2, 4, 8 s...): it gives up after 4 s and
    #   the next request connects at once, instead of waiting out a 16 s backoff past its 10 s timeout.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": min(DB_POOL_SIZE, 100), "timeout": 10, "reconnect_timeout": 4}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers wait instead of failing with "database is locked": a write transaction takes
    # the write lock when it begins (IMMEDIATE; a deferred one that reads first cannot wait for it),
    # the busy timeout lets it queue, and WAL lets readers go on while one writer writes. The backend
    # also keeps the file (and its -wal/-shm) at 0600.
    DATABASES["default"]["ENGINE"] = "controlplane.sqlite3"
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL",
    })
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in throttling (docs/reliability.md): django-axes records failed sign-ins (dashboard and admin) in the
# database and locks out a username, and separately an address, after CP_LOGIN_FAILURE_LIMIT failures within
# CP_LOGIN_LOCKOUT_MINUTES; the lockout lasts that long after the latest failure. `manage.py axes_reset` unlocks.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env_bool("CP_LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = int(os.environ.get("CP_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("CP_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "frontend.views.signin.locked_out"
AXES_VERBOSE = False

# API throttles (DRF, counted in the shared cache below): failed token authentications per client address,
# and credential reveals per user (API and dashboard share the count). "N/s|min|hour|day"; 429 + Retry-After.
THROTTLE_RATES = {
    "token_failures": os.environ.get("CP_THROTTLE_TOKEN_FAILURES", "20/min"),
    "credentials": os.environ.get("CP_THROTTLE_CREDENTIALS", "20/min"),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# `collectstatic` fills STATIC_ROOT (make run-prod, the image); without it the app folders are served.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6390/0")


def cache_url(redis_url: str) -> str:
    """The cache's own database on the control plane's Redis: the next database number after REDIS_URL's
    (clearing a cache empties its whole database, which must never be the broker's)."""
    parsed = urlparse(redis_url)
    database = int(parsed.path.strip("/") or 0)
    return urlunparse(parsed._replace(path=f"/{(database + 1) % 16}"))


def shared_cache(url: str) -> dict:
    """Django's Redis cache: what every web process counts in (throttles), so N uvicorn workers enforce one
    limit. Short socket timeouts: throttles let a request through uncounted when Redis is away
    (accounts/throttling.py), and must not make it wait long for that."""
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "cp",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}


CACHES = {"default": shared_cache(os.environ.get("CONTROLPLANE_CACHE_URL") or cache_url(REDIS_URL))}



def channel_layer_host(url: str) -> dict:
    """redis-py >= 8 gives up on a read after 5 s by default, exactly as long as channels_redis blocks
    in a receive (BZPOPMIN, 5 s): without more room every idle websocket receiver fails every 5 s."""
    return {"address": url, "socket_timeout": 30}


CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [channel_layer_host(REDIS_URL)], "capacity": 1500, "expiry": 30},
    }
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "reconcile-everything": {
        "task": "engine.tasks.reconcile_everything",
        "schedule": timedelta(seconds=int(os.environ.get("CONTROLPLANE_RESYNC_SECONDS", "30"))),
    },
    # The services rigger of kubernetes targets: database Services follow a sentinel failover within seconds.
    "follow-masters": {"task": "kube.tasks.follow_masters", "schedule": timedelta(seconds=2)},
    # Periodic backups (REDB spec.backup.interval): the planner decides which are due at each pass.
    "backups-due": {
        "task": "backups.tasks.run_due_backups",
        "schedule": timedelta(seconds=int(os.environ.get("CONTROLPLANE_RESYNC_SECONDS", "30"))),
    },
    # Followers of the databases with spec.replicaSources (docs/backups.md).
    "replica-sources": {
        "task": "backups.tasks.follow_replica_sources",
        "schedule": timedelta(seconds=int(os.environ.get("CONTROLPLANE_RESYNC_SECONDS", "30"))),
    },
    # Chart points and alerts of every database (metrics/sampler.py).
    "sample-databases": {"task": "metrics.tasks.sample_databases",
                         "schedule": timedelta(seconds=int(os.environ.get("CONTROLPLANE_SAMPLE_SECONDS", "15")))},
}

# How many backups each location keeps per database (docs/backups.md).
CONTROLPLANE_BACKUP_RETAIN = int(os.environ.get("CONTROLPLANE_BACKUP_RETAIN", "7"))
# Folders a REDB's spec.backup.mount.path may be in (colon-separated; default var/backups).
CONTROLPLANE_BACKUP_MOUNT_ROOTS = [Path(p) for p in os.environ.get("CONTROLPLANE_BACKUP_MOUNT_ROOTS", "").split(":")
                                   if p] or [VAR_DIR / "backups"]
# Seconds between two samples of a database (charts keep an hour of them: 3600 / this, at most 720 points).
CONTROLPLANE_SAMPLE_SECONDS = max(5, min(300, int(os.environ.get("CONTROLPLANE_SAMPLE_SECONDS", "15"))))
# A bearer token that may read /metrics without being a user (empty: only staff tokens and sessions may).
CONTROLPLANE_METRICS_TOKEN = os.environ.get("CONTROLPLANE_METRICS_TOKEN", "")

# Seconds a reconcile lock lives without renewal: its holder renews it every third of that while working,
# so a dead worker's objects are free again within this time.
CONTROLPLANE_LOCK_TTL = float(os.environ.get("CP_LOCK_TTL_SECONDS", "30"))
# Seconds between the rounds of a foreground wait (`reconcile --wait`, `recover`, `restore`), 0.05-10.
CONTROLPLANE_WAIT_INTERVAL = max(0.05, min(10.0, float(os.environ.get("CP_WAIT_INTERVAL_SECONDS", "1"))))

# How a spec change reaches the reconciler: "celery" enqueues a task after commit (production),
# "inline" runs it in-process after commit (single-process tools), "manual" leaves it to the caller
# (tests that drive reconciliation step by step).
CONTROLPLANE_RECONCILE_MODE = os.environ.get("CONTROLPLANE_RECONCILE_MODE", "celery")

# Redis binaries the local target offers, as {version: directory holding redis-server}.
# Empty means: detect the redis-server on PATH and offer its major.minor version.
CONTROLPLANE_LOCAL_REDIS_VERSIONS: dict[str, str] = {}


def env_port_range(name: str, low: int, high: int) -> tuple[int, int]:
    """A port range from CP_<NAME>_PORT_MIN / CP_<NAME>_PORT_MAX."""
    return int(os.environ.get(f"CP_{name}_PORT_MIN", low)), int(os.environ.get(f"CP_{name}_PORT_MAX", high))


# Port ranges the local target allocates from (inclusive).
CONTROLPLANE_LOCAL_PORTS = {
    "sentinel": env_port_range("SENTINEL", 26400, 26999),
    "shard": env_port_range("SHARD", 17000, 17999),
    "database": env_port_range("DB", 12000, 12999),
    "exporter": env_port_range("EXPORTER", 19100, 19599),
}

# TLS databases (docs/tls.md): a server certificate is renewed, live, when it has fewer than this many
# days left (they are made for 90 days).
CONTROLPLANE_TLS_RENEW_DAYS = max(1, min(80, int(os.environ.get("CP_TLS_RENEW_DAYS", "30"))))

# The `databasePort`s a kubernetes target assigns and accepts (inclusive; each port once per target).
CONTROLPLANE_KUBERNETES_DATABASE_PORTS = env_port_range("KUBE_DB", 10000, 19999)

# Bounds of one YAML apply (API, CLI, dashboard): the body, how many documents (List items count one each),
# and one document's size (as JSON). The API answers a larger body 413 before reading it.
CONTROLPLANE_APPLY_LIMITS = {
    "max_bytes": int(os.environ.get("CP_APPLY_MAX_BYTES", 256 * 1024)),
    "max_documents": int(os.environ.get("CP_APPLY_MAX_DOCUMENTS", 100)),
    "max_document_bytes": int(os.environ.get("CP_APPLY_MAX_DOCUMENT_BYTES", 16 * 1024)),
}

# Versions a kubernetes target offers: stock `redis` image tags, and `valkey-<tag>` for the `valkey/valkey` image.
CONTROLPLANE_KUBERNETES_REDIS_VERSIONS = ["6.2", "7.0", "7.2", "7.4", "valkey-9.1"]
# `redis/redis-stack-server` tag per Redis version, used for databases with a modulesList.
CONTROLPLANE_KUBERNETES_REDIS_STACK_TAGS = {"7.2": "7.2.0-v10", "7.4": "7.4.0-v1"}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # accounts.tokens.HashedTokenAuthentication, refusing an address with too many recent failures.
        "accounts.throttling.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "targets.api.pagination.BoundedLimitOffsetPagination",
    "DEFAULT_PARSER_CLASSES": ["targets.api.parsers.BoundedJSONParser"],
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "targets.api.errors.json_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "Redis control plane API",
    "DESCRIPTION": "Self-service Redis clusters (REC) and databases (REDB).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # `spec` of clusters and databases: the schema of the REC/REDB CRDs, from the one field definition.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "targets.api.schema_hooks.add_operator_specs"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CONTROLPLANE_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
