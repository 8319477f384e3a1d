"""Process graphs: the DOT a process draws as, and the SVG Graphviz makes of it."""
import re

import pytest

from panel.oms import graph
from panel.oms.definitions import Event, Process, State, Transition

WEIRD = 'a"b\\c'


def process(**overrides) -> Process:
    """A payment process with a refund subprocess, a timeout, an else edge and a weird name."""
    spec = dict(
        states=[
            State("new"),
            State("paid", reserved=True, flags=frozenset({"cancellable"})),
            State("shipped", reserved=True),
            State("closed"),
            State(WEIRD),
            State("refund pending", subprocess="Refund01"),
            State("refunded", subprocess="Refund01"),
        ],
        events=[
            Event("pay", manual=True, command="Payment/Capture"),
            Event("ship", command="Shipment/Send"),
            Event("close", timeout="1 hour"),
            Event("refund", manual=True, timeout_processor="Timeout/Refund"),
            Event("check", on_enter=True),
        ],
        transitions=[
            Transition("new", "paid", "pay", happy=True),
            Transition("paid", "shipped", "ship", happy=True),
            Transition("shipped", "closed", "close", happy=True),
            Transition("shipped", "refund pending", "refund"),
            Transition("refund pending", "refunded", condition="Refund/IsDone"),
            Transition("refund pending", WEIRD),
            Transition(WEIRD, "closed", "check"),
        ],
        source="tests",
    )
    spec.update(overrides)
    return Process.build("Payment01", **spec)


def node_id(dot: str, label_start: str) -> str:
    match = re.search(r"^\s*(s\d+) \[label=<" + re.escape(label_start), dot, re.MULTILINE)
    assert match, f"no node labelled {label_start!r} in\n{dot}"
    return match.group(1)


def edge(dot: str, source: str, target: str) -> str:
    a, b = node_id(dot, source), node_id(dot, target)
    match = re.search(rf"^\s*{a} -> {b} \[(.*)\];$", dot, re.MULTILINE)
    assert match, f"no edge {source} -> {target} in\n{dot}"
    return match.group(1)


REGISTERED = dict(commands={"Payment/Capture", "Shipment/Send"},
                  conditions={"Refund/IsDone"}, timeout_processors={"Timeout/Refund"})


def test_happy_transitions_are_green_and_bold():
    dot = graph.to_dot(process(), **REGISTERED)
    attrs = edge(dot, "new", "paid")
    assert 'color="#3d7a12"' in attrs
    assert 'style="bold"' in attrs
    assert "<b>pay</b>" in attrs and "(manual)" in attrs and "c: Payment/Capture" in attrs
    unhappy = edge(dot, "shipped", "refund pending")
    assert "#3d7a12" not in unhappy and "bold" not in unhappy.replace("<b>", "")


def test_eventless_transitions_are_dashed_and_else_when_unconditional():
    dot = graph.to_dot(process(), **REGISTERED)
    unconditional = edge(dot, "refund pending", WEIRD.replace('"', "&quot;"))
    assert 'style="dashed"' in unconditional
    assert "label=<else>" in unconditional
    conditional = edge(dot, "refund pending", "refunded")
    assert 'style="dashed"' in conditional
    assert "[Refund/IsDone]" in conditional and "else" not in conditional


def test_timeouts_and_on_enter_events_are_labelled():
    dot = graph.to_dot(process(), **REGISTERED)
    assert "timeout: 1 hour" in edge(dot, "shipped", "closed")
    on_enter = edge(dot, WEIRD.replace('"', "&quot;"), "closed")
    assert "(on enter)" in on_enter and "arrowtail=crow" in on_enter
    assert "timeout processor: Timeout/Refund" in edge(dot, "shipped", "refund pending")


def test_unregistered_command_condition_and_timeout_processor_are_red():
    dot = graph.to_dot(process(), commands={"Payment/Capture"})
    assert ('<font color="#c00000">c: Shipment/Send (not implemented)</font>'
            in edge(dot, "paid", "shipped"))
    assert "c: Payment/Capture (not implemented)" not in dot
    assert ('<font color="#c00000">[Refund/IsDone] (not implemented)</font>'
            in edge(dot, "refund pending", "refunded"))
    assert ('<font color="#c00000">timeout processor: Timeout/Refund (not implemented)</font>'
            in edge(dot, "shipped", "refund pending"))


def test_states_show_counts_highlight_reserved_and_flags():
    dot = graph.to_dot(process(), highlight_state="paid", item_counts={"new": 3, "paid": 1})
    new = re.search(r"^\s*s\d+ \[label=<new.*$", dot, re.MULTILINE).group(0)
    paid = re.search(r"^\s*s\d+ \[label=<paid.*$", dot, re.MULTILINE).group(0)
    closed = re.search(r"^\s*s\d+ \[label=<closed.*$", dot, re.MULTILINE).group(0)
    assert "(3 items)" in new and "filled" not in new and "color=blue" not in new
    assert "(1 item)" in paid and 'fillcolor="#FFFFCC"' in paid and "filled" in paid
    assert "color=blue" in paid and '<font color="darkviolet" point-size="10">cancellable</font>' in paid
    assert "items)" not in closed and "item)" not in closed


def test_subprocess_states_are_grouped_in_clusters():
    dot = graph.to_dot(process())
    cluster = re.search(r"subgraph cluster_0 \{(.*?)\n  \}", dot, re.DOTALL)
    assert cluster, dot
    body = cluster.group(1)
    assert "<i>Refund01</i>" in body
    assert "label=<refund pending>" in body and "label=<refunded>" in body
    assert "label=<new>" not in body
    assert dot.count("subgraph cluster_") == 1


def test_states_of_the_main_process_itself_are_not_clustered():
    p = process(states=[State("new", subprocess="Payment01"), State("paid"),
                        State("shipped"), State("closed"), State(WEIRD),
                        State("refund pending"), State("refunded")])
    assert "subgraph" not in graph.to_dot(p)


def test_names_are_escaped_so_they_cannot_break_the_file():
    nasty = 'x"];\nevil -> pwned [label="<b>\\'
    p = process(states=[State(WEIRD), State(nasty), State("new")],
                events=[], transitions=[Transition(WEIRD, nasty)])
    dot = graph.to_dot(p)
    assert 'label=<a&quot;b\\c>' in dot
    assert 'tooltip="a\\"b\\\\c"' in dot
    assert "x&quot;];<br/>evil -&gt; pwned [label=&quot;&lt;b&gt;\\" in dot
    assert 'tooltip="x\\"];\\nevil -> pwned [label=\\"<b>\\\\"' in dot
    # every statement still sits on one line: nothing the names held split the file
    assert all(line.rstrip().endswith(("{", "}", ";")) for line in dot.splitlines())


def test_dot_quote_and_html_text_escape_every_special_character():
    assert graph.dot_quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert graph.dot_quote("end\\") == '"end\\\\"'
    assert graph.html_text('<a href="x">&\n') == "&lt;a href=&quot;x&quot;&gt;&amp;<br/>"
    assert "\x00" not in graph.dot_quote("a\x00b")




def test_render_svg_with_real_dot():
    p = process()
    svg = graph.render_svg(graph.to_dot(p, item_counts={"new": 2}, highlight_state="new"))
    assert "<svg" in svg
    assert "a&quot;b\\c" in svg
    assert "(2 items)" in svg
    assert "#3d7a12" in svg
    assert graph.inline_svg(svg).startswith("<svg")


def test_render_svg_keeps_hostile_names_as_text():
    nasty = '<script>alert("x")</script>'
    p = process(states=[State(nasty), State("new")], events=[],
                transitions=[Transition("new", nasty)])
    svg = graph.render_svg(graph.to_dot(p))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_hostile_names_add_no_nodes_or_edges_when_rendered():
    nasty = 'x"];\nevil -> pwned [label="<b>\\'
    p = process(states=[State(WEIRD), State(nasty), State("new")],
                events=[], transitions=[Transition(WEIRD, nasty)])
    svg = graph.render_svg(graph.to_dot(p))
    assert svg.count('class="node"') == 3
    assert svg.count('class="edge"') == 1
    assert "pwned" not in re.sub(r"<text[^>]*>[^<]*</text>|xlink:title=\"[^\"]*\"", "", svg)


def test_render_svg_raises_graph_error_on_bad_dot():
    with pytest.raises(graph.GraphError, match="Graphviz could not draw"):
        graph.render_svg("digraph { this is not dot ")


def test_render_svg_without_graphviz_returns_none(monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    assert graph.render_svg("digraph { a -> b }") is None
