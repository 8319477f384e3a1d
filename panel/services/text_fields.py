"""What a text field may hold: one line, several lines, or an email address.

The intake schema's field types call these checks, so the API and every back-office form that
validates with those types refuse the same things. Each check raises ``ValueError`` with a
reason a person can act on. The ``*_PATTERN`` constants say the same rules in JSON Schema for
the OpenAPI document; the checks here are what enforces them.

The reasons are in the request's language (they are shown on the page or returned by the API
that asked). A reason of the checks below is what follows the name of the field, "contains a
control character (...)"; characters are named by their Unicode names, in English.
"""
from __future__ import annotations

import unicodedata

from panel.i18n import _

# Embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069) reorder how the text
# around them is shown: "Anna\u202Egpj.exe" displays as "Annaexe.jpg".
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
LINE_BREAKS_AND_TABS = frozenset("\t\n\r")
# Letters and symbols by their category that every font draws as blank space.
BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Control characters have no Unicode name; these are the ones people meet.
CONTROL_NAMES = {
    "\x00": "NUL", "\x07": "bell", "\x08": "backspace", "\t": "tab", "\n": "line feed",
    "\x0b": "vertical tab", "\x0c": "form feed", "\r": "carriage return", "\x1b": "escape",
    "\x7f": "delete", "\x85": "next line",
}
# Characters an address may hold before the @ besides letters and digits (RFC 5322 atext).
EMAIL_LOCAL_SYMBOLS = frozenset("!#$%&'*+-/=?^_`{|}~.")

# The same rules for JSON Schema (ECMA-262 regular expressions, as OpenAPI 3.1 uses).
_CONTROLS = r"\x00-\x1F\x7F-\x9F"
_CONTROLS_BUT_BREAKS = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F"
_BIDI = r"\u202A-\u202E\u2066-\u2069"
_INVISIBLE = r"\s\u00AD\u180E\u200B-\u200F\u2060-\u2064\uFEFF"


def _pattern(refused: str, blank_allowed: bool) -> str:
    text = f"[^{refused}]*[^{refused}{_INVISIBLE}][^{refused}]*"
    return rf"^(\s*|{text})$" if blank_allowed else f"^{text}$"


ONE_LINE_PATTERN = _pattern(_CONTROLS + _BIDI, blank_allowed=False)
OPTIONAL_ONE_LINE_PATTERN = _pattern(_CONTROLS + _BIDI, blank_allowed=True)
OPTIONAL_MULTI_LINE_PATTERN = _pattern(_CONTROLS_BUT_BREAKS + _BIDI, blank_allowed=True)


def character_label(char: str) -> str:
    """Name a character for a message: ``U+000D, carriage return``."""
    name = CONTROL_NAMES.get(char) or unicodedata.name(char, "").lower()
    return f"U+{ord(char):04X}, {name}" if name else f"U+{ord(char):04X}"


def single_line(value: str) -> str:
    """Return ``value`` if it holds no control character (line breaks and tabs included) and
    no bidirectional control; raise ValueError naming the first one otherwise."""
    for char in value:
        if unicodedata.category(char) == "Cc":
            raise ValueError(_("contains a control character (%(character)s); it must be a "
                               "single line of text without control characters",
                               character=character_label(char)))
    return _refuse_bidi_controls(value)


def one_line_of_text(value: str | None, name: str, max_length: int) -> str:
    """Return ``value`` stripped when it is one line of at most ``max_length`` characters;
    raise ValueError saying what is wrong with the ``name`` otherwise (``name``: what the text
    is, in the request's language, such as ``_("subject")``)."""
    value = (value or "").strip()
    if not value:
        # Translators: name is what the text is ("subject"), translated; "the" before it.
        raise ValueError(_("the %(name)s is empty", name=name))
    try:
        single_line(value)
    except ValueError as exc:
        # Translators: problem is a reason such as "contains a control character (...)".
        raise ValueError(_("the %(name)s %(problem)s", name=name, problem=exc)) from None
    if len(value) > max_length:
        raise ValueError(_("the %(name)s is longer than %(max)s characters", name=name,
                           max=max_length))
    return value


def multi_line(value: str) -> str:
    """Return ``value`` if its only control characters are line breaks and tabs, and it holds
    no bidirectional control; raise ValueError naming the first offending one otherwise."""
    for char in value:
        if unicodedata.category(char) == "Cc" and char not in LINE_BREAKS_AND_TABS:
            raise ValueError(_("contains a control character (%(character)s); only line "
                               "breaks and tabs are allowed", character=character_label(char)))
    return _refuse_bidi_controls(value)


def _refuse_bidi_controls(value: str) -> str:
    for char in value:
        if char in BIDI_CONTROLS:
            raise ValueError(_("contains a bidirectional control character (%(character)s), "
                               "which can make text show in a misleading order",
                               character=character_label(char)))
    return value


def is_readable(char: str) -> bool:
    """Tell whether a person sees ``char``: a letter, digit, punctuation mark or symbol."""
    return unicodedata.category(char)[0] in "LNPS" and char not in BLANK_GLYPHS


def readable(value: str) -> str:
    """Return ``value`` if it has at least one character a person can read; raise ValueError
    if it is made only of invisible characters (zero-width, format characters, blanks)."""
    if not any(is_readable(char) for char in value):
        raise ValueError(_("contains only invisible characters; it needs a letter, digit, "
                           "punctuation mark or symbol"))
    return value


def email_address(value: str) -> str:
    """Return an email address, trimmed and in lower case, that mail can be sent to.

    Raise ValueError saying what is wrong: a control character anywhere (a CR/LF would add a
    header to the mail), a space or an invisible character, not exactly one ``@``, or a
    domain without a dot or with labels that are not letters, digits and inner hyphens.
    """
    for char in value:  # before trimming: a trailing CR/LF is an injection attempt too
        if unicodedata.category(char) == "Cc":
            raise _not_an_address(_("it contains a control character (%(character)s)",
                                    character=character_label(char)))
    value = value.strip()
    if not value:
        raise ValueError(_("must not be empty"))
    for char in value:
        if unicodedata.category(char)[0] in "CZ":
            raise _not_an_address(_("it contains a space or an invisible character "
                                    "(%(character)s)", character=character_label(char)))
    if value.count("@") != 1:
        raise _not_an_address(_("it needs exactly one @"))
    local, domain = value.split("@")
    _check_local_part(local)
    _check_domain(domain)
    return value.lower()


def _not_an_address(reason: str) -> ValueError:
    return ValueError(_("is not a valid email address: %(reason)s", reason=reason))


def _check_local_part(local: str) -> None:
    if not local:
        raise _not_an_address(_("there is nothing before the @"))
    if len(local) > 64:
        raise _not_an_address(_("the part before the @ is longer than 64 characters"))
    for char in local:
        if not (char.isalnum() or char in EMAIL_LOCAL_SYMBOLS):
            raise _not_an_address(_("%(character)s cannot stand before the @",
                                    character=repr(char)))
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise _not_an_address(_("the part before the @ must not start or end with a dot, nor "
                                "have two dots in a row"))


def _check_domain(domain: str) -> None:
    if "." not in domain:
        raise _not_an_address(_("the domain after the @ needs a dot, as in example.com"))
    labels = domain.split(".")
    if "" in labels:
        raise _not_an_address(_("the domain after the @ has an empty part (a dot at its start "
                                "or end, or two dots in a row)"))
    for label in labels:
        if len(label) > 63:
            raise _not_an_address(_("a part of the domain is longer than 63 characters"))
        bad = next((char for char in label if not (char.isalnum() or char == "-")), None)
        if bad is not None:
            raise _not_an_address(_("%(character)s cannot stand in the domain, which takes "
                                    "letters, digits, hyphens and dots", character=repr(bad)))
        if label.startswith("-") or label.endswith("-"):
            raise _not_an_address(_("a part of the domain starts or ends with a hyphen"))
    if labels[-1].isdigit():
        raise _not_an_address(_("the domain must end in a name, such as .com, not a number"))
