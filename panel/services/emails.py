"""What counts as an email address, for customers and back-office users alike."""
from __future__ import annotations

import re

MAX_LENGTH = 254
# A host name of labels joined by dots, the last one alphabetic (a top-level domain), each
# label letters, digits and inner hyphens (or any letters, for internationalised names).
_LABEL = r"(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[^\W\d_]{{2,63}}$")
_LOCAL_FORBIDDEN = re.compile(r'[\s"(),:;<>\[\\\]]')


def email_address(value: str) -> str:
    """Return ``value`` as a stored email address (trimmed, lower case); raise ValueError
    with the reason when it is not one: no whitespace or control character anywhere (a line
    break in an address is a mail header injection), one @, a local part, and a domain with
    a dot."""
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"must be at most {MAX_LENGTH} characters long")
    bad = next((c for c in value if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise ValueError(f"is not a valid email address: it contains U+{ord(bad):04X}, "
                         f"a space, line break or control character")
    local, at, domain = value.rpartition("@")
    if not at or not local or "@" in local:
        raise ValueError("is not a valid email address: it needs exactly one @ between a "
                         "name and a domain")
    if _LOCAL_FORBIDDEN.search(local) or local.startswith(".") or local.endswith(".") \
            or ".." in local:
        raise ValueError("is not a valid email address: the part before the @ has a "
                         "character or dot where none may be")
    if len(domain) > 253 or not _DOMAIN.match(domain):
        raise ValueError("is not a valid email address: the domain after the @ must be a "
                         "host name with a dot, such as example.com")
    return value.lower()
