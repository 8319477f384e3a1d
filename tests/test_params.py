"""Ids, days and page numbers in URLs, query strings and forms: one reading everywhere.

Each example of issue 13's probe is here: ids of 2^63 and beyond (404 in a path, a named
refusal in a form), ``to=9999-12-31`` on every list that filters by day, digits of other
scripts (``²``, ``９``) that are not ids, and Flask-Admin's own pages. Nothing may be a 500, and
nothing may move or be saved.
"""
import html
import re
from datetime import date

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import OrderItem, Reclamation, Selection, User
from panel.params import MAX_ID, ParameterError, parse_id, read_day

HUGE = "9223372036854775808"  # 2^63: beyond every integer type of the databases
BEYOND_COLUMN = str(MAX_ID + 1)  # 2^31: beyond PostgreSQL's INTEGER, within SQLite's
NOT_AN_ID = "is not an id (a number from 1 to 2147483647 in the digits 0-9)"


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def after_redirect(client, response) -> str:
    assert response.status_code == 302, response.status_code
    return text(client.get(response.headers["Location"]))


def item_states(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(sa.select(OrderItem.id, OrderItem.state_name)).all())


@pytest.fixture
def order(post_order) -> dict:
    return post_order().json


@pytest.fixture
def three_orders(app, post_order) -> dict[int, int]:
    """Three orders of three items each: item id -> order id, item 9 among them."""
    for _ in range(3):
        assert post_order().status_code == 201
    with app.app_context():
        owners = dict(db.session.execute(sa.select(OrderItem.id, OrderItem.order_id)).all())
    assert 9 in owners
    return owners


# -- the parsers' rules -----------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("1", 1), ("42", 42), ("007", 7), (str(MAX_ID), MAX_ID), ("0" * 50 + "5", 5),
    ("0", None), (BEYOND_COLUMN, None), (HUGE, None), ("9" * 5000, None), ("", None),
    ("-1", None), ("+1", None), (" 1", None), ("1 ", None), ("1e9", None), ("1.0", None),
    ("²", None), ("９", None), ("١٢", None), ("1\n", None),
])
def test_an_id_is_ascii_digits_within_the_id_columns(value, expected):
    assert parse_id(value) == expected


@pytest.mark.parametrize("value, expected", [
    ("2026-03-01", date(2026, 3, 1)), ("1900-01-01", date(1900, 1, 1)),
    ("9998-12-31", date(9998, 12, 31)), (" 2026-03-01 ", date(2026, 3, 1)), ("", None),
])
def test_a_day_is_yyyy_mm_dd_in_ascii_digits_within_the_range(value, expected):
    assert read_day("Created from", value) == expected


@pytest.mark.parametrize("value", [
    "9999-12-31", "0001-01-01", "1899-12-31", "2026-02-30", "20260301", "2026-W09-7",
    "２０２６-03-01", "2026-0３-01", "2026-03-01T00:00", "0000-01-01",
])
def test_anything_else_is_not_a_day(value):
    with pytest.raises(ParameterError, match=r"^Created from: "):
        read_day("Created from", value)


def test_bad_days_are_named_with_what_is_wrong():
    with pytest.raises(ParameterError, match=r"^Created to: '9999-12-31' is outside the dates "
                                             r"the panel handles \(1900-01-01 to 9998-12-31\)$"):
        read_day("Created to", "9999-12-31")
    with pytest.raises(ParameterError, match=r"^Created to: '２０２６-03-01' is not a date "
                                             r"\(YYYY-MM-DD\)$"):
        read_day("Created to", "２０２６-03-01")
    assert read_day("Created to", "  ") is None


# -- ids in the URL path: 404, never a 500 ----------------------------------------------------


@pytest.mark.parametrize("number", [HUGE, BEYOND_COLUMN, "9" * 400])
def test_ids_beyond_the_columns_in_any_path_are_not_found(app, as_role, order, number):
    admin = as_role("admin")
    selection = admin.post_form("/sales/bulk/select", {"order": str(order["id"])})
    assert selection.status_code == 303
    selection_url = selection.headers["Location"]
    order_id = order["id"]
    for url in (f"/sales/orders/{number}", f"/customers/{number}",
                f"/sales/reclamations/{number}", f"/sales/reclamations/new/{number}",
                f"/sales/messages/{order_id}/emails/{number}",
                f"/sales/orders/{order_id}/addresses/{number}/edit",
                f"/sales/bulk/selections/{number}", f"{selection_url}/runs/{number}",
                f"{selection_url}/runs/{number}/report.csv"):
        response = admin.get(url)
        assert response.status_code == 404, url
    for url in (f"/sales/orders/{number}/trigger", f"/sales/reclamations/{number}/close",
                f"/sales/messages/{number}/comments", f"{selection_url}/runs/{number}/batch"):
        response = admin.post_form(url, {"event": "pay", "message": "hello", "note": "x"})
        assert response.status_code == 404, url
    assert set(item_states(app).values()) == {"new"}


@pytest.mark.parametrize("digit", ["１", "¹", "١"])  # fullwidth, superscript, Arabic-Indic
def test_other_scripts_digits_in_a_path_are_not_an_id(as_role, order, digit):
    assert order["id"] == 1
    viewer = as_role("viewer")
    assert viewer.get("/sales/orders/1").status_code == 200
    assert viewer.get(f"/sales/orders/{digit}").status_code == 404
    assert viewer.get(f"/customers/{digit}").status_code == 404


# -- ids in forms: named, nothing moves ------------------------------------------------------


@pytest.mark.parametrize("form, message", [
    ({"event": "pay", "shipment": HUGE}, f"shipment: '{HUGE}' {NOT_AN_ID}"),
    ({"event": "pay", "shipment": BEYOND_COLUMN}, f"shipment: '{BEYOND_COLUMN}' {NOT_AN_ID}"),
    ({"event": "pay", "shipment": "1", "item": HUGE}, f"item: '{HUGE}' {NOT_AN_ID}"),
    ({"event": "pay", "shipment": "1", "item": ["1", "²"]}, f"item: '²' {NOT_AN_ID}"),
    ({"item_event": f"{HUGE}:pay"}, f"item_event: '{HUGE}' {NOT_AN_ID}"),
    ({"item_event": "²:deliver"}, f"item_event: '²' {NOT_AN_ID}"),
    ({"item_event": "pay"}, "item_event: 'pay' is not <item id>:<event>"),
])
def test_trigger_form_names_a_bad_id_and_moves_nothing(app, as_role, order, form, message):
    agent = as_role("agent")
    response = agent.post_form(f"/sales/orders/{order['id']}/trigger", form)
    page = after_redirect(agent, response)
    assert f"Nothing was triggered: {message}." in page
    assert set(item_states(app).values()) == {"new"}


def test_fullwidth_nine_does_not_move_item_nine(app, as_role, three_orders):
    agent = as_role("agent")
    order_of_nine = three_orders[9]
    before = item_states(app)
    response = agent.post_form(f"/sales/orders/{order_of_nine}/trigger", {"item_event": "９:pay"})
    page = after_redirect(agent, response)
    assert "Nothing was triggered: item_event: '９' is not an id" in page
    assert item_states(app) == before
    assert before[9] == "new"


def test_a_reclamation_trigger_takes_only_ascii_ids(app, as_role, three_orders):
    agent = as_role("agent")
    order_of_nine = three_orders[9]
    response = agent.post_form(f"/sales/reclamations/new/{order_of_nine}",
                               {"item": "9", "reason": "Broken."})
    assert response.status_code == 302
    with app.app_context():
        reclamation_id = db.session.scalar(sa.select(Reclamation.id))
    before = item_states(app)
    for item_event, message in (("９:pay", "item_event: '９' is not an id"),
                                ("²:deliver", "item_event: '²' is not an id"),
                                (f"{HUGE}:pay", f"item_event: '{HUGE}' is not an id")):
        response = agent.post_form(f"/sales/reclamations/{reclamation_id}/trigger",
                                   {"item_event": item_event})
        assert f"Nothing was triggered: {message}" in after_redirect(agent, response)
    assert item_states(app) == before


@pytest.mark.parametrize("items", [[HUGE], ["９"], ["1", BEYOND_COLUMN]])
def test_claiming_names_a_bad_item_id_and_saves_nothing(app, as_role, order, items):
    response = as_role("agent").post_form(f"/sales/reclamations/new/{order['id']}",
                                          {"item": items, "reason": "Broken."})
    assert response.status_code == 400
    assert "The reclamation was not created: item: '" in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Reclamation)) == 0


def test_bulk_selection_names_a_bad_order_id_and_saves_nothing(app, as_role, order):
    agent = as_role("agent")
    response = agent.post_form("/sales/bulk/select", {"order": [str(order["id"]), "９"]})
    assert "Nothing was selected: order: '９' is not an id" in after_redirect(agent, response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Selection)) == 0


# -- days: to=9999-12-31 wherever a list filters by day ---------------------------------------

OUT_OF_RANGE = "'9999-12-31' is outside the dates the panel handles (1900-01-01 to 9998-12-31)"


@pytest.mark.parametrize("url, label", [
    ("/sales/orders/?to=9999-12-31", "Created to"),
    ("/customers/?to=9999-12-31", "Registered to"),
])
def test_a_day_beyond_the_range_is_named_on_the_list(as_role, order, url, label):
    response = as_role("viewer").get(url)
    assert response.status_code == 400
    assert f"{label}: {OUT_OF_RANGE}" in text(response)


def test_the_last_day_of_the_range_still_lists(as_role, order):
    viewer = as_role("viewer")
    response = viewer.get("/sales/orders/?from=1900-01-01&to=9998-12-31")
    assert response.status_code == 200 and "DE--1" in text(response)
    response = viewer.get("/customers/?from=1900-01-01&to=9998-12-31")
    assert response.status_code == 200 and "anna@example.com" in text(response)


def test_csv_export_names_a_day_beyond_the_range(as_role, order):
    response = as_role("viewer").get("/sales/orders/export.csv?to=9999-12-31")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"Created to: {OUT_OF_RANGE}\n"


def test_bulk_select_all_names_a_day_beyond_the_range(app, as_role, order):
    agent = as_role("agent")
    response = agent.post_form("/sales/bulk/select", {"scope": "all", "filter": "to=9999-12-31"})
    page = after_redirect(agent, response)
    assert f"Nothing was selected: the filter is not valid (Created to: {OUT_OF_RANGE})." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Selection)) == 0


def test_a_day_in_other_digits_is_not_a_date(as_role, order):
    response = as_role("viewer").get("/sales/orders/?from=２０２６-03-01")
    assert response.status_code == 400
    assert "Created from: '２０２６-03-01' is not a date (YYYY-MM-DD)" in text(response)


# -- page numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["９", "²", HUGE, "9" * 5000, "0"])
def test_list_page_numbers_are_ascii_and_bounded(as_role, order, page):
    response = as_role("viewer").get("/sales/orders/", query_string={"page": page})
    assert response.status_code == 400
    assert "page: '" in text(response) and "is not a page number (1 to 1000000)" in text(response)


# -- the query string goes back into links as it came --------------------------------------


@pytest.mark.parametrize("name", ["_anchor", "_scheme", "_method", "_external", "endpoint"])
def test_url_building_words_in_the_query_string_are_plain_parameters(app, as_role, order, name):
    agent = as_role("agent")
    response = agent.get("/sales/orders/", query_string={name: "x"})
    assert response.status_code == 200 and "DE--1" in text(response)
    assert f'href="/sales/orders/export.csv?{name}=x"' in response.get_data(as_text=True)
    response = agent.post_form("/sales/bulk/select", {"filter": f"{name}=x", "order": "x"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sales/orders/?{name}=x"


def test_a_long_unknown_history_kind_is_named_short(as_role, order):
    response = as_role("viewer").get(f"/sales/orders/{order['id']}",
                                     query_string={"kind": "x" * 5000})
    assert response.status_code == 200
    assert f"History has no kind '{'x' * 40}…'; showing everything." in text(response)


# -- Flask-Admin's own pages (Users, Sign-ins) ---------------------------------------------


@pytest.mark.parametrize("url, message", [
    ("/administration/users/?page=-1", "page: '-1' is not a page number (0 to 999999)"),
    (f"/administration/users/?page={HUGE}", f"page: '{HUGE}' is not a page number"),
    ("/administration/sign-ins/?page=-5", "page: '-5' is not a page number"),
    ("/administration/sign-ins/?page=９", "page: '９' is not a page number"),
    ("/administration/users/?search=" + "x" * 60000, "search: at most 200 characters"),
])
def test_model_view_list_parameters_are_named(as_role, url, message):
    response = as_role("admin").get(url)
    assert response.status_code == 400
    assert message in text(response)


def test_model_view_list_pages_still_page(app, as_role):
    admin = as_role("admin")
    with app.app_context():
        for n in range(25):
            db.session.add(User(email=f"user{n:02}@example.org", name=f"User {n}",
                                role="viewer", active=True, password_hash="x"))
        db.session.commit()
    first = text(admin.get("/administration/users/"))
    second = admin.get("/administration/users/?page=1")
    assert second.status_code == 200
    assert "viewer@example.org" in text(second) and "viewer@example.org" not in first


@pytest.mark.parametrize("record_id", ["abc", "1,2", "９", "-1", HUGE, BEYOND_COLUMN])
def test_model_view_edit_of_a_non_id_finds_no_record(app, as_role, record_id):
    admin = as_role("admin")
    response = admin.get("/administration/users/edit/", query_string={"id": record_id})
    assert response.status_code == 302
    assert "Record does not exist." in after_redirect(admin, response)
    response = admin.post_form("/administration/users/edit/?id=" + record_id,
                               {"email": "taken@example.org", "name": "Taken", "role": "admin"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).where(User.email == "taken@example.org")) \
            is None


def test_model_view_edit_of_an_id_still_edits(app, as_role):
    admin = as_role("admin")
    with app.app_context():
        viewer_id = db.session.scalar(sa.select(User.id).where(User.role == "viewer"))
    page = admin.get(f"/administration/users/edit/?id={viewer_id}")
    assert page.status_code == 200 and "viewer@example.org" in text(page)


@pytest.mark.parametrize("name", ["endpoint", "_anchor", "_scheme", "_method", "_external"])
def test_model_view_list_keeps_url_for_words_out_of_its_links(as_role, name):
    response = as_role("admin").get("/administration/users/", query_string={name: "x"})
    assert response.status_code == 200
    assert "admin@example.org" in text(response)
