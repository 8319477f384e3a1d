"""Numbers handed out in sequence per key (a store), from a table of last values."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from panel.extensions import db


def advance(model, key: str, count: int = 1) -> int:
    """Count ``count`` numbers on from ``model``'s row for ``key`` (made when missing) and
    return the last of them. ``model`` has the columns ``store`` (the key) and ``last_value``.

    One statement (INSERT ... ON CONFLICT DO UPDATE): two callers never get the same
    numbers, and the row stays locked until the caller's transaction ends.
    """
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        dialect_insert(model)
        .values(store=key, last_value=count)
        .on_conflict_do_update(index_elements=[model.store],
                               set_={"last_value": model.last_value + count})
        .returning(model.last_value)
    )
    return db.session.execute(stmt).scalar_one()
