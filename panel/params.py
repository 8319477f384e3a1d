"""Reading ids, days and page numbers from a request: one parser for each kind of value.

Every view reads these through here, from the URL path (the ``int`` converter), the query
string or a form, so that each kind of value means the same everywhere:

- an id is written in the ASCII digits 0-9 only (``str.isdigit`` and ``int`` also take
  ``²`` and ``９``) and lies between 1 and MAX_ID, the largest value the id columns hold;
- a day is ``YYYY-MM-DD`` in ASCII digits between FIRST_DAY and LAST_DAY, a range in which
  the searches may add a day or a time zone without leaving Python's dates;
- a page number is a count from the first page up to MAX_PAGE pages further.

Anything else raises ParameterError, whose message names the parameter and its value, in
the request's language (the parameter's name as the URL spells it, a field's label as the
caller passes it, translated).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from werkzeug.routing import BaseConverter, ValidationError

from panel.i18n import _, ngettext

MAX_ID = 2_147_483_647  # the id columns are 32-bit INTEGER on PostgreSQL
MAX_PAGE = 1_000_000
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)
SHOWN_CHARACTERS = 40

_DIGITS = re.compile(r"[0-9]+")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class ParameterError(ValueError):
    """A request parameter that does not hold what it should; the message says which."""


def shown(value: str) -> str:
    """Quote a value for a message, shortened: messages travel in flashes, a flash lives in
    the session cookie, and browsers ignore a cookie over 4 KB (the message with it)."""
    if len(value) > SHOWN_CHARACTERS:
        value = value[:SHOWN_CHARACTERS] + "…"
    return repr(value)


def parse_number(text: str, low: int, high: int) -> int | None:
    """Return the whole number ``text`` spells in ASCII digits when it lies in
    ``low``..``high``, else None (signs, spaces, other scripts' digits, too large)."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(high)):  # also keeps int() away from huge strings
        return None
    number = int(significant)
    return number if low <= number <= high else None


def parse_id(text: str) -> int | None:
    """Return the id ``text`` spells, or None when it is not one (see the module's doc)."""
    return parse_number(text, 1, MAX_ID)


def read_id(name: str, text: str) -> int:
    """Return the id in parameter ``name``; raise ParameterError naming it if there is none."""
    number = parse_id(text)
    if number is None:
        raise ParameterError(_("%(name)s: %(value)s is not an id (a number from 1 to %(max)s in "
                               "the digits 0-9)", name=name, value=shown(text), max=MAX_ID))
    return number


def read_ids(name: str, values: Iterable[str]) -> list[int]:
    """Return the ids of a repeated parameter, such as ticked checkboxes, in their order."""
    return [read_id(name, value) for value in values]


def read_item_event(name: str, text: str) -> tuple[int, str]:
    """Split an item's own event button, ``<item id>:<event>``, into the id and the event."""
    item, colon, event = text.partition(":")
    if not colon:
        raise ParameterError(_("%(name)s: %(value)s is not <item id>:<event>", name=name,
                               value=shown(text)))
    return read_id(name, item), event


def read_day(label: str, text: str) -> date | None:
    """Return the day in a date field (None when it is left blank); raise ParameterError,
    with the field's ``label``, when it holds anything but a day the panel handles."""
    text = text.strip()
    if not text:
        return None
    day = _calendar_day(text)
    if day is None:
        raise ParameterError(_("%(label)s: %(value)s is not a date (YYYY-MM-DD)", label=label,
                               value=shown(text)))
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ParameterError(_("%(label)s: %(value)s is outside the dates the panel handles "
                               "(%(first)s to %(last)s)", label=label, value=shown(text),
                               first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
    return day


def _calendar_day(text: str) -> date | None:
    match = _DAY.fullmatch(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:  # 2026-02-30, month 13, year 0
        return None


def read_page(name: str, text: str, first: int = 1) -> int:
    """Return the page number in parameter ``name``, counting pages from ``first``."""
    last = first + MAX_PAGE - 1
    number = parse_number(text, first, last)
    if number is None:
        raise ParameterError(_("%(name)s: %(value)s is not a page number (%(first)s to "
                               "%(last)s)", name=name, value=shown(text), first=first,
                               last=last))
    return number


def read_page_size(name: str, text: str, sizes: Iterable[int]) -> int:
    """Return the page size in parameter ``name``, one of ``sizes``."""
    sizes = tuple(sizes)
    number = parse_number(text, min(sizes), max(sizes))
    if number not in sizes:
        raise ParameterError(_("%(name)s: %(value)s is not one of %(allowed)s", name=name,
                               value=shown(text),
                               allowed=", ".join(str(size) for size in sizes)))
    return number


MAX_AMOUNT = 2_147_483_647  # in minor units: the money columns are 32-bit INTEGER
_AMOUNT = re.compile(r"([0-9]+)(?:[.,]([0-9]+))?")


def read_amount(label: str, text: str, digits: int) -> int | None:
    """Return the money in a form field, in minor units of a currency with ``digits`` digits
    after the decimal point (``"12.34"`` or ``"12,34"`` is 1234 for EUR); None when it is
    left blank. Raise ParameterError, with the field's ``label``, for a sign, grouping, more
    decimals than the currency has, or an amount past MAX_AMOUNT."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("-"):
        raise ParameterError(_("%(label)s: %(value)s is negative; an amount must not be",
                               label=label, value=shown(text)))
    match = _AMOUNT.fullmatch(text)
    if match is None:
        example = "12.34" if digits else "1234"
        raise ParameterError(_("%(label)s: %(value)s is not an amount (digits, such as "
                               "%(example)s, without a currency or grouping)", label=label,
                               value=shown(text), example=example))
    whole, fraction = match.group(1).lstrip("0") or "0", match.group(2) or ""
    if len(fraction) > digits:
        raise ParameterError(ngettext("%(label)s: %(value)s has more than %(num)d decimal place",
                                      "%(label)s: %(value)s has more than %(num)d decimal "
                                      "places", digits, label=label, value=shown(text)))
    if len(whole) > len(str(MAX_AMOUNT)):  # also keeps int() away from huge strings
        raise ParameterError(_("%(label)s: %(value)s is too large", label=label,
                               value=shown(text)))
    amount = int(whole) * 10**digits + int(fraction.ljust(digits, "0") or 0)
    if amount > MAX_AMOUNT:
        raise ParameterError(_("%(label)s: %(value)s is too large", label=label,
                               value=shown(text)))
    return amount


class IdConverter(BaseConverter):
    """The ``<int:...>`` of every route: an id as read_id takes it. Any other path segment
    matches no route, so the answer is 404, not an overflow in the database driver."""

    regex = r"[0-9]+"
    weight = 50  # as werkzeug's own number converters, so rules sort the same

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))
