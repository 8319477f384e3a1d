"""Bearer tokens for storefronts: created once, stored as a digest, revoked by name."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Row, bindparam, select, update

from panel.bookkeeping import write_in_passing
from panel.extensions import db
from panel.models import ApiToken
from panel.models.base import utcnow


class TokenError(ValueError):
    """A token could not be created or revoked; the message says why."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str) -> str:
    """Create a token named ``name`` and return it; it is never shown again."""
    name = name.strip()
    if not name:
        raise TokenError("the token needs a name")
    if db.session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"a token named {name!r} exists; revoke it first")
    token = "op_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(name=name, token_hash=_digest(token)))
    db.session.commit()
    return token


def revoke_token(name: str) -> None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise TokenError(f"no token is named {name!r}")
    db.session.delete(token)
    db.session.commit()


LAST_USED_RESOLUTION = timedelta(minutes=5)


_TOKEN_BY_DIGEST = select(ApiToken.id, ApiToken.name, ApiToken.last_used_at).where(
    ApiToken.token_hash == bindparam("digest"))


def token_for(presented: str) -> Row | None:
    """The token (id, name, last_used_at) matching a presented bearer token, or None.

    Marks it used at most every few minutes, in passing (panel.bookkeeping): writing the
    row on every request would make every intake wait for the token's row lock.
    """
    if not presented:
        return None
    connection = db.session.connection()
    token = connection.execute(_TOKEN_BY_DIGEST, {"digest": _digest(presented)}).first()
    now = utcnow()
    if token is not None and (
        token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION
    ):
        write_in_passing(update(ApiToken).where(ApiToken.id == token.id)
                         .values(last_used_at=now))
    return token
