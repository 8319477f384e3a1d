"""The page layout's shared parts (asset links, menu) and the list pages' links, which are
built once and reused: what each user sees must still be theirs."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from tests.conftest import order_payload


def menu(page: str) -> str:
    """The main menu: from its list to the list of links on the right."""
    return page.split('<ul class="nav navbar-nav mr-auto">', 1)[1].split(
        '<ul class="nav navbar-nav navbar-right">', 1)[0]


def test_an_admin_seen_first_does_not_give_the_agent_the_admin_menu(as_role):
    admin_page = as_role("admin").get("/sales/orders/").get_data(as_text=True)
    agent_page = as_role("agent").get("/sales/orders/").get_data(as_text=True)
    assert "Administration" in menu(admin_page)
    assert "Administration" not in menu(agent_page)
    assert "Sales" in menu(agent_page)


def test_the_menu_marks_the_page_being_shown(as_role):
    agent = as_role("agent")
    orders = agent.get("/sales/orders/").get_data(as_text=True)
    customers = agent.get("/customers/").get_data(as_text=True)
    assert menu(orders) != menu(customers)
    assert 'href="/sales/orders/"' in menu(orders)
    # Flask-Admin marks the active entry of a category with the class "active".
    assert re.search(r'dropdown-item active[^"]*" href="/sales/orders/"', menu(orders))
    assert re.search(r'dropdown-item active[^"]*" href="/customers/"', menu(customers))
    assert not re.search(r'dropdown-item active[^"]*" href="/customers/"', menu(orders))


def test_asset_links_follow_a_proxy_prefix_after_a_page_without_one(as_role):
    # (The menu's links are Flask-Admin's own: each entry keeps the URL it first built.)
    agent = as_role("agent")
    plain = agent.get("/sales/orders/").get_data(as_text=True)
    prefixed = agent.get("/sales/orders/", base_url="http://localhost/backoffice"
                         ).get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+/static/admin/[^"]+)"', prefixed)
    assert assets and all(url.startswith("/backoffice/static/admin/") for url in assets)
    assert not re.search(r'(?:src|href)="/backoffice', plain)


def test_pager_and_sort_links_keep_the_query_and_change_one_value(as_role, post_order):
    for n in range(25):
        assert post_order(order_payload(order_reference=f"LINK-{n}")).status_code == 201
    page = as_role("agent").get("/sales/orders/?q=anna&store=DE&store=AT&per_page=10&page=2"
                                ).get_data(as_text=True)
    assert "25 found, page 2 of 3" in page
    by_label = {label: url.replace("&amp;", "&") for url, label in re.findall(
        r'<a class="page-link"(?: rel="(?:prev|next)")? href="([^"]+)">(\w+)</a>', page)}
    for label, expected_page in (("First", "1"), ("Previous", "1"), ("Next", "3")):
        url = urlsplit(by_label[label])
        query = parse_qs(url.query)
        assert url.path == "/sales/orders/"
        assert query == {"q": ["anna"], "store": ["DE", "AT"], "per_page": ["10"],
                         "page": [expected_page]}
    sort = re.search(r'<a href="([^"]*sort=grand_total[^"]*)"', page).group(1)
    assert parse_qs(urlsplit(sort.replace("&amp;", "&")).query) == {
        "q": ["anna"], "store": ["DE", "AT"], "per_page": ["10"], "page": ["1"],
        "sort": ["grand_total"], "dir": ["desc"]}
    export = re.search(r'href="([^"]*/export\.csv[^"]*)"', page).group(1)
    assert parse_qs(urlsplit(export.replace("&amp;", "&")).query) == {
        "q": ["anna"], "store": ["DE", "AT"]}
