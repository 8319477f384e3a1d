"""Login throttling and the record of every login, failure and refusal.

After PANEL_LOGIN_MAX_FAILURES failed logins for one account (the email typed) or from one
address within PANEL_LOGIN_WINDOW_MINUTES, further attempts are refused without checking the
password, until the oldest of those failures leaves the window. Refusals are recorded but do
not count as failures, so an attacker who keeps trying does not lock the account for ever.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from panel.extensions import db
from panel.models import LoginAttempt
from panel.models.base import utcnow

SIGNED_IN, FAILED, REFUSED = "signed in", "failed", "refused"
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
            .where(column == value, LoginAttempt.outcome == FAILED,
                   LoginAttempt.created_at > now - window)
            .order_by(LoginAttempt.created_at.desc()).limit(most)))
        if len(recent) >= most:
            free_at = recent[-1] + window
            until = free_at if until is None else max(until, free_at)
    if until is None:
        return None
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return (f"Too many failed logins for this account or from this address. Try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}.")


def record(email: str, address: str, outcome: str, user_agent: str | None) -> None:
    """Keep the attempt (committed at once) and log it."""
    db.session.add(LoginAttempt(email=email[:254], address=address[:64], outcome=outcome,
                                user_agent=(user_agent or "")[:200] or None))
    db.session.commit()
    level = logging.INFO if outcome == SIGNED_IN else logging.WARNING
    log.log(level, "login %s: email=%r address=%s", outcome, email, address)
