"""Saved views of the orders list: a name for a list state (search, filters, sort, page
size), personal or shared with everyone, and each user's default."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from panel.extensions import db
from panel.models.base import UTCDateTime, utcnow


class SavedView(db.Model):
    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_saved_view_owner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                          index=True)
    owner_name: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(80))
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    query: Mapped[str] = mapped_column(Text)  # the list's query string, without the page
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DefaultView(db.Model):
    """The view a user's orders list opens with when its URL asks for nothing else."""

    __tablename__ = "saved_view_default"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         primary_key=True)
    view_id: Mapped[int] = mapped_column(ForeignKey("saved_view.id", ondelete="CASCADE"),
                                         index=True)
