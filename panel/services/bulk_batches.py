"""Running a bulk run's batches: each order in one transaction with its report row.

An order's transaction begins by taking the run's next pending row (PostgreSQL: ``FOR
UPDATE SKIP LOCKED``, so two windows running one run never take the same order; SQLite: a
write, so its database lock is held from the claim to the commit), triggers the event
through the engine, and writes the order's outcome just before the engine commits. The
outcome and the move commit together or not at all: a batch that dies (a lock held too
long, a lost connection, a killed request) leaves the orders it had not finished pending,
and the next batch takes them at once.

Every batch is authorised as the person who runs it, and the history names them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from sqlalchemy import exists, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased

from panel.db_faults import is_lost, is_unavailable
from panel.extensions import db
from panel.i18n import _, ngettext
from panel.models import BulkRun, BulkRunOrder
from panel.models.base import utcnow
from panel.models.bulk import ERROR, MOVED, PENDING, RUN_DONE, RUN_RUNNING, SKIPPED
from panel.oms import engine
from panel.services.bulk_actions import BulkError
from panel.services.triggers import actor_of, refusal

log = logging.getLogger(__name__)

DEFAULT_BATCH = 50
INTERRUPTED = "interrupted"  # a batch's status (never stored): the database stopped it


class BatchRefused(BulkError):
    """The person running the batch may not trigger the run's event; nothing was done."""


class ClaimLost(Exception):
    """Another batch wrote this order's outcome first; this transaction must not commit."""


@dataclass
class BatchResult:
    """What one batch did, and where its run stands."""

    run_id: int
    finished: int  # orders whose outcome this batch saved
    status: str  # the run's ("running", "done"), or INTERRUPTED
    done_orders: int | None  # None: the database could not even be read afterwards
    total_orders: int
    message: str = ""


def run_batch(run_id: int, user, size: int = DEFAULT_BATCH) -> BatchResult:
    """Trigger the run's event as ``user`` for up to ``size`` pending orders, one
    transaction per order that also writes the order's report row.

    Raises BatchRefused, having done nothing, when ``user`` may not trigger the event. An
    order that fails (a command, a missing order) gets the outcome "error" with its message
    and the batch goes on. A busy or lost database stops the batch: the order in hand is
    rolled back and stays pending, and the result's status is INTERRUPTED.
    """
    run = db.session.get(BulkRun, run_id)
    if run is None:
        raise BulkError(_("there is no bulk run #%(id)s", id=run_id))
    event, status, total = run.event, run.status, run.total_orders
    reason = refusal(user, event)
    if reason:
        db.session.rollback()
        raise BatchRefused(reason)
    actor = actor_of(user)
    finished = 0
    try:
        if status == RUN_RUNNING:
            for _round in range(size):
                saved = _run_next_order(run_id, event, actor)
                if saved is None:
                    break
                finished += saved
            _finish_if_done(run_id)
        run = db.session.get(BulkRun, run_id, populate_existing=True)
        return BatchResult(run_id, finished, run.status, run.done_orders, run.total_orders)
    except DBAPIError as exc:
        if not is_unavailable(exc):
            raise
        db.session.rollback()
        log.warning("bulk run #%s: batch interrupted after %s order(s): %s", run_id, finished,
                    _first_line(exc))
        return BatchResult(run_id, finished, INTERRUPTED, _done_orders(run_id), total,
                           interrupted_message(exc, finished))


def interrupted_message(exc: DBAPIError, finished: int) -> str:
    """Say what a batch that the database stopped did, and that nothing was lost (in the
    request's language: the run's page shows it)."""
    if is_lost(exc):
        if finished:
            return ngettext(
                "The database could not be reached, so this batch stopped after %(num)d order, "
                "which is saved and in the report. The orders not done yet are still pending; "
                "nothing was lost.",
                "The database could not be reached, so this batch stopped after %(num)d orders, "
                "which are saved and in the report. The orders not done yet are still pending; "
                "nothing was lost.", finished)
        return _("The database could not be reached, so this batch stopped before it finished "
                 "an order. The orders not done yet are still pending; nothing was lost.")
    if finished:
        return ngettext(
            "The database was busy, so this batch stopped after %(num)d order, which is saved "
            "and in the report. The orders not done yet are still pending; nothing was lost.",
            "The database was busy, so this batch stopped after %(num)d orders, which are saved "
            "and in the report. The orders not done yet are still pending; nothing was lost.",
            finished)
    return _("The database was busy, so this batch stopped before it finished an order. The "
             "orders not done yet are still pending; nothing was lost.")


def _run_next_order(run_id: int, event: str, actor: str) -> bool | None:
    """Claim the run's next pending order and trigger the event for it. True when its
    outcome is saved, False when another batch saved one first, None when no order is left
    to claim. Database faults that are worth a retry propagate."""
    # The transaction must begin with the claim (see _claim): not with the batch's first
    # reads, nor with whatever a plugin told of the last move left open, or failed, after
    # that move's commit.
    db.session.rollback()
    order_id = _claim(run_id)
    if order_id is None:
        db.session.rollback()
        return None
    try:
        engine.trigger_event(order_id, event, actor=actor,
                             before_commit=partial(_report, run_id, order_id, actor))
    except ClaimLost:
        # Only after a failed command, whose rollback let go of the claim for a moment: the
        # batch that took the order then has written its outcome.
        db.session.rollback()
        return False
    except DBAPIError as exc:
        if is_unavailable(exc):
            raise
        return _report_error(run_id, order_id, actor, exc)
    except LookupError as exc:  # the engine's "there is no order": a fact, not a fault
        db.session.rollback()
        saved = _report_outcome(run_id, order_id, actor, ERROR, 0, 0, str(exc))
        db.session.commit()
        return saved
    except Exception as exc:  # a plugin's bug, an unknown process: this order's error
        return _report_error(run_id, order_id, actor, exc)
    return True


def _claim(run_id: int) -> int | None:
    """Take the run's next pending order for this transaction; None when there is none
    (on PostgreSQL: or when every pending one is another batch's now)."""
    row = aliased(BulkRunOrder)
    pending = (select(row.order_id).where(row.run_id == run_id, row.outcome == PENDING)
               .order_by(row.order_id).limit(1))
    if db.session.get_bind().dialect.name == "sqlite":
        # A write first: SQLite's database lock is then held from here to the commit, and
        # nothing read in between can go stale.
        return db.session.scalar(
            update(BulkRunOrder)
            .where(BulkRunOrder.run_id == run_id,
                   BulkRunOrder.order_id == pending.scalar_subquery())
            .values(outcome=BulkRunOrder.outcome)
            .returning(BulkRunOrder.order_id)
            .execution_options(synchronize_session=False))
    return db.session.scalar(pending.with_for_update(skip_locked=True))


def _outcome(result: engine.TriggerResult) -> str:
    if result.error:
        return ERROR
    return MOVED if result.moved else SKIPPED


def _report(run_id: int, order_id: int, actor: str, result: engine.TriggerResult) -> None:
    """Write the order's outcome in the engine's transaction (its move, or its recorded
    failure); raise ClaimLost when another batch has written it already."""
    if not _report_outcome(run_id, order_id, actor, _outcome(result), result.moved,
                           result.skipped, result.message):
        raise ClaimLost(f"order #{order_id} of bulk run #{run_id} is done already")


def _report_error(run_id: int, order_id: int, actor: str, exc: Exception) -> bool:
    """Undo what the order's transaction did and save the error as its outcome (True), if
    no other batch has saved one."""
    db.session.rollback()
    log.error("bulk run #%s: order #%s failed", run_id, order_id,
              exc_info=(type(exc), exc, exc.__traceback__))
    # Not str(exc): an unforeseen error's text can carry SQL and internals; the log has it.
    message = f"failed unexpectedly ({type(exc).__name__}); the server log has the details"
    saved = _report_outcome(run_id, order_id, actor, ERROR, 0, 0, message)
    db.session.commit()
    return saved


def _report_outcome(run_id: int, order_id: int, actor: str, outcome: str, moved: int,
                    skipped: int, message: str) -> bool:
    """Write the outcome if the order is still pending, count it done; True if written."""
    written = db.session.execute(
        update(BulkRunOrder)
        .where(BulkRunOrder.run_id == run_id, BulkRunOrder.order_id == order_id,
               BulkRunOrder.outcome == PENDING)
        .values(outcome=outcome, moved=moved, skipped=skipped, message=message, actor=actor)
        .execution_options(synchronize_session=False)
    ).rowcount
    if written:
        db.session.execute(update(BulkRun).where(BulkRun.id == run_id)
                           .values(done_orders=BulkRun.done_orders + 1)
                           .execution_options(synchronize_session=False))
    return bool(written)


def _finish_if_done(run_id: int) -> None:
    pending = exists().where(BulkRunOrder.run_id == run_id, BulkRunOrder.outcome == PENDING)
    db.session.execute(
        update(BulkRun)
        .where(BulkRun.id == run_id, BulkRun.status == RUN_RUNNING, ~pending)
        .values(status=RUN_DONE, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _done_orders(run_id: int) -> int | None:
    """The run's done count, or None when the database cannot be read either."""
    try:
        return db.session.scalar(select(BulkRun.done_orders).where(BulkRun.id == run_id))
    except DBAPIError as exc:
        if not is_unavailable(exc):
            raise
        db.session.rollback()
        return None


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
