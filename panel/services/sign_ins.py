"""Login throttling and the record of every login, failure and refusal.

After PANEL_LOGIN_MAX_FAILURES failed logins for one account (the email typed) or from one
address within PANEL_LOGIN_WINDOW_MINUTES, further attempts are refused without checking the
password, until the oldest of those failures leaves the window. Refusals are recorded but do
not count as failures, so an attacker who keeps trying does not lock the account for ever.

The limit holds exactly however many requests arrive at once, on however many workers and
machines: an attempt is recorded as "checking" (which counts as a failure) before its
password is checked, under a lock on its email and address, so that the count and the
reservation are one step; the check's outcome then replaces "checking".
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from panel.extensions import db
from panel.i18n import ngettext
from panel.locking import lock_names
from panel.models import LoginAttempt
from panel.models.base import utcnow

SIGNED_IN, FAILED, REFUSED, CHECKING = "signed in", "failed", "refused", "checking"
CONFIRMED = "confirmed"  # a signed-in user's password, checked again to change it
# What counts against the limit: failures, and checks still running (or never finished).
COUNTED = (FAILED, CHECKING)
log = logging.getLogger("panel.sign_ins")


def _limits() -> tuple[int, timedelta]:
    config = current_app.config
    return (config["PANEL_LOGIN_MAX_FAILURES"],
            timedelta(minutes=config["PANEL_LOGIN_WINDOW_MINUTES"]))


def refusal(email: str, address: str, now: datetime | None = None) -> str | None:
    """Why a login for ``email`` from ``address`` is refused now, or None."""
    now = now or utcnow()
    most, window = _limits()
    until = None
    for column, value in ((LoginAttempt.email, email), (LoginAttempt.address, address)):
        recent = list(db.session.scalars(
            select(LoginAttempt.created_at)
            .where(column == value, LoginAttempt.outcome.in_(COUNTED),
                   LoginAttempt.created_at > now - window)
            .order_by(LoginAttempt.created_at.desc()).limit(most)))
        if len(recent) >= most:
            free_at = recent[-1] + window
            until = free_at if until is None else max(until, free_at)
    if until is None:
        return None
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return ngettext("Too many failed logins for this account or from this address. Try again "
                    "in %(num)d minute.",
                    "Too many failed logins for this account or from this address. Try again "
                    "in %(num)d minutes.", minutes)


def begin(email: str, address: str, user_agent: str | None) -> tuple[int | None, str | None]:
    """Start a login attempt: (the attempt's id, None) when its password may be checked, or
    (None, why not) when it is refused. Either way the attempt is recorded, committed."""
    lock_names(LoginAttempt, f"email:{email}", f"address:{address}")
    reason = refusal(email, address)
    attempt = LoginAttempt(email=email[:254], address=address[:64],
                           outcome=REFUSED if reason else CHECKING,
                           user_agent=(user_agent or "")[:200] or None)
    db.session.add(attempt)
    db.session.commit()
    if reason:
        _log(REFUSED, email, address)
        return None, reason
    return attempt.id, None


def finish(attempt_id: int, outcome: str) -> None:
    """Record how a checked attempt ended (SIGNED_IN, CONFIRMED or FAILED), committed, and
    log it."""
    row = db.session.execute(
        update(LoginAttempt).where(LoginAttempt.id == attempt_id)
        .values(outcome=outcome).returning(LoginAttempt.email, LoginAttempt.address)
    ).one()
    db.session.commit()
    _log(outcome, *row)


def _log(outcome: str, email: str, address: str) -> None:
    level = logging.INFO if outcome in (SIGNED_IN, CONFIRMED) else logging.WARNING
    log.log(level, "login %s: email=%r address=%s", outcome, email, address)
