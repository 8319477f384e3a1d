"""What the 503 page says when the database stops answering partway through a request: the
user's frame (name, menu) stays, the message is true about what was saved, and an expected
fault leaves one line in the log, no traceback."""
from __future__ import annotations

import logging
import re
import sqlite3

import pytest
import sqlalchemy as sa
from flask_login import current_user

from panel.extensions import db
from panel.models import Comment
from panel.services import comments
from tests.conftest import ON_POSTGRES


def make_the_database_refuse_the_next_statement(database_url: str):
    """Return a function that undoes it. SQLite: another connection holds the write lock
    and this request's connection waits only briefly. PostgreSQL: the next statement of this
    transaction is cancelled by a statement timeout."""
    if ON_POSTGRES:
        db.session.execute(sa.text("SET LOCAL statement_timeout = '1ms'"))
        db.session.execute(sa.text("SELECT pg_sleep(0.05)"))  # cancelled: the fault
        return lambda: None
    db.session.execute(sa.text("PRAGMA busy_timeout = 50"))
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    def release():
        other.execute("ROLLBACK")
        other.close()

    return release


@pytest.fixture
def order_id(post_order):
    return post_order().json["id"]


@pytest.fixture
def routes(app, database_url):
    """Two test-only routes that write a comment while the database refuses to; one of
    them commits another comment first."""
    releases = []

    def write_into_a_fault(order_id: int) -> None:
        releases.append(make_the_database_refuse_the_next_statement(database_url))
        comments.add_comment(order_id, "second, never saved", current_user)

    @app.post("/faults/<int:order_id>/two-writes")
    def two_writes(order_id):
        comments.add_comment(order_id, "first, saved", current_user)
        write_into_a_fault(order_id)
        return "not reached"

    @app.post("/faults/<int:order_id>/one-write")
    def one_write(order_id):
        write_into_a_fault(order_id)
        return "not reached"

    yield
    for release in releases:
        release()


def saved_comments(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Comment.message).order_by(Comment.id)))


def plain(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_fault_after_part_of_the_request_was_saved_says_so_in_the_users_frame(
        app, routes, as_role, order_id, caplog):
    agent = as_role("agent")
    with caplog.at_level(logging.INFO):
        response = agent.post_form(f"/faults/{order_id}/two-writes")

    assert response.status_code == 503
    text = plain(response)
    assert "what was done before that was saved, the rest was not" in text
    assert "nothing was saved" not in text
    assert "Agent User (agent)" in text and "Sales" in text and "Log out" in text
    assert saved_comments(app) == ["first, saved"]
    assert not [r for r in caplog.records if r.exc_info]  # an expected fault: no traceback
    assert [r.getMessage() for r in caplog.records if r.name == "panel.errors"]


def test_a_fault_before_anything_was_saved_says_nothing_was_saved(app, routes, as_role,
                                                                  order_id, caplog):
    agent = as_role("agent")
    with caplog.at_level(logging.INFO):
        response = agent.post_form(f"/faults/{order_id}/one-write")

    assert response.status_code == 503
    text = plain(response)
    assert "so nothing was saved" in text
    assert "Agent User (agent)" in text and "Log out" in text
    assert saved_comments(app) == []
    assert not [r for r in caplog.records if r.exc_info]
