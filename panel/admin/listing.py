"""Parsing the query string of a list page into a query object, naming every bad value."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import current_app, request, url_for

from panel.formatting import format_date
from panel.i18n import _
from panel.params import ParameterError, read_day, read_page, read_page_size, shown


class ListArgs:
    """Reads list parameters from ``request.args``, collecting a message per bad value."""

    def __init__(self, args):
        self.args = args
        self.errors: list[str] = []

    def text(self, name: str, max_length: int = 200) -> str:
        value = self.args.get(name, "").strip()
        if len(value) > max_length:
            self.errors.append(_("%(name)s: at most %(count)s characters", name=name,
                                 count=max_length))
            return ""
        return value

    def many(self, name: str) -> list[str]:
        return [v for v in self.args.getlist(name) if v.strip()]

    def day(self, name: str, label: str) -> date | None:
        return self._read(read_day, label, self.args.get(name, ""))

    def choice(self, name: str, allowed, default: str) -> str:
        value = self.args.get(name, default)
        if value not in allowed:
            self.errors.append(_("%(name)s: %(value)s is not one of %(allowed)s", name=name,
                                 value=shown(value), allowed=", ".join(allowed)))
            return default
        return value

    def page(self) -> int:
        return self._read(read_page, "page", self.args.get("page", "1")) or 1

    def per_page(self) -> int:
        sizes = current_app.config["PANEL_PAGE_SIZES"]
        value = self.args.get("per_page", str(sizes[0]))
        return self._read(read_page_size, "per_page", value, sizes) or sizes[0]

    def _read(self, parser, name: str, *args):
        """The parser's value, or None with its message kept for the page."""
        try:
            return parser(name, *args)
        except ParameterError as exc:
            self.errors.append(str(exc))
            return None

    def date_range(self, start, end, label: str) -> None:
        if start and end and start > end:
            self.errors.append(_("%(label)s: the start %(start)s is after the end %(end)s",
                                 label=label, start=format_date(start), end=format_date(end)))


def page_url_args(args, **changes) -> dict:
    """The current query string as url_for arguments, with some values replaced."""
    result = {key: args.getlist(key) for key in args}
    for key, value in changes.items():
        result[key] = value
    return result


# The characters werkzeug leaves unquoted in a query string, so that the links read the same.
QUERY_SAFE = "!$'()*,/:;?@"


def list_url(endpoint: str, args):
    """A function ``**changes`` -> the URL of this list with some query values replaced
    (an empty list drops a key), for the dozen pager and sort links of a list page: the
    path is built once, then only the query string per link."""
    base = url_for(endpoint)

    def build(**changes) -> str:
        pairs = [(key, value)
                 for key, values in page_url_args(args, **changes).items()
                 for value in (values if isinstance(values, list) else [values])
                 if value is not None]
        return f"{base}?{urlencode(pairs, safe=QUERY_SAFE)}" if pairs else base

    return build


_SENTINEL = 918273645


class RowUrl:
    """url_for(endpoint, key=id) for links repeated on every row of a list: the URL is built
    once with a stand-in id, then only the id changes. Call it with the id, or write
    ``{{ url.before }}{{ id }}{{ url.after }}`` in a template, which saves a call per row."""

    __slots__ = ("before", "after")
    # (endpoint, key, the proxy's path prefix): (before, after); a handful per deployment.
    _known: dict[tuple, tuple[str, str]] = {}

    def __init__(self, endpoint: str, key: str):
        known_key = (endpoint, key, request.script_root)
        parts = self._known.get(known_key)
        if parts is None:
            template = url_for(endpoint, **{key: _SENTINEL})
            before, _, after = template.partition(str(_SENTINEL))
            parts = self._known[known_key] = (before, after)
        self.before, self.after = parts

    def __call__(self, value) -> str:
        return f"{self.before}{value}{self.after}"


row_url = RowUrl
