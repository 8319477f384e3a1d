"""Documents issued for orders (invoices, credit notes) and their number counters.

A document keeps what it was issued with: its lines, addresses, seller and totals are stored
in ``content`` as they were at that moment, so a document never changes, whatever happens to
the order later. The ORM refuses to update one (``_refuse_changes``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from panel.extensions import db
from panel.models.base import UTCDateTime, utcnow

INVOICE, CREDIT_NOTE = "invoice", "credit_note"
KINDS = {INVOICE: "Invoice", CREDIT_NOTE: "Credit note"}


class Document(db.Model):
    """An invoice or a credit note: numbered once, stored as issued, never changed."""

    __tablename__ = "document"
    # Numbers run per kind, store and year: the sequence is unique there.
    __table_args__ = (UniqueConstraint("kind", "store", "year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(48), unique=True)
    store: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    # The refund a credit note is for (the refunds' table gets its foreign key there).
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    # Money in minor units of `currency`: the sums of the lines in `content`.
    net_total: Mapped[int] = mapped_column(Integer)
    tax_total: Mapped[int] = mapped_column(Integer)
    gross_total: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)

    @property
    def title(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


class DocumentCounter(db.Model):
    """The last sequence number given to a kind of document in a store and year. Taken under
    a row lock in the transaction that inserts the document, so numbers have no gaps."""

    __tablename__ = "document_counter"
    __table_args__ = (UniqueConstraint("kind", "store", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    store: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)


class DocumentChanged(RuntimeError):
    """Something tried to change an issued document."""


@event.listens_for(Document, "before_update")
def _refuse_changes(mapper, connection, target: Document) -> None:
    raise DocumentChanged(f"document {target.number} is issued and cannot be changed")
