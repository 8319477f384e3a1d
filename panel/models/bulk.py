"""Bulk actions on Sales > Orders: frozen selections of orders, and event runs over them.

A selection's order ids are written once, when it is made (one INSERT ... SELECT), so orders
that arrive later are never part of it. A run triggers one event for every order of a
selection, in batches, and keeps one report row per order. An order's row leaves "pending"
in the same transaction as the order's move (or its recorded failure), so the report never
says more or less than the database holds.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panel.extensions import db
from panel.models.base import UTCDateTime, utcnow

# Outcomes of a run's order. A batch that is working on an order holds a lock on its row
# (PostgreSQL: the row; SQLite: the database) instead of marking it, so an order whose batch
# died is simply still pending.
PENDING, MOVED, SKIPPED, ERROR = "pending", "moved", "skipped", "error"
OUTCOMES = (PENDING, MOVED, SKIPPED, ERROR)
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
    """One order of a run: waiting, or its outcome (the report's row)."""

    __tablename__ = "bulk_run_order"
    __table_args__ = (Index("ix_bulk_run_order_run_outcome", "run_id", "outcome", "order_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("bulk_run.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(8), default=PENDING)
    # Who ran the batch that did this order, as the history names them ("Name <email>").
    actor: Mapped[str | None] = mapped_column(String(120))
    moved: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
