"""Prefix search on a PostgreSQL database created with a collation other than C: the same
orders match as on SQLite (code point order, case as typed for references), and the
searched columns' indexes serve the prefix range.

The database is made here (ICU German, then ICU English: orders that sort case, hyphens and
accents by other rules than code points) from the test server's URL, migrated from empty.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from panel import create_app
from panel.extensions import db
from panel.models import Order
from panel.services import customers, order_search
from panel.services.intake import receive_order
from panel.services.intake_schema import OrderIn
from tests.conftest import ON_POSTGRES, TEST_DB_URL, order_payload

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="about PostgreSQL collations; set PANEL_TEST_DATABASE_URL to a "
                            "PostgreSQL database to run it")

# (reference, email, first name, last name)
ORDERS = [
    ("DE--1", "anna@example.com", "Anna", "Schmidt"),
    ("DE--10", "Anna.b@example.com", "Änne", "schmidt-Weber"),
    ("de--11", "annab@example.com", "Anna", "Schmidtke"),
    ("DE-1", "anna-b@example.com", "Bert", "Schmitt"),
    ("DE1", "ann@example.com", "Anna", "Smith"),
    ("DE--1_b", "enna@example.com", "Ännchen", "Schmídt"),
    ("DE--2", "bob@example.com", "Bob", "Baker"),
]


@pytest.fixture(scope="module", params=["de-DE-x-icu", "en-US-x-icu"])
def collated_app(request):
    """An app on a new database whose default collation is this ICU collation."""
    base = make_url(TEST_DB_URL)
    name = f"{base.database}_{request.param.split('-x-')[0].replace('-', '_').lower()}"
    locale = request.param.removesuffix("-x-icu")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu "
            f"ICU_LOCALE '{locale}' LOCALE 'C.UTF-8'"))
    url = base.set(database=name).render_as_string(hide_password=False)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": "test", "PANEL_SECRET_KEY_IS_GENERATED": False,
                      "MAIL_SUPPRESS_SEND": True})
    with app.app_context():
        collation = db.session.scalar(sa.text(
            "SELECT daticulocale FROM pg_database WHERE datname = current_database()"))
        assert collation == locale
        upgrade()
        for n, (reference, email, first, last) in enumerate(ORDERS):
            payload = order_payload(order_reference=reference,
                                    created_at=f"2026-03-0{n + 1}T10:00:00+00:00")
            payload["customer"].update(email=email, first_name=first, last_name=last)
            receive_order(OrderIn.model_validate(payload))
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def found(app, term: str, **query) -> list[str]:
    with app.app_context():
        page = order_search.find_orders(order_search.OrderQuery(search=term, per_page=100,
                                                                **query))
        return sorted(order.order_reference for order in page.rows)


@pytest.mark.parametrize("term, expected", [
    ("DE--1", ["DE--1", "DE--10", "DE--1_b"]),  # not "de--11", "DE-1" or "DE1"
    ("de--1", ["de--11"]),  # a reference as typed, case and all
    ("anna", ["DE--1", "DE--10", "DE-1", "DE1", "de--11"]),  # emails (lower case), names
    ("anna-", ["DE-1"]),
    ("schmidt", ["DE--1", "DE--10", "de--11"]),  # last names: not Schmitt, Schmídt
    ("schmí", ["DE--1_b"]),
    ("änn", ["DE--10", "DE--1_b"]),
    ("ann@", ["DE1"]),
])
def test_prefix_search_matches_in_code_point_order_whatever_the_collation(
        collated_app, term, expected):
    assert found(collated_app, term) == expected


def test_a_broad_search_walking_the_sort_index_matches_the_same(collated_app, monkeypatch):
    monkeypatch.setattr(order_search, "NARROW_SEARCH", 1)
    assert found(collated_app, "DE--1") == ["DE--1", "DE--10", "DE--1_b"]
    assert found(collated_app, "schmidt", sort="grand_total") == ["DE--1", "DE--10", "de--11"]


def test_customer_search_matches_in_code_point_order(collated_app):
    with collated_app.app_context():
        page = customers.find_customers(customers.CustomerQuery(search="ann", per_page=100))
        emails = sorted(customer.email for customer in page.rows)
    assert emails == ["ann@example.com", "anna-b@example.com", "anna.b@example.com",
                      "anna@example.com", "annab@example.com"]


@pytest.mark.parametrize("column, value", [
    (Order.order_reference, "DE--1"), (Order.email, "anna"),
    (Order.search_last_name, "schmidt"), (Order.search_full_name, "anna s"),
])
def test_the_prefix_range_is_served_by_the_columns_index(collated_app, column, value):
    with collated_app.app_context():
        db.session.execute(sa.text("SET enable_seqscan = off"))
        stmt = sa.select(Order.id).where(order_search.starts_with(column, value))
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {compiled}")))
        db.session.rollback()
    assert "Index" in plan and "Seq Scan" not in plan, plan
