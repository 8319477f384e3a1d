"""Saved views of the orders list: save a list state (search, filters, sort, page size,
columns) under a name, personal or (admins)
shared with everyone, open it from a tab or a link, make one your default.

A view keeps the list's query string (search, filters, sort, page size; never the page), so
opening it is reading that query string as the list reads its URL: the same checks, the same
error messages. What a view names may be gone since it was saved (a process removed, a state
no process has any more, a store or payment method no order uses): ``stale_parts`` says so,
and the list shows the note over what the view matches now, never a wider list.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import and_, delete, or_, select
from werkzeug.datastructures import MultiDict

from panel.extensions import db
from panel.i18n import _
from panel.models import DefaultView, SavedView
from panel.models.base import utcnow
from panel.oms.registry import Registry
from panel.services.order_search import DEFAULT_SORT, OrderQuery
from panel.services.text_fields import BIDI_CONTROLS, character_label, one_line_of_text

NAME_MAX = 80
DEFAULT_PER_PAGE = 10


class ViewRefused(ValueError):
    """A view that cannot be saved, changed or opened as asked; the message says why."""


def list_arguments(query: OrderQuery) -> list[tuple[str, str]]:
    """The orders list's URL arguments for ``query``, without the page (the list's names)."""
    args: list[tuple[str, str]] = []
    if query.search.strip():
        args.append(("q", query.search.strip()))
    args += [("state", s) for s in query.states]
    if query.process:
        args.append(("process", query.process))
    args += [("store", s) for s in query.stores]
    args += [("payment", p) for p in query.payment_methods]
    if query.created_from:
        args.append(("from", query.created_from.isoformat()))
    if query.created_to:
        args.append(("to", query.created_to.isoformat()))
    if query.open_reclamation:
        args.append(("reclamation", "open"))
    if query.sort != DEFAULT_SORT or not query.descending:
        args += [("sort", query.sort), ("dir", "desc" if query.descending else "asc")]
    if query.per_page != DEFAULT_PER_PAGE:
        args.append(("per_page", str(query.per_page)))
    args += [("col", c) for c in query.columns]
    return args


def arguments_of(view: SavedView) -> MultiDict:
    return MultiDict(parse_qsl(view.query, keep_blank_values=True))


def visible_views(user) -> tuple[list[SavedView], SavedView | None]:
    """The user's own views and every shared one, by name, and which of them is the user's
    default (one statement: the orders list asks on every page)."""
    rows = db.session.execute(
        select(SavedView, DefaultView.user_id)
        .outerjoin(DefaultView, and_(DefaultView.view_id == SavedView.id,
                                     DefaultView.user_id == user.id))
        .where(or_(SavedView.owner_id == user.id, SavedView.shared))
        .order_by(SavedView.name, SavedView.id)).all()
    default = next((view for view, chosen in rows if chosen is not None), None)
    return [view for view, _ in rows], default


def find_view(view_id: int, user) -> SavedView | None:
    """The view, if it exists and the user may see it (their own, or shared)."""
    view = db.session.get(SavedView, view_id)
    if view is None or not (view.shared or view.owner_id == user.id):
        return None
    return view


def save_view(user, name: str, query: OrderQuery, *, shared: bool = False,
              default: bool = False) -> SavedView:
    """Save ``query`` as the user's view ``name`` (a view of that name of theirs is
    replaced), committed. Only admins share views."""
    name = view_name(name)
    if shared and not user.is_admin:
        raise PermissionError(_("Only admins share views."))
    view = db.session.scalar(select(SavedView).where(SavedView.owner_id == user.id,
                                                     SavedView.name == name))
    if view is None:
        view = SavedView(owner_id=user.id, owner_name=user.name, name=name,
                         created_at=utcnow())
        db.session.add(view)
    view.shared = shared
    view.query = urlencode(list_arguments(query))
    db.session.flush()
    if default:
        _set_default(user.id, view.id)
    db.session.commit()
    return view


def view_name(name: str | None) -> str:
    """The name stripped, when it is one line of at most NAME_MAX characters (the checks of
    ``text_fields.one_line_of_text``); else ViewRefused saying why, in the user's language."""
    try:
        return one_line_of_text(name, "view's name", NAME_MAX)
    except ValueError:
        pass
    name = (name or "").strip()
    if not name:
        raise ViewRefused(_("The view's name is empty"))
    for char in name:
        if unicodedata.category(char) == "Cc":
            raise ViewRefused(_("The view's name contains a control character (%(character)s); "
                                "it must be a single line of text without control characters",
                                character=character_label(char)))
    for char in name:
        if char in BIDI_CONTROLS:
            raise ViewRefused(_("The view's name contains a bidirectional control character "
                                "(%(character)s), which can make text show in a misleading "
                                "order", character=character_label(char)))
    raise ViewRefused(_("The view's name is longer than %(count)s characters", count=NAME_MAX))


def delete_view(user, view_id: int) -> str:
    """Delete a view (its owner; an admin also any shared view); return its name."""
    view = find_view(view_id, user)
    if view is None:
        raise ViewRefused(_("There is no view #%(id)s to delete.", id=view_id))
    if view.owner_id != user.id and not user.is_admin:
        raise PermissionError(_("The view %(name)s is %(owner)s's.", name=repr(view.name),
                                owner=view.owner_name))
    name = view.name
    db.session.execute(delete(DefaultView).where(DefaultView.view_id == view.id))
    db.session.delete(view)
    db.session.commit()
    return name


def set_default(user, view_id: int | None) -> SavedView | None:
    """Make a view the user's default (None: the plain list again), committed."""
    view = None
    if view_id is not None:
        view = find_view(view_id, user)
        if view is None:
            raise ViewRefused(_("There is no view #%(id)s.", id=view_id))
        _set_default(user.id, view.id)
    else:
        db.session.execute(delete(DefaultView).where(DefaultView.user_id == user.id))
    db.session.commit()
    return view


def _set_default(user_id: int, view_id: int) -> None:
    row = db.session.get(DefaultView, user_id)
    if row is None:
        db.session.add(DefaultView(user_id=user_id, view_id=view_id))
    else:
        row.view_id = view_id


def stale_parts(query: OrderQuery, registry: Registry, choices: dict[str, list[str]]
                ) -> list[str]:
    """What the view's filters name that no longer exists, in words (empty: nothing)."""
    states = {state for process in registry.processes.values() for state in process.states}
    notes = [_("the state %(state)s is in no process now", state=repr(s))
             for s in query.states if s not in states]
    notes += [_("no order is of the store %(store)s now", store=repr(s)) for s in query.stores
              if s not in choices["stores"]]
    notes += [_("no order is paid by %(method)s now", method=repr(p))
              for p in query.payment_methods if p not in choices["payment_methods"]]
    return notes
