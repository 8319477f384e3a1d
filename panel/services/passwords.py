"""The one password policy, applied wherever a password is set (CLI, Administration > Users,
the user's own account page), following NIST SP 800-63B (revision 4, section 3.1.1.2):

- at least 15 characters, since a password is the panel's only factor; at most 128, which is
  also what the login form takes, so no account can be given a password it cannot log in
  with; any printable character, spaces and Unicode included; no rules about character
  classes;
- refused when it is easy to guess: a common or previously breached password, a repetition
  or sequence, a keyboard walk, or words from the account itself (the email, the name) or
  from the service. The check is zxcvbn's estimate of the guesses an attacker needs, with the
  account's own words as its context;
- Unicode is normalised (NFKC) before the password is hashed and when it is checked, so the
  same characters typed on another keyboard still match.
"""
from __future__ import annotations

import re

from zxcvbn import zxcvbn

from panel.i18n import _, current_language
from panel.models.user import normalise_password

MIN_LENGTH = 15
MAX_LENGTH = 128
# zxcvbn's score 3: about 10^8 guesses or more ("safely unguessable" against an online
# attack, some protection offline behind a slow hash such as ours).
MIN_SCORE = 3
# zxcvbn's own bound on the input it estimates (its time grows with the length); a password
# whose first 72 characters are hard to guess is hard to guess.
ESTIMATE_LENGTH = 72
SERVICE_WORDS = ("order panel", "orderpanel", "order", "panel", "backoffice", "back office",
                 "spryker", "admin")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class PasswordRejected(ValueError):
    """The password breaks the policy; the message says how, for the person choosing it."""


def _context_words(email: str, name: str) -> list[str]:
    words = [email, *re.split(r"[@._+\-\s]+", email), name, *name.split()]
    return [w for w in dict.fromkeys(w.strip().lower() for w in (*words, *SERVICE_WORDS))
            if len(w) >= 3]


def problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """What is wrong with ``password`` for the account (email, name), or None when it may
    be used."""
    if not password:
        return _("Enter a password.")
    password = normalise_password(password)
    if _CONTROL.search(password):
        return _("The password must not contain control characters (such as tabs or line "
                 "breaks).")
    if not password.strip():
        return _("The password must not be made of spaces only.")
    if len(password) < MIN_LENGTH:
        return _("The password must be at least %(least)d characters long; it has %(length)d. "
                 "A few unrelated words make a long password that is easy to remember.",
                 least=MIN_LENGTH, length=len(password))
    if len(password) > MAX_LENGTH:
        return _("The password must be at most %(most)d characters long; it has %(length)d.",
                 most=MAX_LENGTH, length=len(password))
    estimate = zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=_context_words(email, name))
    if estimate["score"] < MIN_SCORE:
        # zxcvbn's own warning is English only; German users get the general reason.
        warning = estimate["feedback"]["warning"] if current_language() == "en" else ""
        reason = warning or _("It is built from common words, names, dates or patterns, or "
                              "from this account's email or name.")
        return _("The password is too easy to guess. %(reason)s. Choose another.",
                 reason=reason.rstrip("."))
    return None


def check(password: str, *, email: str = "", name: str = "") -> None:
    """Raise PasswordRejected if ``password`` breaks the policy for the account."""
    reason = problem(password, email=email, name=name)
    if reason:
        raise PasswordRejected(reason)
