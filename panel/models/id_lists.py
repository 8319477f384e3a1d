"""``among(column, ids)``: a column is one of a list of ids, with one bound parameter.

``column.in_(ids)`` renders a parameter per id: each list length is a new SQL string, which
SQLAlchemy expands and psycopg re-parses on every execution (a fifth of the timeout sweep's
CPU, profiled on PostgreSQL), and which the database parses anew. One parameter keeps the
statement text fixed: an array on PostgreSQL (``= ANY``), a JSON list on SQLite
(``IN (SELECT value FROM json_each(...))``); both use the column's index as ``IN`` does.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Integer, String, TypeDecorator, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType


class IdList(TypeDecorator):
    """A list of integer ids as one parameter: an integer array, or JSON on SQLite."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Integer))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value, dialect):
        ids = [int(v) for v in value]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


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
    return f"({compiler.process(column, **kw)} = ANY({compiler.process(ids, **kw)}))"


@compiles(among)
def _among_sqlite(element, compiler, **kw):
    column, ids = element.clauses
    return (f"({compiler.process(column, **kw)} IN "
            f"(SELECT value FROM json_each({compiler.process(ids, **kw)})))")
