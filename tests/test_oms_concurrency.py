"""Two people press the same button at once; two workers sweep the same timeouts at once.

On PostgreSQL this exercises the order row lock (FOR UPDATE, SKIP LOCKED for workers); on
SQLite the database write lock. Either way each item moves once and each command runs once.
"""
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel import PROJECT_ROOT
from panel.extensions import db
from panel.models import EventTimeout, ItemStateHistory, OrderItem
from panel.models.base import utcnow
from panel.oms import engine
from tests.conftest import order_payload
from tests.plugins import engine_fixture

THREADS = 8


@pytest.fixture
def app_config():
    return {"PANEL_PLUGINS": ("tests.plugins.engine_fixture",)}


def test_same_event_pressed_at_once_moves_each_item_once(app, post_order):
    payload = order_payload(payment={"method": "test", "amount": 5487})
    order_id = post_order(payload).json["id"]
    engine_fixture.CALLS.clear()
    start = threading.Barrier(THREADS)

    def press(n):
        with app.app_context():
            start.wait()
            return engine.trigger_event(order_id, "pay", actor=f"user {n}")

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(press, range(THREADS)))
    assert sorted(r.moved for r in results) == [0] * (THREADS - 1) + [3]
    assert sum(1 for r in results if r.message.startswith("Nothing to do")) == THREADS - 1
    assert [call[0] for call in engine_fixture.CALLS] == ["Test/Capture"]  # once per group
    with app.app_context():
        paid = db.session.scalars(sa.select(ItemStateHistory.item_id).where(
            ItemStateHistory.event == "pay")).all()
        assert sorted(paid) == sorted(set(paid)) and len(paid) == 3


def test_two_check_timeouts_processes_move_every_due_item_once(app, post_order, database_url):
    past = utcnow() - timedelta(days=2)
    order_ids = [post_order(order_payload(payment={"method": "test", "amount": 5487}))
                 .json["id"] for _ in range(20)]
    with app.app_context():
        for order_id in order_ids:
            for event in ("pay", "ship", "deliver"):
                engine.trigger_event(order_id, event, actor="setup", now=past)
        due = db.session.scalar(sa.select(sa.func.count()).select_from(EventTimeout))
        assert due == 60
    env = dict(os.environ, PANEL_DATABASE_URL=database_url, PANEL_SECRET_KEY="test",
               PANEL_PLUGINS="tests.plugins.engine_fixture")
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "oms", "check-timeouts"]
    workers = [subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    moved = [int(out.split("check-timeouts: ")[1].split()[0]) for out, _ in outputs]
    assert sum(moved) == 60
    with app.app_context():
        closes = db.session.scalars(sa.select(ItemStateHistory.item_id).where(
            ItemStateHistory.event == "close")).all()
        assert len(closes) == len(set(closes)) == 60
        assert set(db.session.scalars(sa.select(OrderItem.state_name))) == {"closed"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EventTimeout)) == 0
