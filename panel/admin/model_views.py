"""Flask-Admin's model views, reading their query string through the panel's parsers.

Flask-Admin reads ``page`` with ``int()`` (so ``-1``, ``９`` and 2^63 go on to the database
as an OFFSET, which PostgreSQL refuses and SQLite overflows); passes ``?id=`` to the database
unchecked (``abc``, ``1,2`` or 2^31 fail in the driver); hands any search term to ``LIKE``
(SQLite refuses a pattern over 50,000 characters); and passes the query string's other
parameters to ``url_for`` for its pager links, where ``endpoint=`` collides with url_for's
own argument. Here those are read as the rest of the panel reads them: a bad value gets a
400 naming it, an id that is not one finds nothing, and url_for's own words are dropped.
"""
from __future__ import annotations

import inspect

from flask import abort, request, url_for
from flask_admin.contrib.sqla import ModelView

from panel.params import ParameterError, parse_id, read_page

MAX_SEARCH_CHARACTERS = 200  # as the panel's own lists (ListArgs.text)
URL_FOR_PARAMETERS = frozenset(inspect.signature(url_for).parameters)


class PanelModelView(ModelView):
    """A Flask-Admin model view whose ``page``, ``search`` and ``id`` cannot reach the
    database as anything but a page number, a short text and an id."""

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        try:
            # Flask-Admin counts pages from 0, and leaves the parameter out for the first.
            view_args.page = read_page("page", request.args.get("page", "0"), first=0)
        except ParameterError as exc:
            abort(400, description=f"{exc}. Nothing was shown.")
        if len(view_args.search or "") > MAX_SEARCH_CHARACTERS:
            abort(400, description=f"search: at most {MAX_SEARCH_CHARACTERS} characters. "
                                   "Nothing was shown.")
        view_args.extra_args = {name: value for name, value in view_args.extra_args.items()
                                if name not in URL_FOR_PARAMETERS}
        return view_args

    def get_one(self, id):
        """Return the record with this id, or None when there is none or ``id`` is not one
        (Flask-Admin then says "Record does not exist.")."""
        record_id = parse_id(id) if isinstance(id, str) else None
        return None if record_id is None else super().get_one(str(record_id))
