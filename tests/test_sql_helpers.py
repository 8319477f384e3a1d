"""The two SQL helpers of the engine's hot paths, on the test database (SQLite, and
PostgreSQL when PANEL_TEST_DATABASE_URL names one): ``among_ids`` and ``insert_rows``."""
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Order, OrderItem, TransitionLog
from panel.models.copy_insert import insert_rows
from panel.models.id_lists import among_ids
from tests.conftest import order_payload


@pytest.fixture
def orders(post_order):
    ids = []
    for n in range(4):
        response = post_order(order_payload(order_reference=f"SQL-{n}"))
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    return ids


def test_among_ids_selects_exactly_the_listed_rows(app, orders):
    first, second, third, fourth = orders
    with app.app_context():
        def chosen(ids):
            return list(db.session.scalars(
                sa.select(Order.id).where(among_ids(Order.id, ids)).order_by(Order.id)))

        assert chosen([third, first]) == [first, third]
        assert chosen([second, second, 10**9]) == [second]  # repeats and strangers: no harm
        assert chosen([]) == []
        assert chosen(iter([fourth])) == [fourth]  # any iterable
        assert list(db.session.scalars(
            sa.select(Order.id).where(~among_ids(Order.id, [first, second]))
            .order_by(Order.id))) == [third, fourth]


def test_among_ids_keeps_one_statement_text_for_any_number_of_ids(app, orders):
    with app.app_context():
        seen = []

        def record(conn, cursor, statement, *rest):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            for ids in ([orders[0]], orders, orders * 50):
                db.session.execute(sa.update(OrderItem.__table__)
                                   .where(among_ids(OrderItem.__table__.c.order_id, ids))
                                   .values(sku=OrderItem.__table__.c.sku))
            db.session.rollback()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(seen) == 3 and len(set(seen)) == 1


def log_row(order_id, **overrides):
    return {"order_id": order_id, "item_id": None, "process_name": "P", "event": "e",
            "source_state": "a", "target_state": "b", "command": None, "condition": None,
            "actor": "tester", "is_error": False, "error_message": None,
            "created_at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC), **overrides}


def test_insert_rows_stores_values_as_given(app, orders):
    berlin = timezone(timedelta(hours=1))
    awkward = 'tab\there, newline\nthere, back\\slash, "quotes", ümlaut, \\N'
    with app.app_context():
        insert_rows(TransitionLog.__table__, [
            log_row(orders[0], error_message=awkward, is_error=True),
            log_row(orders[1], created_at=datetime(2026, 3, 1, 13, 0, tzinfo=berlin),
                    command="Cmd/X"),
        ])
        db.session.commit()
        rows = db.session.execute(
            sa.select(TransitionLog.order_id, TransitionLog.error_message, TransitionLog.is_error,
                      TransitionLog.command, TransitionLog.created_at)
            .where(TransitionLog.actor == "tester").order_by(TransitionLog.order_id)).all()
    assert [tuple(r) for r in rows] == [
        (orders[0], awkward, True, None, datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
        # 13:00 in UTC+1 is the same instant as 12:00 UTC, and is read back as such
        (orders[1], None, False, "Cmd/X", datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
    ]


def test_insert_rows_refuses_rows_without_a_defaulted_column_and_writes_nothing(app, orders):
    row = log_row(orders[0])
    del row["created_at"]  # the model's default (now) would not be applied by COPY
    with app.app_context():
        with pytest.raises(ValueError, match="need a value for created_at"):
            insert_rows(TransitionLog.__table__, [row])
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog)
                                 .where(TransitionLog.actor == "tester")) == 0


def test_insert_rows_writes_what_sqlalchemy_writes(app, orders):
    """The bulk writer binds values itself (on SQLite: datetimes as text): rows it
    writes read back, and compare in SQL, exactly as rows SQLAlchemy writes."""
    moments = [datetime(2026, 3, 1, 12, 0, tzinfo=UTC),  # no microseconds
               datetime(2026, 3, 1, 14, 0, 0, 250, tzinfo=timezone(timedelta(hours=2))),
               datetime(2026, 3, 1, 12, 0, 0, 500)]  # naive: UTC
    with app.app_context():
        table = TransitionLog.__table__
        db.session.execute(table.insert(), [log_row(orders[0], actor="orm", created_at=m)
                                            for m in moments])
        insert_rows(table, [log_row(orders[0], actor="bulk", created_at=m) for m in moments])
        db.session.commit()
        stored = {actor: [created for created, in db.session.execute(
            sa.select(table.c.created_at).where(table.c.actor == actor).order_by(table.c.id))]
            for actor in ("orm", "bulk")}
        assert stored["bulk"] == stored["orm"] == [m.replace(tzinfo=UTC) if m.tzinfo is None
                                                   else m.astimezone(UTC) for m in moments]
        # Equal in SQL, not only once read: each bulk row finds its twin by its timestamp.
        twin = sa.orm.aliased(TransitionLog)
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(TransitionLog)
            .join(twin, twin.created_at == TransitionLog.created_at)
            .where(TransitionLog.actor == "bulk", twin.actor == "orm")) == 3
