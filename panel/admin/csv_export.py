"""CSV downloads: the orders' columns, cells made safe for spreadsheets, streamed responses."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, stream_with_context

from panel.formatting import format_datetime, format_money
from panel.i18n import _l

# The header, in the language of the user who downloads it (lazy: read when written); the
# values stay as they are (states, stores and payment methods are the data's own names).
CSV_COLUMNS = ("#", _l("Order Reference"), _l("Created"), _l("Customer Full Name"), _l("Email"),
               _l("Order State"), _l("Grand Total"), _l("Currency"), _l("Number of Items"),
               _l("Store"), _l("Payment Method"))
CHUNK_ROWS = 500


def spreadsheet_safe(value):
    """Keep a cell from being read as a formula by spreadsheet programs (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def order_row(order) -> tuple:
    """An order as a row of CSV_COLUMNS."""
    return (
        order.id, order.order_reference, format_datetime(order.created_at),
        order.customer_full_name, order.email, order.item_states,
        format_money(order.grand_total, order.currency), order.currency,
        order.item_count, order.store, order.payment_method,
    )


def csv_response(header: Iterable, rows: Iterable[Iterable], filename: str) -> Response:
    """Stream ``rows`` under ``header`` as a CSV attachment, every cell spreadsheet-safe."""

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([str(title) for title in header])
        for number, row in enumerate(rows):
            writer.writerow([spreadsheet_safe(v) for v in row])
            if number % CHUNK_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
