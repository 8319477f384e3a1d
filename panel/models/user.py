"""Back-office users and the API tokens of the storefronts that push orders."""
from __future__ import annotations

import unicodedata
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from panel.extensions import db
from panel.models.base import UTCDateTime, utcnow

ROLES = ("admin", "agent", "viewer")
ROLE_RANK = {"viewer": 0, "agent": 1, "admin": 2}  # each role may do what those below may


def normalise_password(password: str) -> str:
    """The form in which a password is hashed and checked: Unicode NFKC, so that the same
    characters typed on another keyboard or system still match (NIST SP 800-63B)."""
    return unicodedata.normalize("NFKC", password)


class Person:
    """What a back-office user may do, by role; shared by the stored User and the
    signed-in user of a request (panel.services.sessions.SignedInUser)."""

    name: str
    email: str
    role: str

    @property
    def can_edit(self) -> bool:
        return self.role in ("admin", "agent")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class User(Person, UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "en", "de" (panel.i18n.LANGUAGES); None: the browser's language.
    locale: Mapped[str | None] = mapped_column(String(8))

    def set_password(self, password: str) -> None:
        """Store the hash of ``password``, normalised. The policy (panel.services.passwords)
        is the caller's to apply."""
        self.password_hash = generate_password_hash(normalise_password(password))

    def check_password(self, password: str) -> bool:
        normalised = normalise_password(password)
        if check_password_hash(self.password_hash, normalised):
            return True
        # A hash stored before passwords were normalised was made from the text as typed.
        return normalised != password and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


class ApiToken(db.Model):
    """A bearer token for the intake API; only its SHA-256 digest is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(db.Model):
    """One try at the login form: who (the email typed), from where, and how it ended."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_email_created", "email", "created_at"),
                      Index("ix_login_attempt_address_created", "address", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # "signed in", "failed", "refused"
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(db.Model):
    """One login of a back-office user, from the login form to its end.

    The browser's session cookie carries a random token; only its SHA-256 digest is stored
    here. A request is signed in only while its token names a row that has not ended, so
    ending the row (logout, a password or role change, deactivation, "end all sessions")
    ends the login for every copy of the cookie, however it was signed.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
