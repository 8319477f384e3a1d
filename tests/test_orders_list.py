"""Sales > Orders: filters, search, sort, paging and the CSV export return the right rows."""
import csv
import html
import io
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OrderItem
from tests.conftest import order_payload


def make(post_order, reference, *, email="anna@example.com", first="Anna", last="Schmidt",
         store="DE", payment="invoice", created="2026-03-01T10:00:00+00:00", **extra):
    payload = order_payload(order_reference=reference, store=store, created_at=created,
                            payment={"method": payment, "amount": 5487}, **extra)
    payload["customer"].update(email=email, first_name=first, last_name=last)
    response = post_order(payload)
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def orders(app, post_order):
    """Five orders with different customers, stores, payments, dates and states."""
    ids = {
        "DE--1": make(post_order, "DE--1", created="2026-01-05T08:00:00+00:00"),
        "DE--2": make(post_order, "DE--2", email="bob@example.com", first="Bob",
                      last="Baker", payment="paypal", created="2026-02-10T12:00:00+00:00"),
        "AT--1": make(post_order, "AT--1", store="AT", email="carla@example.at", first="Carla",
                      last="Schmidtke", created="2026-02-11T23:59:00+00:00"),
        "DE--3": make(post_order, "DE--3", email="dora@example.com", first="Dora",
                      last="Weber", payment="creditCard", created="2026-03-20T09:00:00+00:00"),
        "DE--30": make(post_order, "DE--30", email="emil@example.org", first="Emil",
                       last="Anders", created="2026-04-01T09:00:00+00:00"),
    }
    with app.app_context():
        # DE--2 is partly shipped, AT--1 is paid: states as the state machine will leave them.
        items = db.session.scalars(sa.select(OrderItem).where(OrderItem.order_id == ids["DE--2"])).all()
        items[0].state_name = "shipped"
        db.session.execute(sa.update(OrderItem).where(OrderItem.order_id == ids["AT--1"])
                           .values(state_name="paid"))
        db.session.execute(sa.update(Order).where(Order.id == ids["DE--2"])
                           .values(item_states="new shipped"))
        db.session.execute(sa.update(Order).where(Order.id == ids["AT--1"])
                           .values(item_states="paid"))
        db.session.commit()
    return ids


def references(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return re.findall(r'data-order-reference="([^"]+)"', response.get_data(as_text=True))


@pytest.fixture
def agent(as_role):
    return as_role("agent")


def test_newest_first_by_default(agent, orders):
    assert references(agent.get("/sales/orders/")) == ["DE--30", "DE--3", "AT--1", "DE--2", "DE--1"]


def test_columns_show_customer_states_total_and_item_count(agent, orders):
    page = agent.get("/sales/orders/").get_data(as_text=True)
    row = re.search(r'<tr data-order-reference="DE--2">(.*?)</tr>', page, re.S).group(1)
    assert "Bob Baker" in row
    assert re.search(r'href="/sales/messages/\d+/email" class="email-link"[^>]*>bob@example.com<', row)
    assert re.findall(r'state-label">(\w+)<', row) == ["new", "shipped"]
    assert "€54.87" in row
    assert re.search(r"<td>3</td>", row)


@pytest.mark.parametrize(
    "term, expected",
    [
        ("DE--3", ["DE--30", "DE--3"]),  # exact or prefix of the reference
        ("DE--30", ["DE--30"]),
        ("bob@example.com", ["DE--2"]),  # exact email
        ("carla@", ["AT--1"]),  # email prefix
        ("BOB@EXAMPLE", ["DE--2"]),  # case does not matter
        ("Schmidt", ["AT--1", "DE--1"]),  # last name prefix: Schmidt and Schmidtke
        ("schmidtke", ["AT--1"]),
        ("Anna Schmidt", ["DE--1"]),  # first and last name
        ("Emil", ["DE--30"]),  # first name
        ("nobody", []),
        ("chmidt", []),  # no infix matching: it could not use an index
    ],
)
def test_search(agent, orders, term, expected):
    assert references(agent.get("/sales/orders/", query_string={"q": term})) == expected


def test_filter_by_state_matches_orders_with_any_item_in_it(agent, orders):
    assert references(agent.get("/sales/orders/?state=shipped")) == ["DE--2"]
    assert references(agent.get("/sales/orders/?state=shipped&state=paid")) == ["AT--1", "DE--2"]
    assert references(agent.get("/sales/orders/?state=closed")) == []


def test_one_state_lists_newest_first_each_order_once_and_pages(app, agent, post_order):
    """One state with the default sort has its own index path: it must agree with the rest."""
    created = [f"2026-05-{day:02d}T10:00:00+00:00" for day in range(1, 15)]
    for n, at in enumerate(created):
        make(post_order, f"S-{n:02d}", created=at, store="AT" if n % 2 else "DE")
    with app.app_context():  # every item of the even orders paid: one row per order, not three
        even = sa.select(Order.id).where(Order.order_reference.in_(
            [f"S-{n:02d}" for n in range(0, 14, 2)]))
        db.session.execute(sa.update(OrderItem).where(OrderItem.order_id.in_(even))
                           .values(state_name="paid"))
        db.session.commit()
    paid = ["S-12", "S-10", "S-08", "S-06", "S-04", "S-02", "S-00"]
    assert references(agent.get("/sales/orders/?state=paid")) == paid
    page = agent.get("/sales/orders/?state=paid").get_data(as_text=True)
    assert re.search(r"\b7 orders?\b", page), "the total counts each order once"
    assert references(agent.get("/sales/orders/?state=paid&dir=asc")) == paid[::-1]
    assert references(agent.get("/sales/orders/?state=paid&per_page=10&page=1")) == paid
    assert references(agent.get("/sales/orders/?state=paid&store=AT")) == []
    assert references(agent.get("/sales/orders/?state=new&store=AT&from=2026-05-10")) == [
        "S-13", "S-11", "S-09"]
    assert references(agent.get("/sales/orders/?state=paid&to=2026-05-05")) == [
        "S-04", "S-02", "S-00"]


def test_filter_by_store_and_payment_method(agent, orders):
    assert references(agent.get("/sales/orders/?store=AT")) == ["AT--1"]
    assert references(agent.get("/sales/orders/?payment=paypal&payment=creditCard")) == ["DE--3", "DE--2"]
    assert references(agent.get("/sales/orders/?store=DE&payment=invoice")) == ["DE--30", "DE--1"]


def test_filter_by_created_date_range_includes_both_days(agent, orders):
    assert references(agent.get("/sales/orders/?from=2026-02-10&to=2026-02-11")) == ["AT--1", "DE--2"]
    assert references(agent.get("/sales/orders/?from=2026-03-20")) == ["DE--30", "DE--3"]
    assert references(agent.get("/sales/orders/?to=2026-01-05")) == ["DE--1"]


def test_filters_and_search_combine(agent, orders):
    assert references(agent.get("/sales/orders/?q=Schmidt&store=DE")) == ["DE--1"]


def test_filter_choices_list_the_values_in_use(agent, orders):
    page = agent.get("/sales/orders/?store=DE").get_data(as_text=True)
    states = re.search(r'<details [^>]*id="filter-state".*?</details>', page, re.S).group(0)
    assert re.findall(r'type="checkbox" name="state" value="(\w+)"', states) == [
        "new", "paid", "shipped"]
    stores = re.search(r'<details [^>]*id="filter-store".*?</details>', page, re.S).group(0)
    assert re.findall(r'type="checkbox" name="store" value="(\w+)"', stores) == ["AT", "DE"]
    assert re.findall(r'value="(\w+)" id="store-\d+" checked', stores) == ["DE"]


@pytest.mark.parametrize(
    "sort, direction, expected",
    [
        ("reference", "asc", ["AT--1", "DE--1", "DE--2", "DE--3", "DE--30"]),
        ("email", "asc", ["DE--1", "DE--2", "AT--1", "DE--3", "DE--30"]),
        ("created", "asc", ["DE--1", "DE--2", "AT--1", "DE--3", "DE--30"]),
        ("id", "desc", ["DE--30", "DE--3", "AT--1", "DE--2", "DE--1"]),
    ],
)
def test_sort(agent, orders, sort, direction, expected):
    response = agent.get(f"/sales/orders/?sort={sort}&dir={direction}")
    assert references(response) == expected


def test_sort_by_grand_total_and_items_is_stable(app, agent, post_order):
    cheap = order_payload(order_reference="CHEAP", payment={"method": "invoice", "amount": 2489})
    cheap["shipments"][0]["items"] = cheap["shipments"][0]["items"][:1]
    cheap["shipments"][0]["items"][0]["quantity"] = 1
    post_order(cheap)
    make(post_order, "MID-A")
    make(post_order, "MID-B")
    assert references(agent.get("/sales/orders/?sort=grand_total&dir=asc")) == ["CHEAP", "MID-A", "MID-B"]
    assert references(agent.get("/sales/orders/?sort=items&dir=desc")) == ["MID-B", "MID-A", "CHEAP"]


def test_page_size_and_paging(agent, orders):
    first = agent.get("/sales/orders/?per_page=10").get_data(as_text=True)
    assert "5 found, page 1 of 1" in first
    assert agent.get("/sales/orders/?page=2").status_code == 200
    assert references(agent.get("/sales/orders/?page=2")) == []


def test_count_is_capped_beyond_ten_thousand(app, agent, monkeypatch, orders):
    from panel.services import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    page = agent.get("/sales/orders/?per_page=10").get_data(as_text=True)
    assert "3+ found" in page


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=yesterday", "Created from: 'yesterday' is not a date"),
        ("from=2026-03-02&to=2026-03-01", "the start 2026-03-02 is after the end 2026-03-01"),
        ("sort=password_hash", "sort: 'password_hash' is not one of"),
        ("per_page=1000000", "per_page: '1000000' is not one of 10, 25, 50, 100"),
        ("page=-1", "page: '-1' is not a page number"),
    ],
)
def test_bad_list_parameters_are_named_not_ignored(agent, orders, query, message):
    response = agent.get(f"/sales/orders/?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message.replace("'", "&#39;") in page
    assert references(response, 400) == []  # no silently unfiltered list


def test_csv_export_streams_the_filtered_set(agent, orders):
    response = agent.get("/sales/orders/export.csv?store=DE&payment=invoice&page=1&per_page=10")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:7] == ["#", "Order Reference", "Created", "Customer Full Name", "Email",
                           "Order State", "Grand Total"]
    assert [r[1] for r in rows[1:]] == ["DE--30", "DE--1"]
    assert rows[2][3] == "Mrs Anna Schmidt" and rows[2][6] == "€54.87"


def test_csv_export_of_everything_is_not_paged(app, agent, orders):
    rows = list(csv.reader(io.StringIO(agent.get("/sales/orders/export.csv").get_data(as_text=True))))
    assert len(rows) == 1 + 5


def test_csv_export_refuses_bad_filters(agent, orders):
    response = agent.get("/sales/orders/export.csv?from=nope")
    assert response.status_code == 400
    assert "not a date" in response.get_data(as_text=True)


def test_csv_export_defuses_spreadsheet_formulas(agent, post_order):
    payload = order_payload(order_reference="F-1")
    payload["customer"].update(first_name='=HYPERLINK("http://x")', last_name="Smith")
    del payload["customer"]["salutation"]
    assert post_order(payload).status_code == 201
    rows = list(csv.reader(io.StringIO(agent.get("/sales/orders/export.csv").get_data(as_text=True))))
    assert rows[1][3] == "'=HYPERLINK(\"http://x\") Smith"


@pytest.mark.parametrize("term, found", [("Schmidt", "2 found"), ("Emil", "1 found"),
                                         ("nobody", "0 found")])
def test_search_counts_its_matches_exactly(agent, orders, term, found):
    # "Emil" matches the email and the name of one order: counted once.
    page = agent.get("/sales/orders/", query_string={"q": term}).get_data(as_text=True)
    assert re.search(r'id="result-count">\s*' + found, page)


def test_a_broad_search_says_how_many_at_least(app, agent, orders, monkeypatch):
    from panel.services import order_search

    monkeypatch.setattr(order_search, "NARROW_SEARCH", 1)
    page = agent.get("/sales/orders/?q=Schmidt").get_data(as_text=True)
    assert "1+ found" in page
    assert references(agent.get("/sales/orders/?q=Schmidt")) == ["AT--1", "DE--1"]
    assert references(agent.get("/sales/orders/?q=Schmidt&store=DE")) == ["DE--1"]


@pytest.mark.parametrize("recent_rows", [2000, 2, 0])
@pytest.mark.parametrize("sort, direction", [("created", "desc"), ("created", "asc"),
                                             ("reference", "asc"), ("email", "desc"),
                                             ("grand_total", "desc"), ("id", "asc")])
def test_a_broad_search_lists_the_same_orders_in_the_same_order_and_pages(
        app, agent, orders, monkeypatch, sort, direction, recent_rows):
    """A broad search by date looks among the newest orders first, then takes the newest
    matches of each search column from its index (``recent_rows``: how many newest orders
    the first look reads); by another sort it checks orders along the sort's index: the
    same matches, in the sort's order, page after page."""
    from panel.services import order_search

    monkeypatch.setattr(order_search, "RECENT_ROWS", recent_rows)

    url = f"/sales/orders/?q=d&sort={sort}&dir={direction}&per_page=10"
    narrow = references(agent.get(url))  # "d": dora@, DE--* is case-sensitive: no
    monkeypatch.setattr(order_search, "NARROW_SEARCH", 0)
    assert references(agent.get(url)) == narrow == ["DE--3"]
    monkeypatch.setattr(order_search, "NARROW_SEARCH", 2000)
    all_url = f"/sales/orders/?q=DE--&sort={sort}&dir={direction}&per_page=10"
    expected = references(agent.get(all_url))
    assert sorted(expected) == ["DE--1", "DE--2", "DE--3", "DE--30"]
    monkeypatch.setattr(order_search, "NARROW_SEARCH", 1)
    assert references(agent.get(all_url)) == expected
    with app.app_context():
        first = order_search.find_orders(order_search.OrderQuery(
            search="DE--", sort=sort, descending=direction == "desc", per_page=3))
        second = order_search.find_orders(order_search.OrderQuery(
            search="DE--", sort=sort, descending=direction == "desc", per_page=3, page=2))
        assert [o.order_reference for o in first.rows + second.rows] == expected
        assert first.total_label == "1+"


@pytest.mark.parametrize("sort, direction", [("created", "desc"), ("reference", "asc"),
                                             ("email", "desc"), ("grand_total", "asc")])
def test_a_narrow_search_is_sorted_and_paged_like_the_list(app, agent, orders, sort,
                                                            direction):
    """A search matching few orders is sorted in Python from their sort values: the same
    order as the list's own sort, page by page, with an exact count, other filters too."""
    from panel.services import order_search

    everything = references(agent.get(f"/sales/orders/?sort={sort}&dir={direction}"))
    expected = [r for r in everything if r.startswith("DE--")]
    with app.app_context():
        pages = [order_search.find_orders(order_search.OrderQuery(
            search="DE--", sort=sort, descending=direction == "desc", per_page=3, page=n))
            for n in (1, 2)]
        assert [o.order_reference for p in pages for o in p.rows] == expected
        assert pages[0].total_label == "4" and pages[1].has_next is False
        paypal = order_search.find_orders(order_search.OrderQuery(
            search="DE--", payment_methods=["paypal"], sort=sort,
            descending=direction == "desc"))
        assert [o.order_reference for o in paypal.rows] == ["DE--2"]
        assert paypal.total_label == "1"


def chips(page: str) -> list[tuple[str, str]]:
    """(text, href) of each chip above the list."""
    return [(html.unescape(text).strip(), html.unescape(href)) for href, text in re.findall(
        r'<a class="filter-chip" href="([^"]+)"[^>]*>([^<]*)<span', page)]


def test_each_filter_set_is_a_chip_linking_to_the_list_without_it(agent, orders):
    page = agent.get("/sales/orders/?q=DE&state=paid&state=shipped&store=DE&payment=paypal"
                     "&from=2026-01-01&to=2026-03-01&reclamation=open&sort=reference&dir=asc"
                     "&page=2").get_data(as_text=True)
    base = "/sales/orders/?"
    rest = "sort=reference&dir=asc"
    assert chips(page) == [
        ("Search: DE", f"{base}state=paid&state=shipped&store=DE&payment=paypal&from=2026-01-01"
                       f"&to=2026-03-01&reclamation=open&{rest}"),
        ("State: paid", f"{base}q=DE&state=shipped&store=DE&payment=paypal&from=2026-01-01"
                        f"&to=2026-03-01&reclamation=open&{rest}"),
        ("State: shipped", f"{base}q=DE&state=paid&store=DE&payment=paypal&from=2026-01-01"
                           f"&to=2026-03-01&reclamation=open&{rest}"),
        ("Store: DE", f"{base}q=DE&state=paid&state=shipped&payment=paypal&from=2026-01-01"
                      f"&to=2026-03-01&reclamation=open&{rest}"),
        ("Payment Method: paypal", f"{base}q=DE&state=paid&state=shipped&store=DE"
                                   f"&from=2026-01-01&to=2026-03-01&reclamation=open&{rest}"),
        ("Created: 2026-01-01 to 2026-03-01", f"{base}q=DE&state=paid&state=shipped&store=DE"
                                              f"&payment=paypal&reclamation=open&{rest}"),
        ("With an open reclamation", f"{base}q=DE&state=paid&state=shipped&store=DE"
                                     f"&payment=paypal&from=2026-01-01&to=2026-03-01&{rest}"),
    ]
    # Clear all keeps the sort (and page size and columns); the bare list would open the
    # user's default view, so a link that leaves nothing says so.
    assert f'id="clear-filters" href="{base}{rest}"' in html.unescape(page)
    page = agent.get("/sales/orders/?store=AT").get_data(as_text=True)
    assert chips(page) == [("Store: AT", "/sales/orders/?view=all")]
    assert 'id="clear-filters" href="/sales/orders/?view=all"' in page
    assert 'id="filter-chips"' not in agent.get("/sales/orders/").get_data(as_text=True)


def test_the_filter_buttons_count_what_is_set_and_tick_it(agent, orders):
    page = agent.get("/sales/orders/?state=paid&state=shipped&store=XX&process=DefaultOrder01"
                     "&to=2026-03-01").get_data(as_text=True)

    def menu(name):
        return re.search(rf'<details [^>]*id="filter-{name}".*?</details>', page, re.S).group(0)

    def summary(name):
        return " ".join(re.sub(r"<[^>]+>", " ", re.search(r"<summary[^>]*>(.*?)</summary>",
                                                         menu(name), re.S).group(1)).split())

    assert summary("state") == "State (2) 2 chosen"
    assert summary("store") == "Store (1) 1 chosen"
    assert summary("payment") == "Payment Method"
    assert summary("process") == "Process (1) 1 chosen"
    assert summary("created") == "Created (1) 1 chosen"
    # A value no order has any more (an old link) stays ticked, so Apply keeps it.
    assert re.findall(r'name="store" value="(\w+)" id="store-\d+"( checked)?', menu("store")) == [
        ("AT", ""), ("DE", ""), ("XX", " checked")]
    assert re.findall(r'type="radio" name="process" value="(\w*)" id="process-\d+"( checked)?',
                      menu("process")) == [("", ""), ("DefaultOrder01", " checked"),
                                           ("DummyPayment01", "")]
    assert 'name="to" value="2026-03-01"' in menu("created")


def test_a_saved_view_opens_with_its_filters_ticked(app, agent, orders):
    """A view keeps the list's URL parameters: opened, its values are the form's, named as
    before (state, store, payment, process, from, to, reclamation, q)."""
    agent.post_form("/sales/views/save", {
        "name": "Paid in DE", "query": "q=DE&state=paid&process=DefaultOrder01&store=DE"
                                       "&payment=invoice&from=2026-01-01&reclamation=open"})
    with app.app_context():
        view_id = db.session.scalar(sa.text("SELECT id FROM saved_view"))
    page = agent.get(f"/sales/orders/?view={view_id}").get_data(as_text=True)
    filters = re.search(r'<form method="get" [^>]*id="order-filters".*?</form>', page, re.S).group(0)
    ticked = re.findall(r'name="(\w+)" value="([^"]*)" id="[\w-]+" checked', filters)
    assert ticked == [("state", "paid"), ("store", "DE"), ("payment", "invoice"),
                      ("process", "DefaultOrder01")]
    assert 'name="q" value="DE"' in filters and 'name="from" value="2026-01-01"' in filters
    assert re.search(r'name="reclamation" value="open" checked', filters)


def test_the_filters_cost_no_statement_per_choice(app, agent, post_order):
    """The filters' choices are read once (and kept a while), whatever their number: the
    list asks the same statements with two stores as with twenty."""
    def statements(url):
        seen = []
        listen = lambda conn, cursor, statement, *args: seen.append(statement)  # noqa: E731
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", listen)
            try:
                assert agent.get(url).status_code == 200
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", listen)
        return len(seen)

    for n in range(2):
        make(post_order, f"S-{n}", store=f"S{n:02d}")
    app.extensions.pop("panel_filter_choices", None)
    few = statements("/sales/orders/?state=new&store=S00")
    for n in range(2, 20):
        make(post_order, f"S-{n}", store=f"S{n:02d}")
    app.extensions.pop("panel_filter_choices", None)
    many = statements("/sales/orders/?state=new&store=S00")
    assert many == few
