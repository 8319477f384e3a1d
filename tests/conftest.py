"""Fixtures: an app on a real database (SQLite, or PostgreSQL via PANEL_TEST_DATABASE_URL),
users of every role, a logged-in client that sends CSRF tokens, and order payloads."""
from __future__ import annotations

import copy
import functools
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from panel import create_app
from panel.extensions import db
from panel.models import User
from panel.services import api_tokens
from tests import app_caches

PASSWORD = "correct horse battery"
TEST_DB_URL = os.environ.get("PANEL_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DB_URL.startswith("postgresql")
KNOWN_TABLES = None  # filled from the metadata on first use
app_caches.install()


def _database_url(tmp_root: Path) -> str:
    return TEST_DB_URL or "sqlite:///" + str(tmp_root / "panel-test.sqlite3")


def _refuse_foreign_database(engine) -> None:
    """Never wipe a database that holds anything but this project's tables."""
    names = set(sa.inspect(engine).get_table_names())
    ours = set(db.metadata.tables) | {"alembic_version"}
    strangers = names - ours
    if strangers:
        raise pytest.UsageError(
            f"PANEL_TEST_DATABASE_URL points at a database with other tables "
            f"({', '.join(sorted(strangers)[:5])}); give the tests a database of their own."
        )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = _database_url(tmp_path_factory.mktemp("db"))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        _refuse_foreign_database(db.engine)
        if ON_POSTGRES:
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return url


# Every sequence of the tests' PostgreSQL schema back to 1 (they all number a table's ids).
_RESTART_SEQUENCES = sa.text(
    "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'S' AND n.nspname = current_schema()")


def _wipe(engine) -> None:
    """Empty every table, children first, and number ids from 1 again, as a new database
    would. (On PostgreSQL, DELETE and setval take 6 ms where TRUNCATE of the 35 tables took
    80 to 125 ms, each truncation making new files: two minutes of a run.)"""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        for name in tables:
            conn.execute(sa.text(f"DELETE FROM {name}"))
        if engine.dialect.name == "postgresql":
            conn.execute(_RESTART_SEQUENCES)


@pytest.fixture
def app_config():
    """Settings a test module adds to the app's (override this fixture)."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "PANEL_SECRET_KEY_IS_GENERATED": False,
        "MAIL_SUPPRESS_SEND": True,
        **app_config,
    })
    app_caches.share_with(app)
    with app.app_context():
        _wipe(db.engine)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, for one test."""
    from tests.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class PanelClient:
    """A test client that logs in as a role and posts forms with their CSRF token.

    A login starts a new session with a new CSRF token (and a logout drops it), so the
    token is read again after either: from the login page while logged out, from the
    user's own account page while logged in."""

    def __init__(self, client):
        self.client = client
        self._token = None
        self.logged_in = False

    def __getattr__(self, name):
        return getattr(self.client, name)

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.client.get("/account/" if self.logged_in else "/login")
            self._token = csrf_token_in(page.get_data(as_text=True))
        return self._token

    def login(self, email: str, password: str = PASSWORD):
        response = self.client.post(
            "/login", data={"email": email, "password": password,
                            "csrf_token": self.csrf_token()}
        )
        if response.status_code == 302:
            self.logged_in, self._token = True, None
        return response

    def logout(self):
        response = self.post_form("/logout")
        self.logged_in, self._token = False, None
        return response

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.client.post(url, data=data, **kwargs)


def csrf_token_in(page: str) -> str:
    """The CSRF token of the first form on an HTML page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


@functools.cache
def password_hash() -> str:
    """The test accounts' hash: a cheap one (PBKDF2, 1,000 rounds). Checking the app's own
    scrypt hash costs about 110 ms per login, and the suite logs in thousands of times;
    werkzeug checks either kind, and the real hashing is tested where passwords are set
    (test_passwords, test_users_admin, test_cli)."""
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


@pytest.fixture
def accounts(app):
    """One user per role; returns {role: email}."""
    with app.app_context():
        for role in ("admin", "agent", "viewer"):
            db.session.add(User(email=f"{role}@example.org", name=f"{role.title()} User",
                                role=role, active=True, password_hash=password_hash()))
        db.session.commit()
    return {role: f"{role}@example.org" for role in ("admin", "agent", "viewer")}


@pytest.fixture
def client(app):
    return PanelClient(app.test_client())


@pytest.fixture
def as_role(app, accounts):
    """as_role("agent") gives a client logged in as that role."""

    def make(role: str) -> PanelClient:
        c = PanelClient(app.test_client())
        response = c.login(accounts[role])
        assert response.status_code == 302, response.get_data(as_text=True)
        return c

    return make


@pytest.fixture
def api_token(app):
    with app.app_context():
        return api_tokens.create_token("storefront")


ADDRESS = {
    "salutation": "Mrs", "first_name": "Anna", "last_name": "Schmidt", "country": "DE",
    "address1": "Julie-Wolfthorn-Straße 1", "city": "Berlin", "zip_code": "10115",
}


def order_payload(**overrides) -> dict:
    """A valid incoming order: 2 x 19.99 + 1 x 9.99 with 4.90 shipping, 19 % tax."""
    payload = {
        "store": "DE",
        "currency": "EUR",
        "locale": "de_DE",
        "customer": {"email": "anna@example.com", "salutation": "Mrs", "first_name": "Anna",
                     "last_name": "Schmidt"},
        "billing_address": copy.deepcopy(ADDRESS),
        "shipments": [{
            "method": "Standard", "carrier": "DHL", "price": 490,
            "address": copy.deepcopy(ADDRESS),
            "items": [
                {"sku": "SHOE-1", "name": "Running shoe", "quantity": 2, "unit_price": 1999,
                 "tax_rate": 19},
                {"sku": "SOCK-1", "name": "Socks", "quantity": 1, "unit_price": 999,
                 "tax_rate": 19},
            ],
        }],
        "payment": {"method": "invoice", "amount": 5487},
    }
    payload.update(overrides)
    return payload


def place_orders(post_order, n: int = 1, **overrides) -> list[int]:
    """Send ``n`` orders (order_payload with ``overrides``) through the API; their ids."""
    ids = []
    for _ in range(n):
        response = post_order(order_payload(**overrides))
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    return ids


@pytest.fixture
def post_order(client, api_token):
    """post_order(payload) sends it to the API with a valid token."""

    def send(payload=None, token=api_token):
        return client.post("/api/v1/orders", json=payload or order_payload(),
                           headers={"Authorization": f"Bearer {token}"})

    return send
