"""Every setting of the panel, read from the environment with a safe default.

The README's configuration table lists the same names; keep the two in step.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from panel.oms.definitions import InvalidTimeout, parse_timeout

DEV_SECRET_WARNING = (
    "PANEL_SECRET_KEY is not set: using a random development key. Sessions end when the "
    "process restarts; set PANEL_SECRET_KEY in production."
)
# The seller on invoices and credit notes until PANEL_SELLER names the real one.
DEFAULT_SELLER = "Order Panel demo shop; Example Street 1; 10115 Berlin; Germany"


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


def _positive_int(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise RuntimeError(f"{name} must be 1 or more, got {value}")
    return value


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


def duration(name: str, raw: str) -> timedelta:
    """Read a setting's duration the way process timeouts are read ("5 minutes", "30 days",
    "1 day 12 hours"); RuntimeError naming the setting when it is not one, or not positive."""
    try:
        value = parse_timeout(raw)
    except InvalidTimeout as exc:
        raise RuntimeError(f"{name}: {exc}") from None
    if value <= timedelta():
        raise RuntimeError(f"{name}: {raw!r} is not a positive duration")
    return value


def durations_by_process(name: str, raw: str) -> dict[str, timedelta]:
    """Parse ``Process01=2 days, Other01=12 hours`` (process names keep their case)."""
    result: dict[str, timedelta] = {}
    for part in raw.split(","):
        if not part.strip():
            continue
        process, sep, value = part.partition("=")
        if not sep or not process.strip() or not value.strip():
            raise RuntimeError(f"{name}: expected process=duration, got {part.strip()!r}")
        result[process.strip()] = duration(f"{name} ({process.strip()})", value)
    return result


def trusted_hosts(raw: str | None) -> list[str] | None:
    """Parse PANEL_TRUSTED_HOSTS (``panel.example.com,.example.org``) into Flask's
    TRUSTED_HOSTS; unset or blank is None, which lets any host through."""
    names = _names((raw or "").lower())  # Werkzeug compares them case-sensitively
    for name in names:
        if any(char in name for char in "/:@*") or any(char.isspace() for char in name):
            raise RuntimeError(
                f"PANEL_TRUSTED_HOSTS: {name!r} is not a host name. List names without scheme, "
                "port or path, comma-separated: panel.example.com, or .example.org for that "
                "domain and all its subdomains.")
    return list(names) or None


def address_lines(raw: str) -> tuple[str, ...]:
    """Split a multi-line setting into its lines: real line breaks, or ``\\n`` written out
    (an environment file holds one line per variable); blank lines are dropped."""
    return tuple(line.strip() for line in raw.replace("\\n", "\n").splitlines()
                 if line.strip())


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "panel.sqlite3")


ENVIRONMENTS = ("development", "production")


def _environment(raw: str | None) -> str:
    value = (raw or "development").strip().lower()
    if value not in ENVIRONMENTS:
        raise RuntimeError(f"PANEL_ENV must be 'development' or 'production', got {raw!r}")
    return value


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping from ``PANEL_*`` and ``MAIL_*`` variables."""
    env = os.environ
    secret = env.get("PANEL_SECRET_KEY", "")
    panel_env = _environment(env.get("PANEL_ENV"))
    config = {
        "PANEL_ENV": panel_env,
        "SECRET_KEY": secret or secrets.token_hex(32),
        "PANEL_SECRET_KEY_IS_GENERATED": not secret,
        "SQLALCHEMY_DATABASE_URI": env.get("PANEL_DATABASE_URL")
        or default_database_url(instance_path),
        "PANEL_PROXY_HOPS": _int("PANEL_PROXY_HOPS", 0),
        # Host names the panel answers to (after ProxyFix: X-Forwarded-Host); None is any.
        "TRUSTED_HOSTS": trusted_hosts(env.get("PANEL_TRUSTED_HOSTS")),
        "PANEL_DEFAULT_PROCESS": env.get("PANEL_DEFAULT_PROCESS", "DefaultOrder01"),
        "PANEL_PAYMENT_PROCESSES": parse_mapping(env.get("PANEL_PAYMENT_PROCESSES", "")),
        "PANEL_PAGE_SIZES": (10, 25, 50, 100),
        "PANEL_PLUGINS": _names(env.get("PANEL_PLUGINS", "")),
        "PANEL_DISABLED_PLUGINS": _names(env.get("PANEL_DISABLED_PLUGINS", "")),
        "PANEL_TRACE_PLUGINS": _bool(env.get("PANEL_TRACE_PLUGINS")),
        "PANEL_CLAIM_WINDOW_DAYS": _int("PANEL_CLAIM_WINDOW_DAYS", 0),
        # The seller printed on invoices and credit notes: its lines, separated by ";".
        "PANEL_SELLER": tuple(line.strip() for line in (
            env.get("PANEL_SELLER") or DEFAULT_SELLER).split(";") if line.strip()),
        # Returns: the event a return triggers is the first of these a process has, and the
        # address printed on return slips (lines).
        "PANEL_RETURN_EVENTS": _names(env.get("PANEL_RETURN_EVENTS") or "start-return,return"),
        "PANEL_RETURN_ADDRESS": address_lines(env.get("PANEL_RETURN_ADDRESS", "")),
        # View Order's quantities: the events that cancel and that ship an item, in any
        # process (the last of them in an item's history says which it is).
        "PANEL_CANCEL_EVENTS": _names(env.get("PANEL_CANCEL_EVENTS") or "cancel"),
        "PANEL_SHIP_EVENTS": _names(env.get("PANEL_SHIP_EVENTS") or "ship"),
        # How often the timeout sweep runs (cron or `oms worker`): a timeout overdue by more
        # than this is listed on Stuck items.
        "PANEL_SWEEP_INTERVAL": duration("PANEL_SWEEP_INTERVAL",
                                         env.get("PANEL_SWEEP_INTERVAL") or "5 minutes"),
        # How long an item may stay in a state that is not final before Stuck items lists
        # it: per process, and for the processes not named.
        "PANEL_STUCK_AFTER": durations_by_process("PANEL_STUCK_AFTER",
                                                  env.get("PANEL_STUCK_AFTER", "")),
        "PANEL_STUCK_AFTER_DEFAULT": duration("PANEL_STUCK_AFTER_DEFAULT",
                                              env.get("PANEL_STUCK_AFTER_DEFAULT") or "30 days"),
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
        # Development and demos only: the folder where the demo's mail catcher keeps what it
        # receives; set, the panel shows those mails on its Caught mail page.
        "PANEL_MAIL_CATCHER": (env.get("PANEL_MAIL_CATCHER") or "").strip() or None,
        # The outbox through an outage: this many quick tries (1, 2, 4, 8 minutes apart),
        # then one try per interval until the period since the first try is over; only then
        # is a message undeliverable (Administration > Outbox).
        "PANEL_MAIL_QUICK_TRIES": _positive_int("PANEL_MAIL_QUICK_TRIES", 5),
        "PANEL_MAIL_RETRY_INTERVAL": duration("PANEL_MAIL_RETRY_INTERVAL",
                                              env.get("PANEL_MAIL_RETRY_INTERVAL") or "1 hour"),
        "PANEL_MAIL_GIVE_UP_AFTER": duration("PANEL_MAIL_GIVE_UP_AFTER",
                                             env.get("PANEL_MAIL_GIVE_UP_AFTER") or "3 days"),
        # No pool_pre_ping: panel.db_liveness drops closed connections without a round trip.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Production is served over https (deploy/nginx): cookies are Secure unless told not.
        "SESSION_COOKIE_SECURE": _bool(env.get("PANEL_SECURE_COOKIES"),
                                       default=panel_env == "production"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int("PANEL_MAX_REQUEST_BYTES", 5 * 1024 * 1024),
    }
    return config


def check_production(config) -> None:
    """Refuse to start in production with settings that only suit development.

    Raises RuntimeError naming every problem and what to set; does nothing outside
    ``PANEL_ENV=production``.
    """
    if config.get("PANEL_ENV") != "production":
        return
    problems = []
    if config.get("PANEL_SECRET_KEY_IS_GENERATED"):
        problems.append(
            "PANEL_SECRET_KEY is not set, so every process would sign sessions with its own "
            "random key. Set PANEL_SECRET_KEY to a long random value, the same on every "
            "machine (for example the output of "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    if not config.get("TRUSTED_HOSTS"):
        problems.append(
            "PANEL_TRUSTED_HOSTS is not set, so the panel would answer to any Host header and "
            "build its links from it (redirects, an order's url in the API). Set "
            "PANEL_TRUSTED_HOSTS to the host name(s) the panel is served under, "
            "comma-separated (for example panel.example.com)."
        )
    if config.get("PANEL_MAIL_CATCHER"):
        problems.append(
            "PANEL_MAIL_CATCHER is set, which shows every mail the demo's mail catcher keeps "
            "on a page of the panel: it is for development and demos only. Unset "
            "PANEL_MAIL_CATCHER, and set MAIL_SERVER (and MAIL_PORT) to the real SMTP server."
        )
    problem = _sqlite_problem(config.get("SQLALCHEMY_DATABASE_URI", ""))
    if problem:
        problems.append(problem)
    if problems:
        raise RuntimeError(
            "Order Panel will not start with PANEL_ENV=production:\n- " + "\n- ".join(problems)
        )


def check_processes(config, processes: Collection[str]) -> None:
    """Refuse to start when PANEL_DEFAULT_PROCESS, PANEL_PAYMENT_PROCESSES or
    PANEL_STUCK_AFTER names a process that no plugin supplies, instead of failing the first
    order that would get it (or listing no item of it as stuck).

    Raises RuntimeError naming each setting and value at fault, and the processes there are.
    """
    problems = []
    default = config.get("PANEL_DEFAULT_PROCESS")
    if default not in processes:
        problems.append(f"PANEL_DEFAULT_PROCESS names the process {default!r}, which no "
                        "plugin supplies.")
    for method, name in config.get("PANEL_PAYMENT_PROCESSES", {}).items():
        if name not in processes:
            problems.append(f"PANEL_PAYMENT_PROCESSES maps the payment method {method!r} to "
                            f"the process {name!r}, which no plugin supplies.")
    for name in config.get("PANEL_STUCK_AFTER", {}):
        if name not in processes:
            problems.append(f"PANEL_STUCK_AFTER sets a limit for the process {name!r}, which "
                            "no plugin supplies.")
    if problems:
        known = ", ".join(sorted(processes)) or "none"
        raise RuntimeError("Order Panel will not start:\n- " + "\n- ".join(problems) +
                           f"\nThe processes the plugins supply: {known}.")


def _sqlite_problem(uri: str) -> str | None:
    """Why the process cannot write the SQLite database file ``uri`` names, or None."""
    try:
        url = make_url(uri)
    except ArgumentError:
        return None  # SQLAlchemy names a malformed URL itself, when it connects
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database).absolute()
    fix = ("Set PANEL_DATABASE_URL to a PostgreSQL database (postgresql+psycopg://...), or "
           "to an SQLite file in a directory this process may write "
           "(sqlite:////var/lib/order-panel/panel.sqlite3).")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # SQLite writes a journal next to the file: the directory must take new files...
        with tempfile.TemporaryFile(dir=path.parent):
            pass
        # ...and the file itself must open for writing (append mode changes nothing).
        if path.exists():
            with open(path, "ab"):
                pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return (f"the SQLite database {str(path)!r} cannot be written by this process "
                f"({reason}). {fix}")
    return None
