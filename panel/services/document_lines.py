"""The lines and totals of invoices and credit notes, right by construction.

Every line is gross first: the amount the customer pays (or gets back) for it. Its tax is
computed once from that gross amount with the line's tax rate, ``gross * rate / (100 + rate)``
rounded half up to the minor unit (``intake_schema.unit_tax``, the rule the intake uses for
an item), and its net amount is the gross less the tax. A document's totals are the sums of
its lines, and its tax summary the sums of its lines per rate: nothing is computed twice, so
nothing can disagree.

An invoice has a line per order line (the order's units of one product at one price, discount
and rate) and one per shipment with a shipping cost. Shipping, and a credit note's
adjustment, take the order's standard rate: the highest rate of its items (0 % when it has
none), as shipping follows the goods it carries.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from panel.models import OrderItem, Shipment
from panel.services.intake_schema import unit_tax

ITEM, SHIPPING, ADJUSTMENT = "item", "shipping", "adjustment"


@dataclass(frozen=True)
class Line:
    """One line of a document; amounts in minor units, ``unit_price`` and ``discount`` per
    unit and gross."""

    kind: str  # ITEM, SHIPPING or ADJUSTMENT
    name: str
    tax_rate: Decimal
    gross: int
    sku: str | None = None
    quantity: int = 1
    unit_price: int | None = None  # None: the gross amount (a line of one)
    discount: int = 0
    item_ids: tuple[int, ...] = field(default=())

    @property
    def tax(self) -> int:
        return unit_tax(self.gross, self.tax_rate)

    @property
    def net(self) -> int:
        return self.gross - self.tax

    def as_content(self) -> dict:
        """The line as stored in a document (JSON: the rate as text, e.g. "19" or "7.5")."""
        return {"kind": self.kind, "name": self.name, "sku": self.sku,
                "quantity": self.quantity,
                "unit_price": self.gross if self.unit_price is None else self.unit_price,
                "discount": self.discount, "tax_rate": rate_text(self.tax_rate),
                "gross": self.gross, "tax": self.tax, "net": self.net,
                "item_ids": list(self.item_ids)}


def rate_text(rate: Decimal) -> str:
    """A tax rate as short text: Decimal("19.00") is "19", Decimal("7.50") is "7.5"."""
    return f"{Decimal(rate).normalize():f}"


def standard_rate(items: Iterable[OrderItem]) -> Decimal:
    """The rate of shipping and adjustments: the highest rate of the order's items."""
    return max((Decimal(item.tax_rate) for item in items), default=Decimal(0))


def invoice_lines(items: Sequence[OrderItem], shipments: Sequence[Shipment]) -> list[Line]:
    """An order's invoice lines: its units grouped by product, price, discount and rate in
    the order they came in, then a line for each shipment's cost."""
    groups: dict[tuple, list[OrderItem]] = {}
    for item in sorted(items, key=lambda i: i.id):
        key = (item.sku, item.name, item.unit_price, item.discount, Decimal(item.tax_rate))
        groups.setdefault(key, []).append(item)
    lines = [Line(ITEM, name, rate, gross=len(units) * (unit_price - discount), sku=sku,
                  quantity=len(units), unit_price=unit_price, discount=discount,
                  item_ids=tuple(unit.id for unit in units))
             for (sku, name, unit_price, discount, rate), units in groups.items()]
    rate = standard_rate(items)
    lines += [Line(SHIPPING, f"Shipping: {s.method} ({s.carrier})", rate, gross=s.price)
              for s in shipments if s.price]
    return lines


def credit_note_lines(refunded: Sequence[tuple[OrderItem, int]], *, shipping: int,
                      adjustment: int, adjustment_reason: str | None,
                      rate: Decimal) -> list[Line]:
    """A credit note's lines: each refunded item with its amount, then the shipping and the
    adjustment when they are not zero."""
    lines = [Line(ITEM, item.name, Decimal(item.tax_rate), gross=amount, sku=item.sku,
                  item_ids=(item.id,))
             for item, amount in refunded]
    if shipping:
        lines.append(Line(SHIPPING, "Shipping", rate, gross=shipping))
    if adjustment:
        lines.append(Line(ADJUSTMENT, f"Adjustment: {adjustment_reason}", rate,
                          gross=adjustment))
    return lines


def totals(lines: Iterable[Line]) -> dict[str, int]:
    """Net, tax and gross: the sums of the lines."""
    lines = list(lines)
    return {"net": sum(line.net for line in lines), "tax": sum(line.tax for line in lines),
            "gross": sum(line.gross for line in lines)}


def tax_summary(lines: Iterable[Line]) -> list[dict]:
    """Net, tax and gross per rate, highest rate first: the sums of that rate's lines."""
    by_rate: dict[Decimal, list[Line]] = {}
    for line in lines:
        by_rate.setdefault(Decimal(line.tax_rate), []).append(line)
    return [{"tax_rate": rate_text(rate), **totals(group)}
            for rate, group in sorted(by_rate.items(), reverse=True)]
