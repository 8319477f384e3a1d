"""End-to-end: returning items from View Order, finding the return in Sales > Returns, and
printing its slip, in Chromium.

Creating a return moves exactly the returned items with their process's return event; the
slip is a page made for printing and a PDF of the same sheet.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from panel.extensions import db
from panel.models import OrderItem, Return, ReturnReason
from panel.oms import engine
from tests.e2e.conftest import login, make_order
from tests.e2e.test_csp import violations  # noqa: F401 (a fixture: CSP reports, script errors)
from tests.e2e.test_reclamations_flow import db_item_ids, db_states, flash, open_menu

pytestmark = pytest.mark.e2e

RETURN_ADDRESS = ("Order Panel Returns", "Lagerstraße 5", "10115 Berlin")


@pytest.fixture
def app_config():
    return {"PANEL_RETURN_ADDRESS": RETURN_ADDRESS}


def shipped_order(app, reference: str) -> dict:
    order = make_order(app, order_reference=reference)  # shoe, shoe, socks
    with app.app_context():
        for event in ("pay", "ship"):
            engine.trigger_event(order["id"], event, actor="setup")
        db.session.remove()
    return order


def add_reasons(app, *names: str) -> dict[str, int]:
    with app.app_context():
        rows = [ReturnReason(name=name, active=True) for name in names]
        db.session.add_all(rows)
        db.session.commit()
        ids = {row.name: row.id for row in rows}
        db.session.remove()
    return ids


def db_returns(app) -> list[dict]:
    with app.app_context():
        rows = [{"reference": r.return_reference, "order_id": r.order_id, "state": r.state,
                 "created_by_name": r.created_by_name,
                 "items": [(i.order_item_id, i.reason.name if i.reason else None, i.note)
                           for i in r.items]}
                for r in db.session.scalars(select(Return).order_by(Return.id))]
        db.session.remove()
    return rows


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def item_row(page: Page, item_id: int):
    return page.locator(f'#return-items tr[data-item-id="{item_id}"]')


def test_return_from_view_order_find_it_and_print_the_slip(
        app, page, live_server, accounts, violations):  # noqa: F811 (the fixture imported above)
    order = shipped_order(app, "DE--601")
    other = shipped_order(app, "DE--602")
    shoe, other_shoe, socks = db_item_ids(app, order["id"])
    reasons = add_reasons(app, "Damaged", "Does not fit")

    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    expect(page.locator("h4")).to_contain_text("View Order: DE--601")
    # the return event is not a button of its own: a return records it
    expect(page.locator('#order-events .event-button[value="return"]')).to_be_disabled()
    expect(page.locator("#order-returns")).to_contain_text("No returns.")
    page.click("#return-order")

    page.wait_for_url(re.compile(rf"/sales/returns/new/{order['id']}$"))
    expect(page.locator("h4")).to_have_text("Create Return")
    expect(page.locator("#order-link")).to_have_text("DE--601")
    expect(page.locator("#return-items td.returnable")).to_have_text(["yes"] * 3)
    expect(item_row(page, socks).locator("td").nth(4)).to_have_text("shipped")
    expect(item_row(page, shoe).locator("select.return-reason option")).to_have_text(
        ["- choose -", "Damaged", "Does not fit"])

    # A ticked item without a reason: refused, nothing saved, the form keeps what was done.
    item_row(page, shoe).locator("input[name=item]").check()
    item_row(page, shoe).locator("select.return-reason").select_option(label="Does not fit")
    item_row(page, socks).locator("input[name=item]").check()
    page.click("#create-return")
    expect(flash(page, "danger")).to_contain_text(
        f"The return was not created: say why item #{socks} is returned: choose a reason or "
        f"write one.")
    assert db_returns(app) == []
    assert set(db_states(app, order["id"]).values()) == {"shipped"}
    expect(item_row(page, shoe).locator("input[name=item]")).to_be_checked()
    expect(item_row(page, shoe).locator("select.return-reason")).to_have_value(
        str(reasons["Does not fit"]))

    item_row(page, socks).locator("input.return-note").fill("Wrong colour & a hole")
    page.click("#create-return")

    page.wait_for_url(re.compile(r"/sales/returns/\d+$"))
    expect(flash(page)).to_contain_text("Return DE--R-1 for order DE--601 created.")
    expect(page.locator("h4")).to_have_text("Return: DE--R-1")
    assert db_returns(app) == [{
        "reference": "DE--R-1", "order_id": order["id"], "state": "open",
        "created_by_name": "Agent User",
        "items": [(shoe, "Does not fit", None), (socks, None, "Wrong colour & a hole")]}]
    assert db_states(app, order["id"]) == {shoe: "returned", other_shoe: "shipped",
                                           socks: "returned"}
    assert set(db_states(app, other["id"]).values()) == {"shipped"}
    expect(page.locator("#return-state")).to_have_text("Open")
    expect(page.locator("#returned-items a.item-state")).to_have_text(["returned", "returned"])
    expect(page.locator("#returned-items td.return-reason")).to_have_text(
        ["Does not fit", "Wrong colour & a hole"])

    # Sales > Returns lists it; a search by the order's reference finds it.
    open_menu(page, "Sales", "Returns")
    page.wait_for_url(re.compile(r"/sales/returns/$"))
    expect(page.locator("h4")).to_have_text("Overview of Returns")
    page.fill("#q", "DE--601")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"q=DE--601"))
    rows = page.locator("#returns-table tr[data-return-reference]")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    expect(cells.nth(0)).to_have_text("DE--R-1")
    expect(cells.nth(2)).to_have_text("DE--601")
    expect(cells.nth(5)).to_have_text("2")
    expect(cells.nth(6)).to_have_text("returned")
    expect(cells.nth(7)).to_have_text("Open")

    # Print slip: a sheet for printing, with the reference as a barcode and the address.
    rows.first.get_by_role("link", name="Print slip").click()
    page.wait_for_url(re.compile(r"/sales/returns/\d+/slip$"))
    expect(page.locator("#slip-reference")).to_have_text("DE--R-1")
    expect(page.locator("#slip-barcode svg")).to_be_visible()
    expect(page.locator("#slip-to")).to_contain_text("Lagerstraße 5")
    expect(page.locator("#slip-items tbody tr")).to_have_count(2)
    expect(page.locator("#print-button")).to_be_visible()
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.click("#print-button")  # panel.js opens the browser's print dialog
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")  # what the printer gets: no buttons
    expect(page.locator("#print-button")).to_be_hidden()
    printed = pdf_text(page.pdf())  # Chromium's own print of the page
    assert "DE--R-1" in printed and "Lagerstraße 5" in printed and "Print" not in printed
    page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.click("#pdf-link")
    download = download_info.value
    assert download.suggested_filename == "return-slip-DE--R-1.pdf"
    content = pdf_text(Path(download.path()).read_bytes())
    for expected in ("Return slip", "DE--R-1", "DE--601", "Mrs Anna Schmidt", "Running shoe",
                     "Socks", "Does not fit", "Wrong colour & a hole", *RETURN_ADDRESS):
        assert expected in content, expected

    # View Order: the Returns box and the History.
    page.goto(f"{live_server}/sales/orders/{order['id']}")
    box = page.locator("#order-returns")
    expect(box).to_contain_text("Return DE--R-1")
    expect(box).to_contain_text("2 items")
    expect(page.locator("#history .history-return")).to_contain_text(
        "Agent User returned 2 items: return DE--R-1")
    # the returned items cannot be returned again while the return is open
    page.click("#return-order")
    expect(item_row(page, shoe).locator("td.returnable")).to_have_text(
        "no: already in open return DE--R-1")
    expect(item_row(page, shoe).locator("input[name=item]")).to_be_disabled()
    expect(item_row(page, other_shoe).locator("td.returnable")).to_have_text("yes")
    assert urlsplit(page.url).path == f"/sales/returns/new/{order['id']}"
    assert violations == [], "\n".join(sorted(set(violations)))  # nor the slip's page


def test_return_from_the_orders_list_beside_claim(app, page, live_server, accounts):
    order = shipped_order(app, "DE--611")
    add_reasons(app, "Damaged")
    items = db_item_ids(app, order["id"])
    login(page, live_server, accounts["agent"])
    page.goto(f"{live_server}/sales/orders/")
    row = page.locator('#orders-table tr[data-order-reference="DE--611"]')
    expect(row.locator("td").last.locator("a")).to_have_text(["View", "Claim", "Return"])
    row.locator("a.return-link").click()
    page.wait_for_url(re.compile(rf"/sales/returns/new/{order['id']}$"))

    page.locator("input[data-check-all=return]").check()
    for item_id in items:
        item_row(page, item_id).locator("select.return-reason").select_option(label="Damaged")
    page.click("#create-return")
    expect(flash(page)).to_contain_text("Return DE--R-1 for order DE--611 created.")
    assert [i for i, _, _ in db_returns(app)[0]["items"]] == items
    with app.app_context():
        assert set(db.session.scalars(select(OrderItem.state_name))) == {"returned"}
        db.session.remove()

    page.click("#close-button")
    expect(flash(page)).to_contain_text("Return DE--R-1 closed.")
    expect(page.locator("#return-state")).to_have_text("Closed")
    expect(page.locator("#close-button")).to_have_count(0)
    assert db_returns(app)[0]["state"] == "closed"
