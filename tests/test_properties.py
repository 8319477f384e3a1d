"""Property tests: the Spryker XML loader and money formatting, on generated input.

The loader must give back exactly the process that was written out (states, flags, events,
timeouts, transitions, an included subprocess with or without a prefix), and on junk (random
bytes, cut or mutated documents, unknown elements and attributes, DTDs and entities, bad
booleans and timeouts) it either loads or raises its own ProcessDefinitionError with a message.
format_money must be exact for any amount in minor units: the text reads back to the same
amount, with the currency's symbol or code in its place and no float rounding anywhere.
"""
from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from panel.formatting import _EXPONENTS, _SYMBOLS, format_money
from panel.oms.definitions import FLAGS, Event, Process, State, Transition
from panel.oms.xml_loader import NAMESPACE, ProcessDefinitionError, load_process_file

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                             suppress_health_check=[HealthCheck.too_slow])

# --- generated processes -------------------------------------------------------------------

# Names as people write them: letters (any script), digits, spaces, '-', '_', '.', '/'.
NAME_CHARS = st.characters(categories=("L", "Nd"), include_characters=" -_./")
NAMES = st.text(NAME_CHARS, min_size=1, max_size=12).map(str.strip).filter(bool)
OPTIONAL_TEXT = st.none() | NAMES
UNITS = ("second", "minute", "hour", "day", "week", "month", "year")
TIMEOUTS = st.lists(
    st.tuples(st.integers(1, 500), st.sampled_from(UNITS), st.booleans()),
    min_size=1, max_size=3,
).map(lambda parts: " ".join(f"{n} {unit}{'s' if plural else ''}" for n, unit, plural in parts))


@st.composite
def processes(draw):
    """A main process and maybe one included subprocess, as the loader should return them.

    Returns (expected Process, files: {file name: XML text}).
    """
    main_name, sub_name = draw(st.lists(NAMES, min_size=2, max_size=2, unique=True))
    with_sub = draw(st.booleans())
    prefix = draw(st.none() | NAMES) if with_sub else None
    full = (lambda raw: f"{prefix} - {raw}") if prefix else (lambda raw: raw)

    def declarations(count_max):
        return draw(st.lists(NAMES, min_size=0, max_size=count_max, unique=True))

    main_states = declarations(6) or ["new"]
    main_events = declarations(4)
    sub_states = declarations(4) if with_sub else []
    sub_events = declarations(3) if with_sub else []
    all_states = main_states + [full(s) for s in sub_states]
    all_events = main_events + [full(e) for e in sub_events]
    assume(len(set(all_states)) == len(all_states) and len(set(all_events)) == len(all_events))

    def state(raw, owner):
        return State(full(raw) if owner == sub_name else raw,
                     reserved=draw(st.booleans()),
                     display=draw(OPTIONAL_TEXT),
                     flags=frozenset(draw(st.sets(st.sampled_from(sorted(FLAGS)), max_size=3))),
                     subprocess=owner)

    def event(raw, owner):
        return Event(full(raw) if owner == sub_name else raw,
                     manual=draw(st.booleans()), on_enter=draw(st.booleans()),
                     timeout=draw(st.none() | TIMEOUTS),
                     timeout_processor=draw(OPTIONAL_TEXT), command=draw(OPTIONAL_TEXT))

    def transitions(states, events, count_max):
        # states/events: the raw names as written in that file
        if not states:
            return []
        return draw(st.lists(st.builds(
            lambda s, t, e, c, h: (s, t, e, c, h),
            st.sampled_from(states), st.sampled_from(states),
            st.sampled_from(events) if events else st.none(),
            OPTIONAL_TEXT, st.booleans()), max_size=count_max))

    states = {"main": [state(s, main_name) for s in main_states],
              "sub": [state(s, sub_name) for s in sub_states]}
    events = {"main": [event(e, main_name) for e in main_events],
              "sub": [event(e, sub_name) for e in sub_events]}
    # The main file may name any state or event (subprocess ones by their full name); an
    # included file names its own, and its prefix is put in front by the loader.
    main_moves = transitions(all_states, all_events + [None], 8)
    sub_moves = transitions(sub_states, sub_events + [None], 4)

    files = {"Main.xml": _process_xml(main_name, states["main"], events["main"], main_moves,
                                      raw=lambda n: n, sub=(sub_name, prefix) if with_sub
                                      else None)}
    if with_sub:
        files["Sub/Sub01.xml"] = _process_xml(
            sub_name, states["sub"], events["sub"], sub_moves,
            raw=lambda n: n[len(prefix) + 3:] if prefix else n)
    expected = Process.build(
        main_name,
        states=states["main"] + states["sub"],
        events=events["main"] + events["sub"],
        transitions=[Transition(s, t, e, condition=c, happy=h) for s, t, e, c, h in main_moves]
        + [Transition(full(s), full(t), full(e) if e else None, condition=c, happy=h)
           for s, t, e, c, h in sub_moves],
        subprocesses=[sub_name] if with_sub else [],
    )
    return expected, files


def _process_xml(name, states, events, moves, *, raw, sub=None) -> str:
    """Write one file the way a person would, with ElementTree doing the escaping."""
    ET.register_namespace("", NAMESPACE)

    def tag(local):
        return f"{{{NAMESPACE}}}{local}"

    root = ET.Element(tag("statemachine"))
    process = ET.SubElement(root, tag("process"), {"name": name})
    if sub is not None:
        process.set("main", "true")
        ET.SubElement(ET.SubElement(process, tag("subprocesses")), tag("process")).text = sub[0]
    if states:
        box = ET.SubElement(process, tag("states"))
        for s in states:
            element = ET.SubElement(box, tag("state"), {"name": raw(s.name)})
            if s.reserved:
                element.set("reserved", "true")
            if s.display:
                element.set("display", s.display)
            for flag in sorted(s.flags):
                ET.SubElement(element, tag("flag")).text = flag
    if moves:
        box = ET.SubElement(process, tag("transitions"))
        for source, target, event, condition, happy in moves:
            element = ET.SubElement(box, tag("transition"))
            if happy:
                element.set("happy", "true")
            elif source < target:  # sometimes spelled out
                element.set("happy", "false")
            if condition:
                element.set("condition", condition)
            ET.SubElement(element, tag("source")).text = source
            ET.SubElement(element, tag("target")).text = target
            if event:
                ET.SubElement(element, tag("event")).text = event
    if events:
        box = ET.SubElement(process, tag("events"))
        for e in events:
            element = ET.SubElement(box, tag("event"), {"name": raw(e.name)})
            for attribute, value in (("manual", e.manual), ("onEnter", e.on_enter)):
                if value:
                    element.set(attribute, "true")
            for attribute, value in (("timeout", e.timeout),
                                     ("timeoutProcessor", e.timeout_processor),
                                     ("command", e.command)):
                if value:
                    element.set(attribute, value)
    if sub is not None:
        include = {"name": sub[0], "file": "Sub/Sub01.xml"}
        if sub[1]:
            include["prefix"] = sub[1]
        ET.SubElement(root, tag("process"), include)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder / "Main.xml"


@PROPERTY_SETTINGS
@given(processes())
def test_a_written_process_loads_back_the_same(generated):
    expected, files = generated
    with tempfile.TemporaryDirectory() as folder:
        loaded = load_process_file(_write(Path(folder), files))
    assert loaded.name == expected.name
    assert loaded.states == expected.states
    assert loaded.events == expected.events
    assert loaded.transitions == expected.transitions
    assert loaded.subprocesses == expected.subprocesses
    assert loaded.happy_path == [t for t in expected.transitions if t.happy]


# --- junk --------------------------------------------------------------------------------

VALID = """<?xml version="1.0" encoding="utf-8"?>
<statemachine xmlns="spryker:oms-01">
  <process name="Junk01" main="true">
    <subprocesses><process>Part</process></subprocesses>
    <states><state name="new" reserved="true"><flag>cancellable</flag></state>
      <state name="paid"/></states>
    <transitions><transition happy="true" condition="C/IsPaid"><source>new</source>
      <target>paid</target><event>pay</event></transition></transitions>
    <events><event name="pay" manual="true" timeout="2 days" command="Pay/Capture"/></events>
  </process>
  <process name="Part" file="Part.xml" prefix="P"/>
</statemachine>
"""
PART = """<statemachine xmlns="spryker:oms-01"><process name="Part">
  <states><state name="packed"/></states>
  <transitions><transition><source>packed</source><target>packed</target></transition>
  </transitions></process></statemachine>"""

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10))
          + ']><statemachine xmlns="spryker:oms-01"><process name="&lol9;"/></statemachine>')
PAYLOADS = [
    LAUGHS,
    '<!DOCTYPE x SYSTEM "file:///etc/passwd"><statemachine/>',
    '<?xml version="1.0"?><!doctype x [<!entity e SYSTEM "http://127.0.0.1/">]><x>&e;</x>',
    "<statemachine xmlns='spryker:oms-01'><process name='A' main='yes'/></statemachine>",
    "<statemachine xmlns='spryker:oms-01'><process name='A' main='true'><events>"
    "<event name='e' timeout='soon'/></events></process></statemachine>",
    "<statemachine xmlns='spryker:oms-01'><process name='A' main='true'><events>"
    "<event name='e' timeout='0 days'/></events></process></statemachine>",
    "<statemachine xmlns='other'><process name='A'/></statemachine>",
    "<statemachine><process name='A'><states><state name='s' colour='red'/></states>"
    "</process></statemachine>",
    "<statemachine><process name='A'><sates/></process></statemachine>",
    "<statemachine><process name='A' main='true'/><process name='B' file='B.xml'/>"
    "</statemachine>",
    "<statemachine><process name='A' main='true'/><process name='B' file='Main.xml'/>"
    "</statemachine>",
    "<statemachine><process name='A' main='true'/><process name='B' file='../../etc'/>"
    "</statemachine>",
    "<statemachine><process name='A' main='true'/><process name='B' file=''/></statemachine>",
    "<statemachine><process name='A'><transitions><transition><source>a</source>"
    "<source>b</source></transition></transitions></process></statemachine>",
    "<statemachine><!-- --><?pi x?><process name='A'/></statemachine>",
    "\ufeff<statemachine><process name='A'/></statemachine>",
    "<statemachine><process name='A'><states><state name=' '/></states></process></statemachine>",
    "",
]
JUNK_ELEMENTS = ["<bogus/>", "<state name='x'/>", "<flag>nope</flag>", "<process/>",
                 "<event name=''/>", "<transition/>", "<subprocesses><process/></subprocesses>",
                 "<states><state/></states>", "<x:y xmlns:x='urn:x'/>", "text", "&amp;", "&nbsp;"]
JUNK_ATTRIBUTES = [' main="TRUE"', ' reserved="1"', ' manual="yes"', ' happy=""',
                   ' timeout="-1 day"', ' timeout="1 fortnight"', ' onEnter="false "',
                   ' unknown="1"', ' xmlns:q="urn:q" q:extra="1"', ' prefix=""', ' file="Part.xml"',
                   ' name=""', ' timeout="99999999999999999999 years"']


@st.composite
def junk_documents(draw) -> bytes:
    kind = draw(st.sampled_from(["bytes", "truncated", "flipped", "element", "attribute",
                                 "payload", "spliced"]))
    text = VALID
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "payload":
        return draw(st.sampled_from(PAYLOADS)).encode()
    if kind == "truncated":
        return text.encode()[: draw(st.integers(0, len(text) - 1))]
    if kind == "flipped":
        data = bytearray(text.encode())
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    tags = [m.end() for m in re.finditer(r"<[a-z]+[^>]*?(?=/?>)", text)]
    if kind == "attribute":
        at = draw(st.sampled_from(tags))
        return (text[:at] + draw(st.sampled_from(JUNK_ATTRIBUTES)) + text[at:]).encode()
    closes = [m.end() for m in re.finditer(r">", text)]
    at = draw(st.sampled_from(closes))
    insert = draw(st.sampled_from(JUNK_ELEMENTS)) if kind == "element" else draw(
        st.text(max_size=20))
    return (text[:at] + insert + text[at:]).encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(junk_documents())
@example(LAUGHS.encode())
@example(b"\xff\xfe<\x00s\x00")
def test_junk_loads_or_raises_a_process_definition_error(data):
    with tempfile.TemporaryDirectory() as folder:
        main = _write(Path(folder), {"Main.xml": data, "Part.xml": PART})
        try:
            process = load_process_file(main)
        except ProcessDefinitionError as error:
            assert error.message.strip() and error.element
            assert str(error).startswith(f"{error.display}: ")
            return
    assert isinstance(process, Process) and process.name


def test_the_unmutated_junk_base_document_loads():
    """The junk above starts from a document that is valid, so mutations test real paths."""
    with tempfile.TemporaryDirectory() as folder:
        process = load_process_file(_write(Path(folder), {"Main.xml": VALID, "Part.xml": PART}))
    assert set(process.states) == {"new", "paid", "P - packed"}
    assert process.events["pay"].timeout == "2 days"


# --- money --------------------------------------------------------------------------------

CURRENCIES = sorted(set(_EXPONENTS) | set(_SYMBOLS) | {"USD", "EUR", "XYZ", "BRL"})
AMOUNTS = st.integers(-(10**15), 10**15) | st.integers() | st.sampled_from(
    [0, 1, -1, 5, 10, 99, 100, 101, 1005, 99999, 100000, 10**12, -(10**12)])


def parse_money(text: str, currency: str) -> int:
    """Read a formatted amount back into minor units, by the rules it is documented with."""
    sign = -1 if text.startswith("-") else 1
    rest = text[1:] if sign < 0 else text
    symbol = _SYMBOLS.get(currency)
    if symbol is None:
        assert rest.endswith(f" {currency}"), text
        number = rest[: -len(currency) - 1]
    else:
        assert rest.startswith(symbol), text
        number = rest[len(symbol):]
    exponent = _EXPONENTS.get(currency, 2)
    major, _, minor = number.partition(".")
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", major), text
    assert len(minor) == exponent and (not exponent or minor.isdigit()), text
    assert "." in number if exponent else "." not in number
    return sign * (int(major.replace(",", "")) * 10**exponent + (int(minor) if minor else 0))


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(AMOUNTS, st.sampled_from(CURRENCIES))
@example(1005, "EUR")
@example(-1, "EUR")
@example(10**18 + 1, "JPY")
@example(-5, "KWD")
def test_money_reads_back_to_the_same_minor_units(amount, currency):
    text = format_money(amount, currency)
    assert parse_money(text, currency) == amount
    assert text.count("-") == (1 if amount < 0 else 0)
    if amount < 0:
        assert text == "-" + format_money(-amount, currency)


def test_money_examples_a_person_would_check():
    assert format_money(1005, "EUR") == "€10.05"
    assert format_money(-1005, "EUR") == "-€10.05"
    assert format_money(0, "USD") == "$0.00"
    assert format_money(123456789, "GBP") == "£1,234,567.89"
    assert format_money(1234, "JPY") == "¥1,234"
    assert format_money(-1, "KWD") == "-0.001 KWD"
    assert format_money(995, "CHF") == "CHF 9.95"
    assert format_money(10**17 + 1, "EUR") == "€1,000,000,000,000,000.01"
    assert format_money(None, "EUR") == ""
