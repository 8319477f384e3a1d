"""``among(column, ids)``: a column is one of a list of ids, with one bound parameter.

``column.in_(ids)`` renders a parameter per id: each list length is a new SQL string, which
SQLAlchemy expands and psycopg re-parses on every execution (a fifth of the timeout sweep's
CPU, profiled on PostgreSQL), and which the database parses anew. One parameter keeps the
statement text fixed: an integer array on PostgreSQL (``= ANY``), a JSON list on SQLite
(``IN (SELECT value FROM json_each(...))``); both use the column's index as ``IN`` does.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import String, TypeDecorator, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType


class IdList(TypeDecorator):
    """A list of integer ids as one text parameter: an array literal that the statement
    casts to ``INTEGER[]`` on PostgreSQL, a JSON list on SQLite."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        ids = [int(v) for v in value]
        if dialect.name == "postgresql":
            # An array literal, cast by the statement: psycopg's list dumper checks every
            # element's type, a twentieth of the sweep's CPU for lists of a few hundred ids.
            return "{" + ",".join(map(str, ids)) + "}"
        return json.dumps(ids)


class among(FunctionElement):  # noqa: N801 - used like a SQL function
    type = NullType()  # a predicate: Boolean would make SQLite render "(...) = 1"
    inherit_cache = True
    name = "among"


def among_ids(column, ids: Iterable[int]):
    """``column IN ids`` as one statement text whatever the number of ids."""
    return among(column, bindparam(None, list(ids), type_=IdList()))


@compiles(among, "postgresql")
def _among_postgresql(element, compiler, **kw):
    column, ids = element.clauses
    ids_sql = compiler.process(ids, **kw)
    return f"({compiler.process(column, **kw)} = ANY(CAST({ids_sql} AS INTEGER[])))"


@compiles(among)
def _among_sqlite(element, compiler, **kw):
    column, ids = element.clauses
    return (f"({compiler.process(column, **kw)} IN "
            f"(SELECT value FROM json_each({compiler.process(ids, **kw)})))")
