"""Every setting of the panel, read from the environment with a safe default.

The README's configuration table lists the same names; keep the two in step.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

DEV_SECRET_WARNING = (
    "PANEL_SECRET_KEY is not set: using a random development key. Sessions end when the "
    "process restarts; set PANEL_SECRET_KEY in production."
)


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from None


def _names(raw: str) -> tuple[str, ...]:
    """Split ``a.b, c.d`` into ("a.b", "c.d")."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def parse_mapping(raw: str) -> dict[str, str]:
    """Parse ``key=value,key=value`` into a dict, ignoring blanks."""
    result: dict[str, str] = {}
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise RuntimeError(f"expected key=value, got {part!r}")
        result[key.strip().lower()] = value.strip()
    return result


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "panel.sqlite3")


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping from ``PANEL_*`` and ``MAIL_*`` variables."""
    env = os.environ
    secret = env.get("PANEL_SECRET_KEY", "")
    config = {
        "SECRET_KEY": secret or secrets.token_hex(32),
        "PANEL_SECRET_KEY_IS_GENERATED": not secret,
        "SQLALCHEMY_DATABASE_URI": env.get("PANEL_DATABASE_URL")
        or default_database_url(instance_path),
        "PANEL_PROXY_HOPS": _int("PANEL_PROXY_HOPS", 0),
        "PANEL_DEFAULT_PROCESS": env.get("PANEL_DEFAULT_PROCESS", "DefaultOrder01"),
        "PANEL_PAYMENT_PROCESSES": parse_mapping(env.get("PANEL_PAYMENT_PROCESSES", "")),
        "PANEL_PAGE_SIZES": (10, 25, 50, 100),
        "PANEL_PLUGINS": _names(env.get("PANEL_PLUGINS", "")),
        "PANEL_DISABLED_PLUGINS": _names(env.get("PANEL_DISABLED_PLUGINS", "")),
        "PANEL_TRACE_PLUGINS": _bool(env.get("PANEL_TRACE_PLUGINS")),
        "PANEL_CLAIM_WINDOW_DAYS": _int("PANEL_CLAIM_WINDOW_DAYS", 0),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("PANEL_SESSION_HOURS", 12)),
        "PANEL_LOGIN_MAX_FAILURES": _int("PANEL_LOGIN_MAX_FAILURES", 10),
        "PANEL_LOGIN_WINDOW_MINUTES": _int("PANEL_LOGIN_WINDOW_MINUTES", 15),
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "orders@localhost"),
        "MAIL_SUPPRESS_SEND": _bool(env.get("MAIL_SUPPRESS_SEND")),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 10),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("PANEL_SECURE_COOKIES")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int("PANEL_MAX_REQUEST_BYTES", 5 * 1024 * 1024),
    }
    return config
