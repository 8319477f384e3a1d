"""The return slip: what goes into the parcel, for the customer and the warehouse.

One template makes the page to print and the PDF (``panel.services.pdf``): the return
reference as a Code 128 barcode the warehouse scans, the order, the customer and the address
the parcel comes from, the items with their reasons, and the address to send it to
(PANEL_RETURN_ADDRESS).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from markupsafe import Markup

from panel.config import address_lines
from panel.extensions import db
from panel.models import Order, OrderAddress, OrderItem, Return, ReturnItem, Shipment
from panel.services.pdf import code128_svg, render_pdf
from panel.services.return_list import returned_items


@dataclass
class ReturnSlip:
    sales_return: Return
    order: Order
    lines: list[tuple[ReturnItem, OrderItem]]
    sender: OrderAddress  # the delivery address of the returned items' (first) shipment
    return_address: tuple[str, ...]  # empty when PANEL_RETURN_ADDRESS is not set
    barcode: Markup


def return_address() -> tuple[str, ...]:
    """The lines of PANEL_RETURN_ADDRESS (a string set in a test's config is split too)."""
    value = current_app.config.get("PANEL_RETURN_ADDRESS") or ()
    return address_lines(value) if isinstance(value, str) else tuple(value)


def slip_for(found: Return) -> ReturnSlip:
    """Everything the slip shows for this return."""
    lines = returned_items(found)
    shipment = db.session.get(Shipment, lines[0][1].shipment_id)
    return ReturnSlip(found, db.session.get(Order, found.order_id), lines, shipment.address,
                      return_address(), code128_svg(found.return_reference))


def slip_html(slip: ReturnSlip, *, pdf: bool = False) -> str:
    """The slip as a page (with Print and PDF buttons, which print media hides)."""
    return render_template("returns/slip.html", slip=slip, pdf=pdf)


def slip_pdf(slip: ReturnSlip) -> bytes:
    """The slip as a PDF: the same page, laid out for print. PdfError when it cannot be made."""
    return render_pdf(slip_html(slip, pdf=True))
