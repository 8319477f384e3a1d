"""Back-office users: creating them and checking their passwords."""
from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from panel.extensions import db
from panel.models import User
from panel.models.base import utcnow
from panel.models.user import ROLES

# Checked against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class UserError(ValueError):
    """A user could not be created; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, name: str, role: str, password: str) -> User:
    """Create an active back-office user with a hashed password."""
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise UserError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip():
        raise UserError("name must not be empty")
    if len(password) < 8:
        raise UserError("password must be at least 8 characters long")
    if db.session.scalar(db.select(User.id).where(User.email == email)) is not None:
        raise UserError(f"a user with the email {email} already exists")
    user = User(email=email, name=name.strip(), role=role, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


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
