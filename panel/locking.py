"""Row locks that work the same way on PostgreSQL and SQLite."""
from __future__ import annotations

from sqlalchemy import false, func, select, update

from panel.extensions import db
from panel.models.id_lists import among_ids


def lock_row(model, row_id: int, *, skip_locked: bool = False):
    """Lock one row for the rest of the transaction and return it, read fresh.

    PostgreSQL: ``SELECT ... FOR UPDATE`` (with ``SKIP LOCKED``, None when another
    transaction holds it). SQLite has no row locks: a write takes the database lock until
    commit, so a no-op UPDATE stands in. None also when the row does not exist.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(model).where(model.id == row_id).values(id=model.id))
        return db.session.get(model, row_id, populate_existing=True)
    stmt = select(model).where(model.id == row_id).with_for_update(skip_locked=skip_locked)
    return db.session.scalar(stmt.execution_options(populate_existing=True))


def lock_rows(model, row_ids, *, skip_locked: bool = False) -> dict:
    """Lock several rows at once, in id order (so two lockers cannot deadlock); return
    {id: row} for those locked (with ``skip_locked``, those no other transaction holds)."""
    ids = sorted(set(row_ids))
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(model).where(among_ids(model.id, ids)).values(id=model.id))
        stmt = select(model).where(among_ids(model.id, ids))
    else:
        stmt = (select(model).where(among_ids(model.id, ids)).order_by(model.id)
                .with_for_update(skip_locked=skip_locked))
    rows = db.session.scalars(stmt.execution_options(populate_existing=True))
    return {row.id: row for row in rows}


def lock_names(model, *names: str) -> None:
    """Hold locks on ``names`` for the rest of the transaction: strings that stand for
    something with no row of its own to lock (an email that may not be an account, an
    address), before writing rows of ``model`` that depend on them.

    PostgreSQL: transaction-scoped advisory locks, taken in sorted order so that two lockers
    cannot deadlock; they hold across connections and machines. SQLite: an UPDATE of
    ``model``'s table that changes no row still takes the database's write lock, which
    serialises every writer.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(model).where(false()).values(id=model.id))
        return
    for name in sorted(set(names)):
        db.session.execute(select(func.pg_advisory_xact_lock(
            func.hashtextextended(f"{model.__tablename__}:{name}", 0))))
