"""The load script's code for ten seconds: gunicorn on loopback, four signed-in clients, the
whole mix; no errors, and every acknowledged comment stored. (Figures are printed by
``python -m tests.load.run``; nothing here depends on how fast it goes.)"""
import pytest
import sqlalchemy as sa

from panel.extensions import db
from tests.load import run

pytestmark = pytest.mark.once_per_run  # heavy: once per `make test` (see the Makefile)


def test_mixed_load_has_no_errors_and_loses_no_comment(app, database_url, capsys):
    emails = run.prepare(database_url, orders=150, users=2, log=lambda *a: None)
    figures = run.run_load(database_url, emails, clients=4, duration=10, workers=2,
                           log=lambda *a: None)
    with capsys.disabled():
        print("\n" + run.table(figures))
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["comments_posted"] > 0
    assert figures["comments_unique"] == figures["comments_posted"]
    assert figures["comments_stored"] == figures["comments_posted"]
    assert figures["comments_lost"] == 0
    for kind in run.MIX:
        assert figures["kinds"][kind]["requests"] > 0, kind
    with app.app_context():  # the counting itself: the comments are there, by their texts
        stored = db.session.scalar(sa.text(
            "SELECT count(*) FROM order_comment WHERE message LIKE 'load %'"))
        assert stored == figures["comments_posted"]
        paid_twice = db.session.scalar(sa.text(
            "SELECT count(*) FROM (SELECT item_id FROM item_state_history WHERE event = 'pay' "
            "GROUP BY item_id HAVING count(*) > 1) AS twice"))
        log_errors = db.session.scalar(sa.text(
            "SELECT count(*) FROM transition_log WHERE is_error"))
    assert log_errors == 0
    assert paid_twice == 0  # clients pressing "pay" on the same order at once move items once
