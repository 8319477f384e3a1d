"""Administration > OMS (the process graphs) and Administration > Transition Log."""
from __future__ import annotations

from flask import Response, abort, request
from flask_admin import expose
from markupsafe import Markup

from panel.admin.base import PanelView
from panel.admin.listing import ListArgs, list_url
from panel.i18n import _
from panel.oms import graph
from panel.oms.definitions import Process
from panel.oms.registry import current_registry
from panel.services import oms_stats


def _process_or_404(name: str) -> Process:
    process = current_registry().processes.get(name)
    if process is None:
        abort(404)
    return process


def _dot_for(process: Process, highlight: str | None) -> tuple[str, dict[str, int]]:
    registry = current_registry()
    counts = oms_stats.item_counts(process.name)
    source = graph.to_dot(
        process, highlight_state=highlight, item_counts=counts,
        commands=registry.commands, conditions=registry.conditions,
        timeout_processors=registry.timeout_processors,
    )
    return source, counts


def _highlight(process: Process) -> tuple[str | None, list[str]]:
    state = request.args.get("state", "")
    if not state:
        return None, []
    if state not in process.states:
        return None, [_("state: %(value)s is not a state of the process %(process)s",
                        value=repr(state), process=process.name)]
    return state, []


def _rename_name_argument(endpoint, values):
    """Hand the URL's ``name`` to the view as ``process_name``.

    Links say ``url_for("oms.process", name=...)``, but Flask-Admin's view wrapper has a
    ``name`` parameter of its own, so the view cannot take one.
    """
    if values and "name" in values:
        values["process_name"] = values.pop("name")


class OmsView(PanelView):
    """The processes the plugins supply, each drawn as a graph with its items per state."""

    def create_blueprint(self, admin):
        blueprint = super().create_blueprint(admin)
        blueprint.url_value_preprocessor(_rename_name_argument)
        return blueprint

    @expose("/")
    def index(self):
        registry = current_registry()
        processes = sorted(registry.processes.values(), key=lambda p: p.name)
        suppliers = registry.suppliers.get("process", {})
        return self.render("oms/index.html", processes=processes, suppliers=suppliers,
                           warnings=registry.warnings, source_paths=registry.source_paths)

    @expose("/process/<name>")
    def process(self, process_name: str):
        process = _process_or_404(process_name)
        highlight, errors = _highlight(process)
        source, counts = _dot_for(process, highlight)
        svg = error = None
        try:
            rendered = graph.render_svg(source)
        except graph.GraphError as exc:
            error = str(exc)
        else:
            # dot wrote this SVG from labels in which every name was escaped.
            svg = Markup(graph.inline_svg(rendered)) if rendered is not None else None
        status = 400 if errors else (500 if error else 200)
        return self.render(
            "oms/process.html", process=process, svg=svg, dot_source=source, counts=counts,
            highlight=highlight, errors=errors, graph_error=error,
            warnings=current_registry().warnings.get(process.name, []),
            supplier=current_registry().suppliers.get("process", {}).get(process.name, ""),
            source_path=current_registry().source_paths.get(process.name, ""),
        ), status

    @expose("/process/<name>.svg")
    def process_svg(self, process_name: str):
        process = _process_or_404(process_name)
        highlight, errors = _highlight(process)
        if errors:
            return Response("; ".join(errors) + "\n", status=400, mimetype="text/plain")
        source, _counts = _dot_for(process, highlight)
        try:
            rendered = graph.render_svg(source)
        except graph.GraphError as exc:
            return Response(str(exc) + "\n", status=500, mimetype="text/plain")
        if rendered is None:
            return Response(_("Graphviz is not installed.") + "\n", status=503,
                            mimetype="text/plain")
        return Response(rendered, mimetype="image/svg+xml")


def read_log_query(args) -> tuple[oms_stats.LogQuery, list[str]]:
    parsed = ListArgs(args)
    query = oms_stats.LogQuery(
        order_reference=parsed.text("order", max_length=45),
        event=parsed.text("event", max_length=100),
        errors_only=args.get("errors", "") == "1",
        page=parsed.page(),
        per_page=parsed.per_page(),
    )
    if args.get("errors", "") not in ("", "0", "1"):
        parsed.errors.append(_("errors: %(value)s is not 0 or 1", value=repr(args.get("errors"))))
    return query, parsed.errors


class TransitionLogView(PanelView):
    """Every trigger of the state machine, errors included, newest first."""

    @expose("/")
    def index(self):
        query, errors = read_log_query(request.args)
        page = None if errors else oms_stats.find_transition_log(query)
        return self.render(
            "oms/transition_log.html",
            query=query,
            page=page,
            errors=errors,
            page_sizes=self.admin.app.config["PANEL_PAGE_SIZES"],
            page_url=list_url(request.endpoint, request.args),
        ), (400 if errors else 200)
