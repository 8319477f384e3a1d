"""The pages around returns: Sales > Returns (search, filters, pages), the Returns box and
History on View Order, the return slip as a page and as a PDF, and the return reasons that
admins keep."""
import html
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from pypdf import PdfReader

from panel import create_app
from panel.extensions import db
from panel.models import OrderItem, Return, ReturnReason, User
from panel.models.base import utcnow
from panel.oms import engine
from panel.services import returns
from panel.services.returns import ReturnLine
from tests.conftest import order_payload

RETURN_ADDRESS = ("Order Panel Returns", "Lagerstraße 5", "10115 Berlin")


@pytest.fixture
def app_config():
    return {"PANEL_RETURN_ADDRESS": RETURN_ADDRESS}


@pytest.fixture
def reason_ids(app):
    with app.app_context():
        rows = [ReturnReason(name=name, active=True) for name in ("Damaged", "Does not fit")]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


@pytest.fixture
def shop(app, accounts, post_order, reason_ids):
    """make(reference, email=..., store=..., items=n): a shipped order with n of its items
    returned by the agent; returns the return's reference."""

    def make(reference, *, email="anna@example.com", store="DE", items=1, note="",
             when=None):
        payload = order_payload(order_reference=reference, store=store)
        payload["customer"]["email"] = email
        order_id = post_order(payload).json["id"]
        with app.app_context():
            for event in ("pay", "ship"):
                engine.trigger_event(order_id, event, actor="setup")
            ids = db.session.scalars(sa.select(OrderItem.id).where(
                OrderItem.order_id == order_id).order_by(OrderItem.id)).all()[:items]
            agent = db.session.scalar(sa.select(User).where(User.role == "agent"))
            made = returns.create_return(
                order_id, [ReturnLine(i, reason_ids[n % 2], note) for n, i in enumerate(ids)],
                agent, now=when)
            return made.return_reference

    return make


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def posted(client, url: str, form: dict) -> str:
    """Post a form and read the page it leads to."""
    return text(client.post_form(url, form, follow_redirects=True))


def listed(client, query="") -> list[str]:
    page = client.get(f"/sales/returns/?{query}").get_data(as_text=True)
    return re.findall(r'<tr data-return-reference="([^"]+)"', page)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# -- Sales > Returns --------------------------------------------------------------------------


def test_the_list_shows_each_return_with_its_order_and_item_states(app, as_role, shop):
    shop("DE--7", items=2)
    agent = as_role("agent")
    page = text(agent.get("/sales/returns/"))
    row = re.search(r'<tr data-return-reference="DE--R-1">.*?</tr>', page).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == "DE--R-1"
    assert ">DE--7</a>" in cells[2] and 'href="/sales/orders/1"' in cells[2]
    assert cells[3:6] == ["Mrs Anna Schmidt", "anna@example.com", "2"]
    assert 'state-label">returned</span>' in cells[6]
    assert "Open" in cells[7]
    assert 'href="/sales/returns/1"' in cells[8] and 'href="/sales/returns/1/slip"' in cells[8]


def test_search_by_return_reference_order_reference_and_email(app, as_role, shop):
    shop("DE--7")
    shop("DE--8", email="bob@example.com")
    shop("AT--3", store="AT", email="carla@example.com")
    agent = as_role("agent")
    assert listed(agent) == ["AT--R-1", "DE--R-2", "DE--R-1"]
    assert listed(agent, "q=DE--R-2") == ["DE--R-2"]
    assert listed(agent, "q=DE--R") == ["DE--R-2", "DE--R-1"]  # the beginning of one
    assert listed(agent, "q=DE--8") == ["DE--R-2"]  # an order reference, exactly
    assert listed(agent, "q=DE--") == ["DE--R-2", "DE--R-1"]
    assert listed(agent, "q=Carla@Example.com") == ["AT--R-1"]  # an email, any case
    assert listed(agent, "q=bob") == ["DE--R-2"]
    assert listed(agent, "q=nobody") == []
    assert "No returns match." in text(agent.get("/sales/returns/?q=nobody"))


def test_filters_by_state_and_created_days(app, as_role, shop):
    now = utcnow()
    shop("DE--7", when=now - timedelta(days=10))
    shop("DE--8", when=now - timedelta(days=3))
    shop("DE--9")
    agent = as_role("agent")
    agent.post_form("/sales/returns/2/close")
    assert listed(agent, "state=open") == ["DE--R-3", "DE--R-1"]
    assert listed(agent, "state=closed") == ["DE--R-2"]
    day = lambda days: (now - timedelta(days=days)).date().isoformat()  # noqa: E731
    assert listed(agent, f"from={day(5)}") == ["DE--R-3", "DE--R-2"]
    assert listed(agent, f"to={day(3)}") == ["DE--R-2", "DE--R-1"]
    assert listed(agent, f"from={day(10)}&to={day(10)}") == ["DE--R-1"]
    assert listed(agent, f"state=open&from={day(5)}") == ["DE--R-3"]


@pytest.mark.parametrize("query, message", [
    ("state=maybe", "state: 'maybe' is not one of , open, closed"),
    ("from=2026-02-30", "Created from: '2026-02-30' is not a date (YYYY-MM-DD)"),
    ("from=2026-05-02&to=2026-05-01", "Created: the start 2026-05-02 is after the end 2026-05-01"),
    ("per_page=7", "per_page: '7' is not one of 10, 25, 50, 100"),
])
def test_a_bad_filter_is_named_and_lists_nothing(app, as_role, shop, query, message):
    shop("DE--7")
    response = as_role("agent").get(f"/sales/returns/?{query}")
    assert response.status_code == 400
    page = text(response)
    assert message in page and 'data-return-reference' not in page


def test_pages_of_returns(app, as_role, shop):
    for n in range(12):
        shop(f"DE--{100 + n}")
    agent = as_role("agent")
    first = text(agent.get("/sales/returns/?per_page=10"))
    assert "12 found, page 1 of 2" in first
    assert len(re.findall(r"<tr data-return-reference=", first)) == 10
    assert listed(agent, "per_page=10&page=2") == ["DE--R-2", "DE--R-1"]


# -- View Order ------------------------------------------------------------------------------


def test_view_order_has_a_returns_box_and_history(app, as_role, shop):
    shop("DE--7", items=2)
    agent = as_role("agent")
    agent.post_form("/sales/returns/1/close")
    page = text(agent.get("/sales/orders/1"))
    box = re.search(r'<div class="card mb-3" id="order-returns">.*?</ul>', page).group(0)
    assert ">Return DE--R-1</a>" in box and "Closed" in box and "2 items" in box
    assert "by Agent User" in box and 'href="/sales/returns/1/slip"' in box
    assert "Agent User returned 2 items: " in page and ">return DE--R-1</a>" in page
    assert "Agent User closed " in page
    only_returns = text(agent.get("/sales/orders/1?kind=return"))
    entries = re.findall(r'data-kind="(\w+)"', only_returns)
    assert entries == ["return", "return"]


# -- the return slip -------------------------------------------------------------------------


def test_the_slip_page_is_made_for_printing(app, as_role, shop):
    shop("DE--7", items=2, note="Sole came off")
    page = text(as_role("viewer").get("/sales/returns/1/slip"))
    assert "<title>Return slip DE--R-1 - Order Panel</title>" in page
    assert "@media print { .toolbar { display: none; }" in page
    assert 'id="print-button"' in page and 'href="/sales/returns/1/slip.pdf"' in page
    barcode = re.search(r'<div class="barcode" id="slip-barcode">(.*?)</div>', page).group(0)
    assert "<svg" in barcode and "DE--R-1" in barcode
    assert "DE--7 of " in page and "Mrs Anna Schmidt · anna@example.com" in page
    assert "Order Panel Returns<br>Lagerstraße 5<br>10115 Berlin" in page
    assert "Julie-Wolfthorn-Straße 1" in page  # where the parcel comes from
    assert re.findall(r"<td>(Running shoe)</td><td>(SHOE-1)</td>", page) == [
        ("Running shoe", "SHOE-1")] * 2
    assert "Damaged" in page and "Does not fit" in page and "Sole came off" in page


def test_the_slip_pdf_reads_back(app, as_role, shop):
    shop("DE--7", items=3, note="Sole came off")
    response = as_role("agent").get("/sales/returns/1/slip.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="return-slip-DE--R-1.pdf"'
    content = pdf_text(response.data)
    assert "Return slip" in content and content.count("DE--R-1") >= 2  # text and barcode
    assert "DE--7" in content and "Mrs Anna Schmidt" in content
    for line in RETURN_ADDRESS:
        assert line in content
    assert content.count("Running shoe") == 2 and "Socks" in content and "SOCK-1" in content
    assert "Damaged" in content and "Does not fit" in content and "Sole came off" in content
    assert "Print" not in content.replace("Printed", "")  # the buttons are not on paper


def test_a_slip_without_a_return_address_says_so(app, as_role, shop):
    app.config["PANEL_RETURN_ADDRESS"] = ()
    shop("DE--7")
    content = pdf_text(as_role("agent").get("/sales/returns/1/slip.pdf").data)
    assert "No return address is set (PANEL_RETURN_ADDRESS)" in " ".join(content.split())


def test_an_unknown_return_is_not_found(app, as_role):
    agent = as_role("agent")
    for url in ("/sales/returns/9", "/sales/returns/9/slip", "/sales/returns/9/slip.pdf"):
        assert agent.get(url).status_code == 404, url
    assert agent.post_form("/sales/returns/9/close").status_code == 404


def test_markup_is_text_on_every_return_page(app, as_role, post_order, reason_ids):
    script = "<script>alert(1)</script>"
    payload = order_payload(order_reference="DE--7")
    payload["customer"]["first_name"] = script
    payload["shipments"][0]["items"][0]["name"] = script
    payload["shipments"][0]["address"]["city"] = script
    order_id = post_order(payload).json["id"]
    admin = as_role("admin")
    posted(admin, f"/administration/return-reasons/{reason_ids[0]}/rename", {"name": script})
    with app.app_context():
        for event in ("pay", "ship"):
            engine.trigger_event(order_id, event, actor="setup")
        first = db.session.scalar(sa.select(OrderItem.id).where(OrderItem.order_id == order_id))
    response = admin.post_form(f"/sales/returns/new/{order_id}", {
        "item": str(first), f"reason-{first}": str(reason_ids[0]), f"note-{first}": script})
    assert response.status_code == 302
    for url in (f"/sales/returns/new/{order_id}", "/sales/returns/1", "/sales/returns/",
                "/sales/returns/1/slip", f"/sales/orders/{order_id}",
                "/administration/return-reasons/"):
        page = admin.get(url).get_data(as_text=True)
        assert script not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    content = pdf_text(admin.get("/sales/returns/1/slip.pdf").data)
    assert content.count(script) >= 3  # name, item, reason, note: as text on paper


# -- return reasons -------------------------------------------------------------------------


def reasons(app) -> list[tuple[str, bool]]:
    with app.app_context():
        return [(r.name, r.active) for r in db.session.scalars(
            sa.select(ReturnReason).order_by(ReturnReason.id))]


def test_admins_add_rename_deactivate_and_activate_reasons(app, as_role):
    admin = as_role("admin")
    page = posted(admin, "/administration/return-reasons/new", {"name": "  Damaged  "})
    assert 'Return reason "Damaged" added.' in page
    posted(admin, "/administration/return-reasons/new", {"name": "Too big"})
    assert reasons(app) == [("Damaged", True), ("Too big", True)]
    page = posted(admin, "/administration/return-reasons/2/rename",
                  {"name": "Too big or too small"})
    assert 'Return reason renamed to "Too big or too small".' in page
    page = posted(admin, "/administration/return-reasons/1/active", {"active": "0"})
    assert 'Return reason "Damaged" is no longer offered.' in page
    assert reasons(app) == [("Damaged", False), ("Too big or too small", True)]
    page = posted(admin, "/administration/return-reasons/1/active", {"active": "1"})
    assert 'Return reason "Damaged" is offered again.' in page
    assert reasons(app) == [("Damaged", True), ("Too big or too small", True)]


@pytest.mark.parametrize("url, name, message", [
    ("/administration/return-reasons/new", "", "a reason needs a name"),
    ("/administration/return-reasons/new", "damaged", "there is a reason named 'Damaged' already"),
    ("/administration/return-reasons/new", "x" * 101,
     "the name is 101 characters long; at most 100 are allowed"),
    ("/administration/return-reasons/new", "bell\x07", "the name contains a control character"),
    ("/administration/return-reasons/new", "\u200b", "the name contains only invisible"),
    ("/administration/return-reasons/2/rename", "DAMAGED",
     "there is a reason named 'Damaged' already"),
    ("/administration/return-reasons/9/rename", "Other", "there is no return reason #9"),
])
def test_a_bad_reason_name_is_refused_and_changes_nothing(app, as_role, url, name, message):
    admin = as_role("admin")
    admin.post_form("/administration/return-reasons/new", {"name": "Damaged"})
    admin.post_form("/administration/return-reasons/new", {"name": "Too big"})
    page = posted(admin, url, {"name": name})
    assert f"Nothing was changed: {message}" in page
    assert reasons(app) == [("Damaged", True), ("Too big", True)]


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_only_admins_change_reasons_but_everyone_reads_them(app, as_role, role):
    as_role("admin").post_form("/administration/return-reasons/new", {"name": "Damaged"})
    client = as_role(role)
    for url, form in (("/administration/return-reasons/new", {"name": "Mine"}),
                      ("/administration/return-reasons/1/rename", {"name": "Mine"}),
                      ("/administration/return-reasons/1/active", {"active": "0"})):
        assert client.post_form(url, form).status_code == 403, url
    page = client.get("/administration/return-reasons/").get_data(as_text=True)
    assert "Damaged" in page and "rename-button" not in page and "add-reason" not in page
    assert reasons(app) == [("Damaged", True)]


def test_a_new_database_offers_the_seeded_reasons(tmp_path):
    url = "sqlite:///" + str(tmp_path / "seeded.sqlite3")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        names = db.session.scalars(sa.select(ReturnReason.name).where(ReturnReason.active)
                                   .order_by(ReturnReason.id)).all()
        db.session.remove()
        db.engine.dispose()
    assert names == ["Damaged", "Wrong item sent", "Does not fit", "Not as described",
                     "Arrived too late", "No longer wanted"]


def test_a_renamed_reason_reads_anew_on_old_returns(app, as_role, shop, reason_ids):
    shop("DE--7")
    admin = as_role("admin")
    admin.post_form(f"/administration/return-reasons/{reason_ids[0]}/rename",
                    {"name": "Arrived damaged"})
    admin.post_form(f"/administration/return-reasons/{reason_ids[0]}/active", {"active": "0"})
    assert "Arrived damaged" in text(admin.get("/sales/returns/1"))
    with app.app_context():
        assert db.session.get(Return, 1).items[0].reason.name == "Arrived damaged"
