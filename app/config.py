"""Configuration from the environment, with safe defaults for a local run.

Nothing here reads the environment at import time: `load_config` is called by
`create_app`, so tests and tools can set variables before building an app.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(SystemExit):
    """A configuration the app cannot start with.

    A SystemExit so that `flask`, gunicorn and `make run` print the one-line
    message and exit, instead of a stack trace.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"xuncha: configuration error: {message}")
        self.message = message


def _normalise_database_url(url: str) -> str:
    """Accept the usual spellings and pick the psycopg 3 driver for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL {url!r} is not a database URL; "
            "use e.g. sqlite:////path/xuncha.db or postgresql://user@host/dbname"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL uses {parsed.get_backend_name()!r}; Xuncha supports sqlite and postgresql"
        )
    return url


def _local_secret_key(instance_path: Path) -> str:
    """Generate a secret key once per instance folder, so local sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_config(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the app's config from defaults, the environment and explicit overrides."""
    env = os.environ
    overrides = dict(overrides or {})
    production = str(overrides.get("ENV", env.get("XUNCHA_ENV", "development"))) == "production"

    cfg: dict[str, Any] = {
        "ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'xuncha.db'}",
        "PHOTO_DIR": env.get("PHOTO_DIR") or str(instance_path / "photos"),
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # A __Host- cookie must be Secure, Path=/ and without Domain; browsers drop it over plain
        # http, so local http://127.0.0.1 runs keep Flask's default name.
        "SESSION_COOKIE_NAME": "__Host-xuncha" if production else "session",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_NAME": "__Host-xuncha_remember" if production else "remember_token",
        "REMEMBER_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        # Tokens live as long as the session: a phone may sit offline for hours.
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh_Hant",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        # Several app hosts/workers share the login limit only through a shared store:
        # redis://host:6379/0 (see docs/deploy.md); memory:// counts per process.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "xuncha"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Behind nginx: how many proxies set X-Forwarded-For/-Proto. 0 (default) trusts none, so a
        # client talking to the app directly cannot choose the address the login limit counts.
        "PROXY_FIX_X_FOR": int(env.get("PROXY_FIX_X_FOR", 0)),
        "PROXY_FIX_X_PROTO": int(env.get("PROXY_FIX_X_PROTO", 0)),
        # Photos: "local" (files under PHOTO_DIR) or "s3" (an S3-compatible bucket, for several hosts).
        "PHOTO_STORAGE": env.get("PHOTO_STORAGE", "local"),
        "S3_BUCKET": env.get("S3_BUCKET"),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL"),
        "S3_REGION": env.get("S3_REGION"),
        "S3_PREFIX": env.get("S3_PREFIX", ""),
        # Failed logins per client address before it gets 429 for the rest of the window.
        "LOGIN_FAILURE_LIMIT": env.get("LOGIN_FAILURE_LIMIT", "10 per 15 minutes"),
        "SQLITE_BUSY_TIMEOUT_MS": 15000,
        # Photos: the phone sends ≤ 2048 px JPEGs of a few hundred KB; a camera original can be larger.
        "PHOTO_MAX_BYTES": int(env.get("PHOTO_MAX_BYTES", 20 * 1024 * 1024)),
        # 24 MP: any phone camera's default; decoding costs ~4 bytes a pixel and more for PNG.
        "PHOTO_MAX_PIXELS": int(env.get("PHOTO_MAX_PIXELS", 24_000_000)),
        # Photos sent in parts (app/photos/resumable.py): where the parts wait (default PHOTO_DIR/.uploads).
        "PHOTO_UPLOAD_DIR": env.get("PHOTO_UPLOAD_DIR") or None,
    }
    cfg.update(overrides)
    # A request body may carry one photo plus its form fields.
    cfg.setdefault("MAX_CONTENT_LENGTH", cfg["PHOTO_MAX_BYTES"] + 1024 * 1024)
    cfg["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(cfg["SQLALCHEMY_DATABASE_URI"])

    if not cfg.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production set the SECRET_KEY environment variable "
                "to a long random string (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        cfg["SECRET_KEY"] = _local_secret_key(instance_path)

    engine_options: dict[str, Any] = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        connect_args = dict(engine_options.get("connect_args", {}))
        # Pooled connections move between threads (dev server, tests' live server).
        connect_args.setdefault("check_same_thread", False)
        connect_args.setdefault("timeout", cfg["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
        engine_options["connect_args"] = connect_args
    else:
        engine_options.setdefault("pool_pre_ping", True)
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    return cfg
