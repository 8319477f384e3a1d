"""The return reasons admins keep: add, rename, deactivate and activate again.

A reason is never deleted: returns that give it keep reading the same. A deactivated reason
is no longer offered on Create Return.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from panel.extensions import db
from panel.formatting import format_number
from panel.i18n import _
from panel.locking import lock_names
from panel.models import ReturnReason
from panel.services.text_fields import readable, single_line

MAX_NAME = 100


class ReasonRefused(ValueError):
    """The change cannot be made; the message says why, and nothing was saved."""


def all_reasons() -> list[ReturnReason]:
    """Every reason, in the order they were added."""
    return list(db.session.scalars(select(ReturnReason).order_by(ReturnReason.id)))


def offered_reasons() -> list[ReturnReason]:
    """The reasons Create Return offers: the active ones."""
    return [reason for reason in all_reasons() if reason.active]


def _checked_name(name: str, keep_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ReasonRefused(_("a reason needs a name"))
    if len(name) > MAX_NAME:
        raise ReasonRefused(_("the name is %(length)s characters long; at most %(most)s are "
                              "allowed", length=format_number(len(name)),
                              most=format_number(MAX_NAME)))
    try:
        readable(single_line(name))
    except ValueError as exc:
        # Translators: the problem comes from the check of text fields ("contains ...").
        raise ReasonRefused(_("the name %(problem)s", problem=exc)) from None
    # Two admins adding the same name at once: the second waits, then finds the first's.
    lock_names(ReturnReason, name.lower())
    twin = db.session.scalar(select(ReturnReason).where(
        func.lower(ReturnReason.name) == name.lower(), ReturnReason.id != (keep_id or 0)))
    if twin is not None:
        raise ReasonRefused(_("there is a reason named %(name)s already", name=repr(twin.name)))
    return name


def _save(reason: ReturnReason) -> ReturnReason:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ReasonRefused(_("there is a reason named %(name)s already",
                              name=repr(reason.name))) from None
    return reason


def add_reason(name: str) -> ReturnReason:
    """Add an active reason; ReasonRefused when the name is blank, too long, not one line of
    readable text, or taken (in any case)."""
    try:
        reason = ReturnReason(name=_checked_name(name), active=True)
    except ReasonRefused:
        db.session.rollback()
        raise
    db.session.add(reason)
    return _save(reason)


def _reason(reason_id: int) -> ReturnReason:
    reason = db.session.get(ReturnReason, reason_id)
    if reason is None:
        raise ReasonRefused(_("there is no return reason #%(id)s", id=reason_id))
    return reason


def rename_reason(reason_id: int, name: str) -> ReturnReason:
    """Give a reason another name: every return that gives it reads the new one."""
    reason = _reason(reason_id)
    try:
        reason.name = _checked_name(name, keep_id=reason.id)
    except ReasonRefused:
        db.session.rollback()
        raise
    return _save(reason)


def set_active(reason_id: int, active: bool) -> ReturnReason:
    """Offer a reason on Create Return again, or stop offering it."""
    reason = _reason(reason_id)
    reason.active = active
    return _save(reason)
