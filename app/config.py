"""Settings from the environment, with embedded defaults that run on one laptop."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _secret_key(production: bool) -> str:
    """Use SECRET_KEY; in development generate one once and keep it under instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError("SECRET_KEY must be set in production (APP_ENV=production).")
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(url: str | None) -> str:
    """Normalise a DATABASE_URL so that PostgreSQL goes through psycopg 3."""
    if not url:
        INSTANCE.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE / 'palm.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_env() -> dict:
    """Build the Flask config mapping from environment variables."""
    env = os.environ.get("APP_ENV", "development")
    production = env == "production"
    redis_url = os.environ.get("REDIS_URL") or None
    upload_mb = _int("UPLOAD_MAX_MB", 10)
    return {
        "APP_ENV": env,
        # Debug mode only when asked for (FLASK_DEBUG=1, or `make run`, which passes --debug), as
        # `flask run` already does; development does not need it (see DEV_OUTBOX).
        "DEBUG": _bool("FLASK_DEBUG"),
        # Development means the /dev/outbox page however the server is started (`make run`,
        # `flask run` without --debug, gunicorn); never in production or any other APP_ENV.
        "DEV_OUTBOX": env == "development",
        "SECRET_KEY": _secret_key(production),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL")),
        # hide_parameters: a failed statement's error (and so the log) never shows its values,
        # which may be phone numbers, ID numbers or SMS codes. No pool_pre_ping: app/core/dbping.py
        # checks a pooled connection only after it has sat idle.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # While Redis is away, each process counts in memory and moves back by itself (README).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}
        if redis_url else {},
        "SMS_BACKEND": os.environ.get("SMS_BACKEND", "console"),
        "SMS_SIGN_NAME": os.environ.get("SMS_SIGN_NAME", "掌上办"),
        "ALIYUN_ACCESS_KEY_ID": os.environ.get("ALIYUN_ACCESS_KEY_ID"),
        "ALIYUN_ACCESS_KEY_SECRET": os.environ.get("ALIYUN_ACCESS_KEY_SECRET"),
        "ALIYUN_SMS_SIGN_NAME": os.environ.get("ALIYUN_SMS_SIGN_NAME"),
        "ALIYUN_SMS_TEMPLATES": os.environ.get("ALIYUN_SMS_TEMPLATES"),
        "ALIYUN_SMS_ENDPOINT": os.environ.get("ALIYUN_SMS_ENDPOINT",
                                              "https://dysmsapi.aliyuncs.com/"),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(INSTANCE / "uploads")),
        # 保存为图片 of the 一次性告知单 draws Chinese with this font (Debian: fonts-wqy-microhei);
        # nothing is downloaded at run time.
        "CJK_FONT": os.environ.get("CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
        "UPLOAD_MAX_BYTES": upload_mb * 1024 * 1024,
        # The whole request may carry one photo plus form fields.
        "MAX_CONTENT_LENGTH": (upload_mb + 2) * 1024 * 1024,
        **_application_settings(),
        **_reading_settings(),
        **_licence_settings(),
        **_storage_settings(),
        "SERVER_NAME": os.environ.get("SERVER_NAME") or None,
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME",
                                               "https" if production else "http"),
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": _int("REMEMBER_DAYS", 30) * 86400,
        "PROXY_FIX": _int("PROXY_FIX", 0),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session; no timeout that hurries people
        "SMS_CODE_TTL_SECONDS": _int("SMS_CODE_TTL_SECONDS", 300),
        "SMS_CODE_MAX_TRIES": _int("SMS_CODE_MAX_TRIES", 3),
        "SMS_LIMITS_PER_PHONE": os.environ.get("SMS_LIMITS_PER_PHONE", "1/minute;5/hour;10/day"),
        "SMS_LIMITS_PER_IP": os.environ.get("SMS_LIMITS_PER_IP", "20/hour"),
        "LOGIN_LIMITS_PER_IP": os.environ.get("LOGIN_LIMITS_PER_IP", "30/hour"),
        "STAFF_LOCKOUT_FAILURES": _int("STAFF_LOCKOUT_FAILURES", 5),
        "STAFF_LOCKOUT_MINUTES": _int("STAFF_LOCKOUT_MINUTES", 15),
        "OUTBOX_SWEEP_SECONDS": _int("OUTBOX_SWEEP_SECONDS", 10),
        **_worker_settings(),
        "JOB_RETRY_INTERVALS": [
            int(s) for s in os.environ.get("JOB_RETRY_INTERVALS", "10,60,300").split(",")],
        "QUIET_HOURS": os.environ.get("QUIET_HOURS", "22-8"),
        "TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        "LINK_TTL_DAYS": _int("LINK_TTL_DAYS", 7),
        **_sso_settings(),
        **_booking_settings(),
        **_progress_settings(),
        **_feedback_settings(),
        **_rating_settings(),
        **_catalog_settings(),
        **_consent_settings(),
        "LOG_FORMAT": _log_format(production),
        # The bearer token /metrics asks for (unset: loopback and private networks only).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
    }


def _log_format(production: bool) -> str:
    """LOG_FORMAT, or json in production and text elsewhere (checked when the app starts)."""
    return (os.environ.get("LOG_FORMAT") or ("json" if production else "text")).strip().lower()


def metrics_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR: read when asked, since deploy/gunicorn.conf.py sets it after the
    app's modules are imported."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _rating_settings() -> dict:
    """好差评 deadlines in working days and the reminder hour, by the national rules."""
    names = {"RATING_WINDOW_WORKDAYS": 5, "RATING_CONTACT_WORKDAYS": 1,
             "RATING_FIX_SIMPLE_WORKDAYS": 1, "RATING_FIX_COMPLEX_WORKDAYS": 15,
             "RATING_VERIFY_WORKDAYS": 5, "RATING_REMIND_HOUR": 9}
    return {name: _int(name, default) for name, default in names.items()}


# The public pages' in-process catalog copy (app/catalog/cache.py), in seconds.
CATALOG_TIMINGS = {"CATALOG_CACHE_SECONDS": 2, "VIEW_FLUSH_SECONDS": 10,
                   "POPULAR_REFRESH_SECONDS": 60}


def _catalog_settings() -> dict:
    """Catalog cache timings (None when unset: see complete()), and how long nginx may keep a
    public page (PUBLIC_PAGE_SECONDS; phones always revalidate, see app/catalog/httpcache.py)."""
    settings = {name: float(os.environ[name]) if os.environ.get(name) else None
                for name in CATALOG_TIMINGS}
    settings["PUBLIC_PAGE_SECONDS"] = _int("PUBLIC_PAGE_SECONDS", 5)
    # Each worker keeps a shared page's HTML under its ETag (app/catalog/httpcache.py)
    reuse = os.environ.get("PUBLIC_PAGE_REUSE")
    settings["PUBLIC_PAGE_REUSE"] = _bool("PUBLIC_PAGE_REUSE") if reuse else None
    return settings


def complete(config) -> None:
    """Settings whose default depends on others, once the app's own overrides are in: the
    catalog timings are 0 and public pages are not reused under test (every request sees every
    change), and static files, whose URLs are versioned, are cached for a year."""
    for name, default in CATALOG_TIMINGS.items():
        if config.get(name) is None:
            config[name] = 0 if config.get("TESTING") else default
    if config.get("PUBLIC_PAGE_REUSE") is None:  # tests that change settings see them at once
        config["PUBLIC_PAGE_REUSE"] = not config.get("TESTING")
    if config.get("SEND_FILE_MAX_AGE_DEFAULT") is None:
        config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 86400


def _progress_settings() -> dict:
    """Progress lookup limits and Web Push (off unless all three VAPID settings are set)."""
    env = os.environ.get
    return {"LOOKUP_LIMITS_PER_NUMBER": env("LOOKUP_LIMITS_PER_NUMBER", "1/minute;5/hour;10/day"),
            "LOOKUP_LIMITS_PER_IP": env("LOOKUP_LIMITS_PER_IP", "20/hour"),
            "LOOKUP_CHECKS_PER_NUMBER": env("LOOKUP_CHECKS_PER_NUMBER", "10/hour"),
            "LOOKUP_CHECKS_PER_IP": env("LOOKUP_CHECKS_PER_IP", "30/hour"),
            "LOOKUP_GRANT_MINUTES": _int("LOOKUP_GRANT_MINUTES", 60),
            "VAPID_PUBLIC_KEY": env("VAPID_PUBLIC_KEY") or None,
            "VAPID_PRIVATE_KEY": env("VAPID_PRIVATE_KEY") or None,
            "VAPID_SUBJECT": env("VAPID_SUBJECT") or None}


def _consent_settings() -> dict:
    """The versions in force of 《用户服务协议》, 《隐私政策》 and the sensitive-information rules
    (app/auth/consent.py): a new date asks everyone to agree again."""
    names = ("TERMS_VERSION", "PRIVACY_VERSION", "SENSITIVE_CONSENT_VERSION")
    return {name: os.environ.get(name, "2026-12-01") for name in names}


def _feedback_settings() -> dict:
    """办不成事 clocks in working days: 0 means the same working day it came in."""
    names = {"FEEDBACK_REPLY_WORKDAYS": 0, "FEEDBACK_RESOLVE_WORKDAYS": 5}
    return {name: _int(name, default) for name, default in names.items()}


def _storage_settings() -> dict:
    """Where photos live: PHOTO_STORAGE=local (UPLOAD_DIR) or s3 (a bucket every machine shares)."""
    names = {"PHOTO_STORAGE": "local", "S3_ENDPOINT_URL": None, "S3_PUBLIC_ENDPOINT_URL": None,
             "S3_BUCKET": None, "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": None,
             "S3_SECRET_ACCESS_KEY": None, "S3_ADDRESSING_STYLE": "auto", "S3_SERVE": "proxy"}
    settings = {name: os.environ.get(name) or default for name, default in names.items()}
    settings["PHOTO_STORAGE"] = settings["PHOTO_STORAGE"].strip().lower()
    settings["S3_URL_SECONDS"] = _int("S3_URL_SECONDS", 300)
    return settings


def _application_settings() -> dict:
    """Photo pre-review: caps, retention and reuse (DESIGN.md "Photos")."""
    names = {"UPLOAD_MAX_PIXELS": 50_000_000, "APPLICATION_MAX_PHOTOS": 30,
             "PHOTO_RETENTION_DAYS": 180, "MATERIAL_REUSE_DAYS": 365}
    return {name: _int(name, default) for name, default in names.items()}


def _licence_settings() -> dict:
    """电子证照: where licences are looked up (app/licences/sources.py) and how long a lookup may
    take before the material falls back to a photo; a 亮证 token's life."""
    return {"LICENCE_SOURCES": os.environ.get("LICENCE_SOURCES", "own"),
            "LICENCE_HTTP_URL": os.environ.get("LICENCE_HTTP_URL") or None,
            "LICENCE_HTTP_TOKEN": os.environ.get("LICENCE_HTTP_TOKEN") or None,
            "LICENCE_LOOKUP_SECONDS": float(os.environ.get("LICENCE_LOOKUP_SECONDS", "2")),
            "LICENCE_SHOW_SECONDS": _int("LICENCE_SHOW_SECONDS", 300),
            # failed 亮证 checks per staff member: guessing codes is slow
            "LICENCE_VERIFY_LIMIT": os.environ.get("LICENCE_VERIFY_LIMIT", "20/minute")}


def _reading_settings() -> dict:
    """智能预审: PHOTO_READING=0 turns the worker's reading of document photos off (the phone's
    own check of light and sharpness stays); OCR_THREADS is onnxruntime's threads per reading."""
    return {"PHOTO_READING": _bool("PHOTO_READING", True),
            "OCR_THREADS": _int("OCR_THREADS", 2)}


def _booking_settings() -> dict:
    """Booking rules (DESIGN.md "Booking"); every number a setting."""
    names = {"BOOKING_DAYS_AHEAD": 5, "BOOKING_MIN_LEAD_MINUTES": 60,
             "BOOKING_CANCEL_LEAD_MINUTES": 120, "BOOKING_NO_SHOW_LIMIT": 2,
             "BOOKING_CANCEL_LIMIT": 5, "BOOKING_COUNT_DAYS": 30, "BOOKING_BAR_DAYS": 90,
             "BOOKING_RECORD_DAYS": 90,  # the record 我的 shows the citizen
             "BOOKING_REMINDER_HOUR": 18, "BOOKING_PRIORITY_AGE": 60,
             "BOOKING_SERVICE_MINUTES": 8, "BOOKING_POLL_SECONDS": 3}
    return {name: _int(name, default) for name, default in names.items()}


def _sso_settings() -> dict:
    """Sign-in through the unified identity provider (OIDC) and a WeChat-style provider."""
    names = {"OIDC_ISSUER": None, "OIDC_CLIENT_ID": None, "OIDC_CLIENT_SECRET": None,
             "OIDC_SCOPES": "openid profile phone", "OIDC_PHONE_CLAIM": "phone_number",
             "OIDC_NAME_CLAIM": "name", "OIDC_VERIFIED_NAME_CLAIM": "name_verified",
             "WECHAT_APP_ID": None, "WECHAT_APP_SECRET": None,
             "WECHAT_SCOPE": "snsapi_userinfo",
             "WECHAT_AUTHORIZE_URL": "https://open.weixin.qq.com/connect/oauth2/authorize",
             "WECHAT_API_BASE": "https://api.weixin.qq.com"}
    return {name: os.environ.get(name) or default for name, default in names.items()}


def _worker_settings() -> dict:
    """How fast a dead worker's jobs come back, and the SMS sending knobs (see README)."""
    return {"JOB_STUCK_SECONDS": _int("JOB_STUCK_SECONDS", 60),
            "WORKER_TTL": _int("WORKER_TTL", 60),
            "WORKER_MAINTENANCE_SECONDS": _int("WORKER_MAINTENANCE_SECONDS", 60),
            "SMS_TIMEOUT": float(os.environ.get("SMS_TIMEOUT", 10)),
            "SMS_BATCH_SIZE": _int("SMS_BATCH_SIZE", 100),
            "SMS_RECEIPT_TOKEN": os.environ.get("SMS_RECEIPT_TOKEN") or None}


def check_production(config: dict) -> None:
    """Refuse to start a production app on development parts."""
    if config.get("APP_ENV") != "production":
        return
    problems = []
    if config.get("DEBUG"):
        problems.append("FLASK_DEBUG must be off")
    if config.get("DEV_OUTBOX"):
        problems.append("the development outbox page must be off")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append("DATABASE_URL must point at PostgreSQL")
    if not config.get("REDIS_URL"):
        problems.append("REDIS_URL must be set")
    if config.get("SMS_BACKEND") == "console":
        problems.append("SMS_BACKEND must be a real provider")
    if "change-me" in config["SECRET_KEY"] or len(config["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY must be a long random value, not the example")
    problems += storage_problems(config)
    problems += redis_problems(config)
    if problems:
        raise RuntimeError("Refusing to start in production: " + "; ".join(problems))


def redis_problems(config: dict) -> list[str]:
    """An evicting Redis could drop queued jobs. A Redis that can't be asked right now is no
    reason to stay down: the outbox keeps every job until it is back (and the worker checks too)."""
    if not config.get("REDIS_URL"):
        return []
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        client = Redis.from_url(config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1)
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except (RedisError, OSError):  # unreachable, or CONFIG disabled (some managed Redis)
        return []
    if policy in (None, "noeviction"):
        return []
    return [f"Redis maxmemory-policy must be noeviction, not {policy} (jobs could be evicted)"]


def storage_problems(config: dict) -> list[str]:
    """What is wrong with the photo storage settings (local disk or an S3 bucket)."""
    kind = config.get("PHOTO_STORAGE", "local")
    if kind == "local":
        return [] if config.get("UPLOAD_DIR") else ["UPLOAD_DIR must be set"]
    if kind != "s3":
        return ["PHOTO_STORAGE must be local or s3"]
    problems = [f"{name} must be set for PHOTO_STORAGE=s3" for name in (
        "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY") if not config.get(name)]
    if config.get("S3_SERVE") not in {"proxy", "redirect"}:
        problems.append("S3_SERVE must be proxy or redirect")
    if config.get("S3_ADDRESSING_STYLE") not in {"auto", "path", "virtual"}:
        problems.append("S3_ADDRESSING_STYLE must be auto, path or virtual")
    if not 1 <= int(config.get("S3_URL_SECONDS") or 0) <= 3600:
        problems.append("S3_URL_SECONDS must be between 1 and 3600 (short-lived links)")
    return problems
