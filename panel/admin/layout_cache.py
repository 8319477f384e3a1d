"""Parts of every page's layout that many requests share, rendered once per process.

Flask-Admin's layout builds a dozen asset links and the menu (with an access check per
view) on every page: about a sixth of an orders-list request, profiled. The asset links
differ only by the proxy's path prefix and the view's extra assets; the menu only by the
user's role and the page shown; both by the language. Each part is kept under exactly those
keys. Links and
parts repeated down one page are built once per request.
"""
from __future__ import annotations

from flask import Flask, g, request, url_for
from flask_login import current_user
from markupsafe import Markup

from panel.i18n import current_language

# Far more than the (role, page, prefix) combinations of a deployment; a bound all the same.
MAX_PARTS = 500


def init_layout_cache(app: Flask) -> None:
    parts: dict[tuple, Markup] = {}

    def layout_part(name: str, render, *key) -> Markup:
        """``render()``'s markup, rendered the first time ``(name, prefix, language, *key)``
        is seen."""
        full_key = (name, request.script_root, current_language(),
                    *(tuple(k) if isinstance(k, list) else k for k in key))
        markup = parts.get(full_key)
        if markup is None:
            markup = Markup(render())
            if len(parts) >= MAX_PARTS:
                parts.clear()
            parts[full_key] = markup
        return markup

    def menu_key() -> str | None:
        """Menu entries are shown by role: the user's, or none when signed out."""
        return current_user.role if current_user.is_authenticated else None

    def repeated_url(endpoint: str, **values) -> str:
        """url_for for a link repeated down a page with few distinct arguments (an item's
        state on View Order): built once per request for each."""
        known = g.setdefault("panel_repeated_urls", {})
        key = (endpoint, *sorted(values.items()))
        if key not in known:
            known[key] = url_for(endpoint, **values)
        return known[key]

    def page_part(key: tuple, render, *args) -> Markup:
        """``render(*args)``'s markup, rendered once per request for each ``key``: for a part
        repeated down one page that only ``key`` decides (an item's event buttons)."""
        known = g.setdefault("panel_page_parts", {})
        if key not in known:
            known[key] = Markup(render(*args))
        return known[key]

    app.jinja_env.globals.update(layout_part=layout_part, menu_key=menu_key,
                                 repeated_url=repeated_url, page_part=page_part)
