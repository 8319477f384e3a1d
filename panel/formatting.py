"""How money, dates and states read on the pages and in exports."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

# Minor units per major unit where it is not 2 (ISO 4217).
_EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "TND": 3}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "PLN": "zł ",
            "SEK": "kr ", "DKK": "kr ", "NOK": "kr ", "CZK": "Kč "}


def minor_digits(currency: str) -> int:
    """How many digits of minor units the currency has after the decimal point (EUR 2, JPY 0)."""
    return _EXPONENTS.get(currency, 2)


def format_amount(amount: int, currency: str) -> str:
    """Minor units as a form field holds them, without symbol or grouping: ``"1234.56"``."""
    exponent = minor_digits(currency)
    if not exponent:
        return str(amount)
    major, minor = divmod(amount, 10**exponent)
    return f"{major}.{minor:0{exponent}d}"


def format_money(amount: int | None, currency: str) -> str:
    """Format minor units as a price: ``format_money(123456, "EUR") == "€1,234.56"``."""
    if amount is None:
        return ""
    exponent = minor_digits(currency)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent) if exponent else (abs(amount), 0)
    number = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(currency)
    if symbol is None:
        return f"{sign}{number} {currency}"
    return f"{sign}{symbol}{number}"


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_duration(value: timedelta | None) -> str:
    """A duration in its two largest units: "3 days 4 h", "2 h 5 min", "40 s"."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 0:
        return "-" + format_duration(-value)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "day" if days == 1 else "days"), (hours, "h"), (minutes, "min"),
             (seconds, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n]
    return " ".join(shown[:2]) or "0 s"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["amount"] = format_amount
    app.jinja_env.filters["datetime"] = format_datetime
