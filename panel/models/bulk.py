"""Bulk actions on Sales > Orders: frozen selections of orders, and event runs over them.

A selection's order ids are written once, when it is made (one INSERT ... SELECT), so orders
that arrive later are never part of it. A run triggers one event for every order of a
selection, in batches, and keeps one report row per order.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panel.extensions import db
from panel.models.base import UTCDateTime, utcnow

# Outcomes of a run's order. "running" means claimed by a worker (a request) that has not
# reported yet; a claim older than the lease in panel.services.bulk_actions is taken over.
PENDING, RUNNING, MOVED, SKIPPED, ERROR = "pending", "running", "moved", "skipped", "error"
OUTCOMES = (PENDING, RUNNING, MOVED, SKIPPED, ERROR)
RUN_RUNNING, RUN_DONE = "running", "done"


class Selection(db.Model):
    __tablename__ = "bulk_selection"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "3 ticked orders", or the filter in words: what the user chose, for the pages.
    description: Mapped[str] = mapped_column(Text)
    order_count: Mapped[int] = mapped_column(default=0)


class SelectionOrder(db.Model):
    __tablename__ = "bulk_selection_order"

    selection_id: Mapped[int] = mapped_column(ForeignKey("bulk_selection.id"),
                                              primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), primary_key=True)


class BulkRun(db.Model):
    __tablename__ = "bulk_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("bulk_selection.id"), index=True)
    event: Mapped[str] = mapped_column(String(100))
    created_by_name: Mapped[str] = mapped_column(String(100))
    # Who the history and transition log name for every move of this run ("Name <email>").
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(8), default=RUN_RUNNING)
    done_orders: Mapped[int] = mapped_column(default=0)
    total_orders: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_done(self) -> bool:
        return self.status == RUN_DONE

    @property
    def percent(self) -> int:
        if not self.total_orders:
            return 100
        return min(100, self.done_orders * 100 // self.total_orders)


class BulkRunOrder(db.Model):
    """One order of a run: waiting, being worked, or its outcome (the report's row)."""

    __tablename__ = "bulk_run_order"
    __table_args__ = (Index("ix_bulk_run_order_run_outcome", "run_id", "outcome", "order_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("bulk_run.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(8), default=PENDING)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
