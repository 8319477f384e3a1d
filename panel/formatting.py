"""How money, dates, numbers and durations read on the pages and in exports, in the
language of the request (panel.i18n): English "€1,234.56", "2026-12-03 16:40 UTC", "12,345";
German "1.234,56 €", "03.12.2026 16:40 UTC", "12.345". Documents and mails pass the
language they are written in.
"""
from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from babel import Locale
from babel.numbers import format_decimal, get_currency_symbol
from flask import Flask

from panel.i18n import current_language, ngettext

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


_LOCALES: dict[str, Locale] = {}
# strftime patterns of a date and time, by language; English keeps ISO 8601 dates, which
# read the same in the US and the UK.
_DATETIME = {"en": "%Y-%m-%d %H:%M UTC", "de": "%d.%m.%Y %H:%M UTC"}
_DATE = {"en": "%Y-%m-%d", "de": "%d.%m.%Y"}


def _locale(language: str) -> Locale:
    if language not in _LOCALES:
        _LOCALES[language] = Locale.parse(language)
    return _LOCALES[language]


@functools.lru_cache(maxsize=256)
def _money_shape(language: str, currency: str) -> tuple[str, str, str, str, str, str]:
    """How the language writes an amount of the currency, read once from its CLDR data:
    (prefix, suffix, negative prefix, negative suffix, group separator, decimal sign).
    Babel's format_currency takes 15 us an amount; a page of amounts shows it."""
    locale = _locale(language)
    pattern = locale.currency_formats["standard"]
    symbols = locale.number_symbols["latn"]
    symbol = get_currency_symbol(currency, locale)
    prefix, negative_prefix = (part.replace("¤", symbol) for part in pattern.prefix)
    suffix, negative_suffix = (part.replace("¤", symbol) for part in pattern.suffix)
    negative_prefix = negative_prefix.replace("-", symbols["minusSign"])
    return prefix, suffix, negative_prefix, negative_suffix, symbols["group"], symbols["decimal"]


def _money_in(language: str, currency: str, amount: int, exponent: int) -> str:
    prefix, suffix, negative_prefix, negative_suffix, group, decimal = \
        _money_shape(language, currency)
    major, minor = divmod(abs(amount), 10**exponent) if exponent else (abs(amount), 0)
    number = f"{major:,}".replace(",", group) + (
        f"{decimal}{minor:0{exponent}d}" if exponent else "")
    if amount < 0:
        return f"{negative_prefix}{number}{negative_suffix}"
    return f"{prefix}{number}{suffix}"


def format_money(amount: int | None, currency: str, language: str | None = None) -> str:
    """Format minor units as a price: ``format_money(123456, "EUR") == "€1,234.56"`` in
    English, ``"1.234,56 €"`` in German."""
    if amount is None:
        return ""
    language = language or current_language()
    exponent = minor_digits(currency)
    if language != "en":
        return _money_in(language, currency, amount, exponent)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent) if exponent else (abs(amount), 0)
    number = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(currency)
    if symbol is None:
        return f"{sign}{number} {currency}"
    return f"{sign}{symbol}{number}"


def format_datetime(value: datetime | None, language: str | None = None) -> str:
    """A moment in UTC, to the minute, the date as the language writes it."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    pattern = _DATETIME.get(language or current_language(), _DATETIME["en"])
    return value.astimezone(UTC).strftime(pattern)


def format_date(value, language: str | None = None) -> str:
    """A day (a date, or a moment's day in UTC) as the language writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value.strftime(_DATE.get(language or current_language(), _DATE["en"]))


def format_number(value: int | float | None, language: str | None = None) -> str:
    """A count with the language's grouping: 12,345 in English, 12.345 in German."""
    if value is None:
        return ""
    language = language or current_language()
    if language == "en":
        return f"{value:,}"
    return format_decimal(value, locale=_locale(language))


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
    parts = [ngettext("%(num)d day", "%(num)d days", days) if days else "",
             f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{seconds} s" if seconds else ""]
    shown = [part for part in parts if part]
    return " ".join(shown[:2]) or "0 s"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["amount"] = format_amount
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["number"] = format_number
