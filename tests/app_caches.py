"""What the test process keeps between the apps it creates (one per test).

A deployment creates its app once per process; the tests create one per test, about 2,500
in a run, and each would compile the same work again: Jinja compiles every template a test
renders (about 100 ms for a page with the layout), Werkzeug compiles two URL builder
functions for each of the app's ~90 routes (about 60 ms). Both results depend only on their
input, so the process keeps them:

- templates: Jinja's own bytecode cache, in memory, keyed by the template's name and a
  checksum of its source (an edited template is compiled again);
- URL builders: keyed by everything Werkzeug builds them from (the rule's parsed parts, its
  defaults, whether unknown arguments are appended);
- database engines: one per URL and engine options, so SQLAlchemy's cache of compiled
  statements lives as long as in a deployment (a new engine per test compiled each
  statement again: about 1 ms each, dozens per page). The app fixture disposes the engine's
  pool after each test, so no connection outlives its test.

Nothing a test checks goes through a cache a deployment does not have: pages render the
same code, URLs build the same strings, statements compile to the same SQL.
"""
from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from jinja2 import BytecodeCache
from werkzeug.routing.rules import Rule


class MemoryBytecodeCache(BytecodeCache):
    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = MemoryBytecodeCache()
_original_compile_builder = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _cached_compile_builder(self, append_unknown: bool = True):
    try:
        key = (tuple(self._trace), append_unknown,
               tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items())),
               tuple((name, type(c), repr(vars(c))) for name, c in sorted(
                   self._converters.items())) if self.defaults else ())
        hash(key)
    except TypeError:
        return _original_compile_builder(self, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _original_compile_builder(self, append_unknown)
    return builder


_original_make_engine = SQLAlchemy._make_engine
_engines: dict[str, object] = {}


def _shared_engine(self, bind_key, options, app):
    key = repr(sorted((name, repr(value)) for name, value in options.items()))
    engine = _engines.get(key)
    if engine is None:
        engine = _engines[key] = _original_make_engine(self, bind_key, options, app)
    return engine


def install() -> None:
    """Keep URL builders and engines for the whole test process (call once, before apps
    are made)."""
    Rule._compile_builder = _cached_compile_builder
    SQLAlchemy._make_engine = _shared_engine


def share_with(app) -> None:
    """Let an app's Jinja environment use the process's compiled templates."""
    app.jinja_env.bytecode_cache = TEMPLATES
