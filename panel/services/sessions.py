"""Logins that the server can end: one ``user_session`` row per login.

Flask keeps its session in a signed cookie, and a signed cookie cannot be taken back: a copy
stays valid for as long as its signature does. So the cookie carries only a random token
(through Flask-Login's user id slot), and a request is signed in while the token's digest
names a row that has not ended and whose user is active. Logging out ends the row; a
password change, a role change or deactivation ends every row of the user; a user can end
their other sessions and an admin all of a user's. Whatever copies of the cookie exist
are then worth nothing.

The signed-in user of a request is a ``SignedInUser``: plain values read together with the
session row, never an ORM object, so that nothing about who is signed in needs the
database again in that request (an error page rendered after a failed transaction still
shows the user's name and menu).
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, delete, or_, select, update

from panel.bookkeeping import write_in_passing
from panel.extensions import db
from panel.i18n import N_  # stored in English, shown translated (_(reason))
from panel.models import User, UserSession
from panel.models.base import utcnow
from panel.models.user import Person

log = logging.getLogger("panel.sessions")

# Why a session ended, as the user's session list and the log say it.
LOGGED_OUT = N_("logged out")
PASSWORD_CHANGED = N_("password changed")
ROLE_CHANGED = N_("role changed")
DEACTIVATED = N_("account deactivated")
ENDED_BY_USER = N_("ended by the user")
ENDED_BY_ADMIN = N_("ended by an admin")
EXPIRED = N_("expired")

# last_seen_at is written at most this often per session: often enough for the idle limit
# (hours) and the session list, rarely enough that reading pages does not mean writing.
TOUCH_EVERY = timedelta(minutes=5)
# Ended and expired rows are kept this long (the user's list shows recent ones), then
# removed when the user next logs in.
KEEP_ENDED = timedelta(days=30)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class SignedInUser(Person):
    """Who made this request: the user's values as read with their session row."""

    id: int
    email: str
    name: str
    role: str
    session_id: int
    token: str
    locale: str | None = None  # the user's language setting (None: the browser's)

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the session's token, not the user's id."""
        return self.token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _idle_limit() -> timedelta:
    return current_app.config["PERMANENT_SESSION_LIFETIME"]


def start(user: User, address: str, user_agent: str | None) -> SignedInUser:
    """Open a session for ``user`` (committed) and return the signed-in user to log in."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at < now - KEEP_ENDED,
            UserSession.last_seen_at < now - KEEP_ENDED - _idle_limit())))
    row = UserSession(user_id=user.id, token_hash=_digest(token), created_at=now,
                      last_seen_at=now, address=address[:64],
                      user_agent=(user_agent or "")[:200] or None)
    db.session.add(row)
    db.session.flush()
    signed_in = SignedInUser(id=user.id, email=user.email, name=user.name, role=user.role,
                             session_id=row.id, token=token, locale=user.locale)
    db.session.commit()
    return signed_in


# Built once: asked on every request, and building the statement cost about as much as
# running it (its cache key, computed once per statement object, is then reused too).
_OPEN_SESSION = (
    select(UserSession.id, UserSession.last_seen_at, User.id, User.email, User.name,
           User.role, User.active, User.locale)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"), UserSession.ended_at.is_(None))
)


def signed_in_user(token: str) -> SignedInUser | None:
    """The user whose open session ``token`` names, or None (unknown, ended, idle too long,
    or the account deactivated)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    row = db.session.execute(_OPEN_SESSION, {"token_hash": _digest(token)}).one_or_none()
    if row is None:
        return None
    session_id, last_seen, user_id, email, name, role, active, locale = row
    now = utcnow()
    if not active:
        return None
    if last_seen < now - _idle_limit():
        return None  # the session list shows it as expired; nothing to write
    if last_seen < now - TOUCH_EVERY:
        write_in_passing(update(UserSession).where(UserSession.id == session_id)
                         .values(last_seen_at=now))
    return SignedInUser(id=user_id, email=email, name=name, role=role, session_id=session_id,
                        token=token, locale=locale)


def _end_where(condition, reason: str) -> int:
    """End the open sessions that match ``condition``; return how many, uncommitted."""
    return db.session.execute(
        update(UserSession)
        .where(condition, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    ).rowcount


def end(session_id: int, reason: str = LOGGED_OUT) -> None:
    """End one session (logout), committed."""
    _end_where(UserSession.id == session_id, reason)
    db.session.commit()


def end_all(user_id: int, reason: str, *, keep: int | None = None, commit: bool = True) -> int:
    """End every open session of the user but ``keep`` (the caller's own, when a user ends
    their other sessions); return how many ended. ``commit=False`` leaves the change in the
    caller's transaction, to commit with the change that caused it."""
    condition = UserSession.user_id == user_id
    if keep is not None:
        condition = and_(condition, UserSession.id != keep)
    ended = _end_where(condition, reason)
    if commit:
        db.session.commit()
    if ended:
        log.info("ended %d session(s) of user #%s: %s", ended, user_id, reason)
    return ended


@dataclass(frozen=True)
class SessionRow:
    id: int
    created_at: datetime
    last_seen_at: datetime
    address: str
    user_agent: str | None
    ended_at: datetime | None
    end_reason: str | None


def sessions_of(user_id: int, *, limit: int = 20) -> list[SessionRow]:
    """The user's open sessions, then the most recently ended ones, newest first."""
    rows = db.session.execute(
        select(UserSession.id, UserSession.created_at, UserSession.last_seen_at,
               UserSession.address, UserSession.user_agent, UserSession.ended_at,
               UserSession.end_reason)
        .where(UserSession.user_id == user_id)
        .order_by(UserSession.ended_at.is_not(None), UserSession.created_at.desc(),
                  UserSession.id.desc())
        .limit(limit))
    idle_since = utcnow() - _idle_limit()
    result = []
    for row in rows:
        session = SessionRow(*row)
        if session.ended_at is None and session.last_seen_at < idle_since:
            session = SessionRow(*row[:5], ended_at=session.last_seen_at + _idle_limit(),
                                 end_reason=EXPIRED)
        result.append(session)
    return result


def open_count(user_id: int) -> int:
    """How many sessions of the user are open now (not ended, not idle too long)."""
    return db.session.scalar(
        select(db.func.count()).select_from(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None),
               UserSession.last_seen_at >= utcnow() - _idle_limit()))
