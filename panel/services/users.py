"""Back-office users: creating them, their passwords, and checking a login."""
from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from panel.extensions import db
from panel.i18n import _
from panel.models import User
from panel.models.base import utcnow
from panel.models.user import ROLES
from panel.services import passwords, sessions
from panel.services.text_fields import email_address, readable, single_line

# Checked against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


MAX_EMAIL_LENGTH = 254


def checked_email(email: str) -> str:
    """The email, normalised, if it can be a back-office login; else UserError saying why."""
    if len(email.strip()) > MAX_EMAIL_LENGTH:
        raise UserError(_("the email must be at most %(most)d characters long",
                          most=MAX_EMAIL_LENGTH))
    try:
        return email_address(email)
    except ValueError as exc:
        raise UserError(f"{email.strip()!r} {exc}") from None


def checked_name(name: str) -> str:
    """The name, trimmed, if it can stand in the history as who did something; else
    UserError saying why."""
    name = name.strip()
    if not name:
        raise UserError(_("The name must not be empty."))
    if len(name) > 100:
        raise UserError(_("The name must be at most 100 characters long."))
    try:
        return readable(single_line(name))
    except ValueError as exc:
        raise UserError(_("The name %(problem)s.", problem=exc)) from None


def create_user(email: str, name: str, role: str, password: str) -> User:
    """Create an active back-office user with a password that meets the policy."""
    email = checked_email(email)
    if role not in ROLES:
        raise UserError(_("role must be one of %(roles)s, not %(role)r", roles=", ".join(ROLES),
                          role=role))
    name = checked_name(name)
    try:
        passwords.check(password, email=email, name=name)
    except passwords.PasswordRejected as exc:
        raise UserError(str(exc)) from None
    if db.session.scalar(db.select(User.id).where(User.email == email)) is not None:
        raise UserError(_("a user with the email %(email)s already exists", email=email))
    user = User(email=email, name=name, role=role, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_user(email: str) -> User:
    """The user with this email; UserError when there is none."""
    user = db.session.scalar(db.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise UserError(f"there is no user with the email {normalise_email(email)}")
    return user


def set_password(user: User, password: str, *, keep_session: int | None = None) -> int:
    """Give ``user`` a new password that meets the policy and end their sessions (all but
    ``keep_session``, the caller's own when users change their own password); committed.
    Return how many sessions ended."""
    try:
        passwords.check(password, email=user.email, name=user.name)
    except passwords.PasswordRejected as exc:
        raise UserError(str(exc)) from None
    user.set_password(password)
    ended = sessions.end_all(user.id, sessions.PASSWORD_CHANGED, keep=keep_session,
                             commit=False)
    db.session.commit()
    return ended


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None, alike for every failure."""
    user = db.session.scalar(db.select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user
