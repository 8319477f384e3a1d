"""Draw a process as Graphviz DOT, the way Spryker's OMS drawer does, and render it as SVG.

Names come from XML files and plugins, so none of them is trusted: nodes get synthetic ids
(``s0``, ``s1``, ...), visible text goes into HTML-like labels with every markup character
escaped, and the few quoted strings (tooltips) go through :func:`dot_quote`. The drawing's
own words ("(manual)", "(3 items)") are in the request's language (English outside one, as
for ``flask oms``); the names are values and stay as they are.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Collection, Mapping

from panel.i18n import _, ngettext
from panel.oms.definitions import Event, Process, State, Transition

HAPPY_COLOR = "#3d7a12"  # Spryker draws it #70ab28; darker for 4.5:1 on white (WCAG AA)
HIGHLIGHT_COLOR = "#FFFFCC"
RESERVED_COLOR = "blue"
FLAG_COLOR = "darkviolet"  # Spryker: violet; darker for 4.5:1 on white
MISSING_COLOR = "#c00000"  # red at 5.9:1 on white (WCAG AA)
FONT = "Helvetica,Arial,sans-serif"

# Control characters (newline aside) have no place in a name and some make dot choke.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


class GraphError(RuntimeError):
    """Graphviz could not render a graph (it failed, or took too long)."""


def dot_quote(text: str) -> str:
    """Return ``text`` as a double-quoted DOT string (for escString attributes)."""
    text = _CONTROL.sub("\ufffd", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def html_text(text: str) -> str:
    """Escape ``text`` for an HTML-like DOT label; line breaks become ``<br/>``."""
    text = _CONTROL.sub("\ufffd", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))
    return text.replace("\n", "<br/>")


def _attrs(**attrs: str) -> str:
    """Format node or edge attributes; values are already DOT syntax (quoted or <...>)."""
    return ", ".join(f"{key}={value}" for key, value in attrs.items())


def _plural(count: int) -> str:
    return ngettext("(%(num)d item)", "(%(num)d items)", count)


def _named(text: str, name: str, known: Collection[str]) -> str:
    """A label line naming a plugin part: red and marked when no plugin registers ``name``."""
    line = html_text(text)
    if name in known:
        return line
    missing = html_text(_("(not implemented)"))
    return f'<font color="{MISSING_COLOR}">{line} {missing}</font>'


def _state_label(state: State, count: int | None) -> str:
    lines = [html_text(state.name)]
    if count is not None:
        lines.append(f'<font point-size="10">{_plural(count)}</font>')
    for flag in sorted(state.flags):
        lines.append(f'<font color="{FLAG_COLOR}" point-size="10">{html_text(flag)}</font>')
    return "<" + "<br/>".join(lines) + ">"


def _edge_label(transition: Transition, event: Event | None, *, commands, conditions,
                timeout_processors) -> str | None:
    lines: list[str] = []
    if transition.event is not None:
        lines.append(f"<b>{html_text(transition.event)}</b>")
        if event is None:
            unknown = html_text(_("(unknown event)"))
            lines.append(f'<font color="{MISSING_COLOR}">{unknown}</font>')
    if event is not None:
        if event.manual:
            lines.append(html_text(_("(manual)")))
        if event.on_enter:
            lines.append(html_text(_("(on enter)")))
        if event.timeout:
            lines.append(html_text(_("timeout: %(timeout)s", timeout=event.timeout)))
        if event.timeout_processor:
            lines.append(_named(_("timeout processor: %(name)s", name=event.timeout_processor),
                                event.timeout_processor, timeout_processors))
        if event.command:
            lines.append(_named(f"c: {event.command}", event.command, commands))
    if transition.condition:
        lines.append(_named(f"[{transition.condition}]", transition.condition, conditions))
    elif transition.event is None:
        lines.append(html_text(_("else")))
    return "<" + "<br/>".join(lines) + ">" if lines else None


def to_dot(process: Process, *, highlight_state: str | None = None,
           item_counts: Mapping[str, int] | None = None, commands: Collection[str] = (),
           conditions: Collection[str] = (), timeout_processors: Collection[str] = ()) -> str:
    """Return the DOT source of the whole ``process``.

    ``item_counts`` adds "(N items)" to the states it names; ``commands``, ``conditions`` and
    ``timeout_processors`` are the registered names (anything else is drawn red as
    "(not implemented)").
    """
    item_counts = item_counts or {}
    states: dict[str, State] = dict(process.states)
    for transition in process.transitions:  # draw even a state the definition forgot
        for name in (transition.source, transition.target):
            states.setdefault(name, State(name))
    ids = {name: f"s{number}" for number, name in enumerate(states)}

    def node(state: State) -> str:
        attrs = {"label": _state_label(state, item_counts.get(state.name)),
                 "tooltip": dot_quote(state.name)}
        style = ["rounded"]
        if state.name == highlight_state:
            style.append("filled")
            attrs["fillcolor"] = dot_quote(HIGHLIGHT_COLOR)
            attrs["penwidth"] = "2"
        if state.reserved:
            attrs["color"] = RESERVED_COLOR
        attrs["style"] = dot_quote(",".join(style))
        return f"    {ids[state.name]} [{_attrs(**attrs)}];"

    lines = [
        "digraph process {",
        f"  graph [label={'<<b>' + html_text(process.name) + '</b>>'}, labelloc=t, "
        f"fontname={dot_quote(FONT)}, charset=\"UTF-8\", rankdir=TB, nodesep=0.4];",
        f"  node [shape=box, fontname={dot_quote(FONT)}, fontsize=12];",
        f"  edge [fontname={dot_quote(FONT)}, fontsize=10];",
    ]
    clusters: dict[str, list[State]] = {}
    for state in states.values():
        if state.subprocess and state.subprocess != process.name:
            clusters.setdefault(state.subprocess, []).append(state)
        else:
            lines.append(node(state))
    for number, (subprocess_name, members) in enumerate(clusters.items()):
        lines.append(f"  subgraph cluster_{number} {{")
        lines.append(f"    graph [label=<<i>{html_text(subprocess_name)}</i>>, "
                     f"style=\"rounded,dashed\", color=gray50];")
        lines.extend(node(state) for state in members)
        lines.append("  }")

    for transition in process.transitions:
        event = process.events.get(transition.event) if transition.event else None
        attrs: dict[str, str] = {}
        label = _edge_label(transition, event, commands=commands, conditions=conditions,
                            timeout_processors=timeout_processors)
        if label:
            attrs["label"] = label
        style = []
        if transition.event is None:
            style.append("dashed")
        if transition.happy:
            style.append("bold")
            attrs["color"] = dot_quote(HAPPY_COLOR)
            attrs["fontcolor"] = dot_quote(HAPPY_COLOR)
        if style:
            attrs["style"] = dot_quote(",".join(style))
        if event is not None and event.on_enter:
            attrs.update(dir="both", arrowtail="crow")
        attrs["tooltip"] = dot_quote(
            f"{transition.source} -> {transition.target}"
            + (f" ({transition.event})" if transition.event else "")
        )
        lines.append(f"  {ids[transition.source]} -> {ids[transition.target]} "
                     f"[{_attrs(**attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` is on the PATH."""
    return shutil.which("dot") is not None


def render_svg(dot_source: str, timeout: float = 10) -> str | None:
    """Render DOT source with ``dot -Tsvg``; None when Graphviz is not installed.

    Raises GraphError when dot fails or runs longer than ``timeout`` seconds.
    """
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        result = subprocess.run(
            [dot, "-Tsvg"], input=dot_source, capture_output=True, encoding="utf-8",
            errors="replace", timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise GraphError(_("Graphviz took longer than %(seconds)s seconds to draw the graph",
                           seconds=timeout)) from None
    except OSError as exc:
        raise GraphError(_("Graphviz could not be started: %(error)s", error=exc)) from exc
    if result.returncode != 0 or "<svg" not in result.stdout:
        message = result.stderr.strip() or _("exit status %(code)s", code=result.returncode)
        raise GraphError(_("Graphviz could not draw the graph: %(error)s", error=message))
    return result.stdout


def inline_svg(svg: str) -> str:
    """The SVG element alone, without the XML declaration and doctype, for an HTML page."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
