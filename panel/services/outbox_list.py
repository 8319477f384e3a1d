"""Administration > Outbox: every mail with where it stands, and a person's retry of many."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select, update

from panel.extensions import db
from panel.i18n import _, _l
from panel.models import OutboundEmail
from panel.models.id_lists import among_ids
from panel.services.mail_schedule import RetrySchedule
from panel.services.paging import ResultPage, capped_count, fetch_page

# Status (a value, stored and in URLs): its label (text, in the user's language).
STATUSES = {"queued": _l("Queued"), "failed": _l("Failed"), "undeliverable": _l("Undeliverable"),
            "sent": _l("Sent")}
NOT_SENT = ("failed", "undeliverable")  # what "Retry all failed" takes
# Age filters: (label, newer than or older than, how old).
AGES = {
    "1h": (_l("Last hour"), "newer", timedelta(hours=1)),
    "1d": (_l("Last 24 hours"), "newer", timedelta(days=1)),
    "7d": (_l("Last 7 days"), "newer", timedelta(days=7)),
    "over1d": (_l("Older than a day"), "older", timedelta(days=1)),
    "over7d": (_l("Older than 7 days"), "older", timedelta(days=7)),
}


@dataclass
class OutboxQuery:
    status: str = ""
    age: str = ""
    page: int = 1
    per_page: int = 25

    def check(self) -> list[str]:
        errors = []
        if self.status and self.status not in STATUSES:
            errors.append(_("status: %(value)s is not one of %(choices)s",
                            value=repr(self.status), choices=", ".join(STATUSES)))
        if self.age and self.age not in AGES:
            errors.append(_("age: %(value)s is not one of %(choices)s",
                            value=repr(self.age), choices=", ".join(AGES)))
        return errors


def _filtered(query: OutboxQuery, now: datetime, *, status: str | None = None):
    stmt = select(OutboundEmail)
    status = query.status if status is None else status
    if status:
        stmt = stmt.where(OutboundEmail.status == status)
    if query.age:
        _label, side, age = AGES[query.age]
        cut = now - age
        stmt = stmt.where(OutboundEmail.created_at >= cut if side == "newer"
                          else OutboundEmail.created_at < cut)
    return stmt


def find(query: OutboxQuery, now: datetime) -> ResultPage:
    """One page of mails, newest first."""
    return fetch_page(_filtered(query, now), [OutboundEmail.id.desc()], OutboundEmail.id,
                      query.page, query.per_page,
                      count_key=("outbox", query.status, query.age))


def count_by_status(query: OutboxQuery, now: datetime) -> dict[str, tuple[int, bool]]:
    """Per status, the mails the age filter lets through: (count up to the cap, over it)."""
    cap = 10_000
    counts = {}
    for status in STATUSES:
        stmt = _filtered(query, now, status=status).with_only_columns(OutboundEmail.id)
        total = capped_count(stmt, cap, ("outbox", status, query.age))
        counts[status] = (min(total, cap), total > cap)
    return counts


def retry_now(now: datetime, ids: list[int] | None = None) -> int:
    """Make mails that are not sent due now, with a new period of tries (a person asked):
    the ticked ones, or (``ids`` None) every failed and undeliverable one. The senders try
    them on their next round; return how many were made due.

    One UPDATE: on PostgreSQL it waits for a mail a sender holds and then sees it as that
    sender left it, so a mail sent meanwhile is not made due again.
    """
    schedule = RetrySchedule.from_config(current_app.config)
    # A queued mail stays queued: it is due already.
    still_queued = case((OutboundEmail.status == "queued", "queued"), else_="failed")
    stmt = update(OutboundEmail).values(status=still_queued, next_attempt_at=now,
                                        give_up_at=now + schedule.give_up_after)
    if ids is None:
        stmt = stmt.where(OutboundEmail.status.in_(NOT_SENT))
    else:
        stmt = stmt.where(among_ids(OutboundEmail.id, ids),
                          OutboundEmail.status.in_(("queued",) + NOT_SENT))
    result = db.session.execute(stmt.execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


def unsent_counts(order_id: int | None = None) -> dict[str, int]:
    """How many mails failed (and are tried again) and how many are undeliverable, of one
    order or of all."""
    stmt = (select(OutboundEmail.status, func.count()).where(OutboundEmail.status.in_(NOT_SENT))
            .group_by(OutboundEmail.status))
    if order_id is not None:
        stmt = stmt.where(OutboundEmail.order_id == order_id)
    counts = dict.fromkeys(NOT_SENT, 0)
    counts.update(tuple(row) for row in db.session.execute(stmt))
    return counts
