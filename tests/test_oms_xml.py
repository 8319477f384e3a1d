"""Loading processes written in Spryker's OMS XML format: the bundled files, includes with
prefixes, and every mistake the loader refuses, named by file, element and fault."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from panel.oms.definitions import InvalidTimeout, State, parse_timeout
from panel.oms.xml_loader import ProcessDefinitionError, load_process_file, load_processes

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "plugins" / "processes"
FIXTURES = Path(__file__).resolve().parent / "oms_fixtures"
BROKEN = FIXTURES / "broken"


# --- timeouts -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("1 hour", timedelta(hours=1)),
    ("14 days", timedelta(days=14)),
    ("30 minute", timedelta(minutes=30)),
    ("1 day 2 hours", timedelta(days=1, hours=2)),
    ("1 second", timedelta(seconds=1)),
    ("2 weeks", timedelta(days=14)),
    ("1 Month", timedelta(days=30)),
    ("  7 day  ", timedelta(days=7)),
    ("1 day, 30 minutes", timedelta(days=1, minutes=30)),
])
def test_parse_timeout_reads_spryker_intervals(text, expected):
    assert parse_timeout(text) == expected


@pytest.mark.parametrize("text", [
    "soon", "", "   ", "0 hours", "hour", "1 hour later", "later 1 hour", "-1 day", "1 fortnight",
    "1.5 hours",
])
def test_parse_timeout_refuses_anything_else(text):
    with pytest.raises(InvalidTimeout):
        parse_timeout(text)


# --- the bundled processes ------------------------------------------------------------------

def test_default_order_process_loads():
    process = load_process_file(BUNDLED / "DefaultOrder01.xml")

    assert process.name == "DefaultOrder01"
    assert process.source == str(BUNDLED / "DefaultOrder01.xml")
    assert list(process.states) == [
        "new", "paid", "shipped", "delivered", "closed", "canceled", "returned", "refunded",
    ]
    assert {name for name, state in process.states.items() if state.reserved} == {
        "paid", "shipped"}
    assert process.manual_events_from("new") == ["pay", "cancel"]
    assert process.manual_events_from("paid") == ["ship", "cancel"]
    assert process.manual_events_from("delivered") == ["close", "return"]
    assert process.manual_events_from("returned") == ["refund"]
    assert [(t.source, t.target, t.event) for t in process.happy_path] == [
        ("new", "paid", "pay"), ("paid", "shipped", "ship"),
        ("shipped", "delivered", "deliver"), ("delivered", "closed", "close"),
    ]
    assert process.events["pay"].command == "Payment/Capture"
    assert process.events["ship"].command == "Oms/SendOrderShipped"
    assert process.events["close"].timeout_delta == timedelta(days=14)
    assert process.timeout_events_from("delivered") == [process.events["close"]]
    assert all(event.manual for event in process.events.values())
    assert process.subprocesses == []
    assert {s.subprocess for s in process.states.values()} == {"DefaultOrder01"}


def test_dummy_payment_process_loads_with_its_subprocesses():
    process = load_process_file(BUNDLED / "DummyPayment01.xml")

    assert process.name == "DummyPayment01"
    assert process.subprocesses == ["DummyRefund", "DummyReturn", "CreateGiftCard",
                                    "DummyInvoice"]
    subprocess_of = {name: state.subprocess for name, state in process.states.items()}
    assert subprocess_of["paid"] == "DummyPayment01"
    assert subprocess_of["refunded"] == "DummyRefund"
    assert subprocess_of["waiting for return"] == "DummyReturn"
    assert subprocess_of["shipped to customer"] == "DummyReturn"
    assert subprocess_of["gift card purchased"] == "CreateGiftCard"
    assert subprocess_of["invoice generated"] == "DummyInvoice"

    states = process.states
    assert states["new"].flags == {"cancellable"}
    assert states["payment pending"].reserved and states["payment pending"].flags == {
        "cancellable"}
    assert states["invalid"].flags == {"exclude from customer"}
    assert {n for n in ("paid", "confirmed", "waiting", "exported", "shipped")
            if states[n].reserved} == {"paid", "confirmed", "waiting", "exported", "shipped"}
    assert not states["delivered"].reserved and not states["closed"].reserved

    # authorize: IsAuthorized -> payment pending, else -> invalid
    authorize = process.transitions_for("new", "authorize")
    assert [(t.target, t.condition) for t in authorize] == [
        ("payment pending", "DummyPayment/IsAuthorized"), ("invalid", None)]
    assert process.events["authorize"].timeout_delta == timedelta(seconds=1)
    # pay: manual, timeout with a processor, a command; IsPayed -> paid, else -> cancelled
    pay = process.events["pay"]
    assert (pay.manual, pay.timeout, pay.timeout_processor, pay.command) == (
        True, "1 hour", "OmsTimeout/Initiation", "DummyPayment/Pay")
    assert [(t.target, t.condition) for t in process.transitions_for("payment pending", "pay")] \
        == [("paid", "DummyPayment/IsPayed"), ("cancelled", None)]
    # confirm is onEnter and manual (a manual retry when the mail fails)
    assert process.on_enter_event("paid").name == "confirm"
    assert process.events["confirm"].manual
    assert process.events["confirm"].command == "Oms/SendOrderConfirmation"
    assert process.events["skip timeout"].timeout_delta == timedelta(minutes=30)
    # the gift card branch crosses from the main process into CreateGiftCard and back
    assert process.on_enter_event("waiting").name == "check giftcard purchase"
    assert {(t.target, t.condition)
            for t in process.transitions_for("waiting", "check giftcard purchase")} == {
        ("exported", None), ("gift card purchased", "GiftCard/IsGiftCard")}
    assert process.on_enter_event("gift card purchased").command == "GiftCard/CreateGiftCard"
    assert [t.target for t in process.transitions_from("gift card created")] == ["shipped"]
    # cancel from new, payment pending and confirmed
    assert sorted(t.source for t in process.transitions if t.event == "cancel") == [
        "confirmed", "new", "payment pending"]
    assert process.manual_events_from("confirmed") == ["skip timeout", "cancel",
                                                       "invoice-generate"]
    # the subprocesses
    assert process.manual_events_from("delivered") == ["close", "refund"]
    assert process.events["refund"].command == "DummyPayment/Refund"
    assert [t.target for t in process.transitions_for("delivered", "start-return")] == [
        "waiting for return"]
    assert process.events["start-return"].command == "Return/StartReturn"
    assert process.manual_events_from("waiting for return") == ["execute-return",
                                                                "cancel-return"]
    assert process.events["invoice-generate"].command == "Invoice/Generate"
    assert process.on_enter_event("invoice generated").name == "invoice-generated"
    assert [t.target for t in process.happy_path] == [
        "payment pending", "paid", "confirmed", "waiting", "exported", "shipped", "delivered",
        "closed"]


def test_load_processes_returns_them_by_name():
    processes = load_processes([BUNDLED / "DefaultOrder01.xml", BUNDLED / "DummyPayment01.xml"])

    assert list(processes) == ["DefaultOrder01", "DummyPayment01"]
    assert processes["DummyPayment01"].source == str(BUNDLED / "DummyPayment01.xml")


# --- includes and prefixes ------------------------------------------------------------------

def test_include_with_prefix_prefixes_every_name_of_the_included_file():
    process = load_process_file(FIXTURES / "Shop01.xml")

    assert process.name == "Shop01"
    assert list(process.states) == [
        "new", "paid", "shipped", "closed", "Pack - packing", "Pack - packed", "Pack - labelled"]
    assert list(process.events) == [
        "pay", "start packing", "ship", "Pack - pack", "Pack - print label"]
    assert process.states["Pack - packing"].subprocess == "Packing"
    assert process.states["Pack - packed"].flags == {"waiting for export"}
    assert process.manual_events_from("Pack - packing") == ["Pack - pack"]
    assert process.events["Pack - pack"].command == "Packing/Pack"
    # main -> subprocess -> main: one namespace
    walk = [(t.source, t.target, t.event) for t in process.transitions]
    assert ("paid", "Pack - packing", "start packing") in walk
    assert ("Pack - packing", "Pack - packed", "Pack - pack") in walk
    assert ("Pack - labelled", "shipped", "ship") in walk


def test_nested_include_one_folder_up_inherits_the_prefix():
    process = load_process_file(FIXTURES / "Shop01.xml")

    # Packing/Packing01.xml includes ../Shared/Label01.xml (no namespace, no prefix of its own)
    assert process.states["Pack - labelled"].subprocess == "Label"
    assert process.transitions_from("Pack - packed")[0].event == "Pack - print label"
    assert process.on_enter_event("Pack - packed").command == "Packing/PrintLabel"
    assert process.subprocesses == ["Packing", "Label"]


def test_attributes_are_read():
    process = load_process_file(FIXTURES / "Shop01.xml")

    paid = process.states["paid"]
    assert (paid.reserved, paid.display, paid.flags) == (
        True, "oms.state.paid", {"cancellable", "ready for invoice"})
    assert process.states["new"] == State("new", subprocess="Shop01")
    pay = process.transitions_for("new", "pay")[0]
    assert (pay.condition, pay.happy) == ("Shop/IsPaid", True)
    ship = process.events["ship"]
    assert (ship.manual, ship.on_enter, ship.timeout, ship.timeout_processor) == (
        True, False, "1 day 2 hours", "Shop/NextWorkingDay")
    assert ship.timeout_delta == timedelta(days=1, hours=2)
    assert process.events["start packing"].on_enter
    assert process.transitions_for("shipped", None)[0].target == "closed"
    assert process.states_with_eventless_transitions() == ["shipped"]


def test_a_single_process_without_main_is_the_main_process():
    process = load_process_file(str(FIXTURES / "Single01.xml"))

    assert process.name == "Single01"
    assert process.manual_events_from("new") == ["finish"]
    assert process.events["finish"].on_enter is False


# --- what the loader refuses ----------------------------------------------------------------

BROKEN_CASES = [
    # (main file, file at fault, element, what is wrong)
    ("doctype.xml", "doctype.xml", "<!DOCTYPE>", "DTDs and entities are refused"),
    ("entity.xml", "entity.xml", "<!ENTITY>", "DTDs and entities are refused"),
    ("not_well_formed.xml", "not_well_formed.xml", "line 7, column 7",
     "not well-formed XML (mismatched tag)"),
    ("wrong_root.xml", "wrong_root.xml", "<process>", "the root element must be <statemachine>"),
    ("wrong_namespace.xml", "wrong_namespace.xml", "<statemachine>",
     'the namespace "urn:example:other" is not "spryker:oms-01"'),
    ("empty.xml", "empty.xml", "<statemachine>", "the file declares no <process>"),
    ("no_main.xml", "no_main.xml", "<statemachine>", 'no <process> has main="true"'),
    ("two_mains.xml", "two_mains.xml", "<statemachine>",
     'more than one main process: "First01", "Second01"'),
    ("duplicate_process.xml", "duplicate_process.xml", '<process name="Twice01">',
     'the process "Twice01" is already declared earlier in this file'),
    ("unknown_element.xml", "unknown_element.xml", '<process name="Typo01">',
     "unknown element <transtions> inside <process>"),
    ("unknown_attribute.xml", "unknown_attribute.xml", '<event name="pay">',
     'unknown attribute "onenter" on <event>'),
    ("bad_boolean.xml", "bad_boolean.xml", '<event name="pay">',
     'manual="yes" must be "true" or "false"'),
    ("missing_state_name.xml", "missing_state_name.xml", "<state>",
     'the attribute "name" is missing or empty'),
    ("missing_target.xml", "missing_target.xml", '<transition> new -> ? on "pay"',
     "the transition has no <target>"),
    ("empty_event.xml", "empty_event.xml", "<transition> new -> paid", "the <event> is empty"),
    ("unknown_source.xml", "unknown_source.xml", '<transition> nwe -> paid on "pay"',
     'the source state "nwe" does not exist'),
    ("unknown_target.xml", "unknown_target.xml", '<transition> paid -> shipped on "ship"',
     'the target state "shipped" does not exist'),
    ("unknown_event.xml", "unknown_event.xml", '<transition> new -> paid on "capture"',
     'the event "capture" does not exist'),
    ("duplicate_state.xml", "duplicate_state.xml", '<state name="paid">',
     'the state "paid" is already declared earlier in this file'),
    ("duplicate_event.xml", "duplicate_event.xml", '<event name="pay">',
     'the event "pay" is already declared earlier in this file'),
    ("duplicate_state_across_files.xml", "Sub/again.xml", '<state name="paid">',
     'the state "paid" is already declared in duplicate_state_across_files.xml'),
    ("bad_timeout.xml", "bad_timeout.xml", '<event name="pay">',
     'the timeout "soon" does not parse'),
    ("bad_flag.xml", "bad_flag.xml", '<state name="new">',
     'the flag "shippable" is not one of "amendable", "amendment in progress", "cancellable"'),
    ("missing_include.xml", "missing_include.xml",
     '<process name="Ghost" file="Sub/ghost.xml">',
     'the included file "Sub/ghost.xml" does not exist'),
    ("missing_subprocess.xml", "missing_subprocess.xml", '<process name="Listed01">',
     'the subprocess "Ghost" listed in <subprocesses> is not declared in any included file'),
    ("cycle.xml", "Sub/cycle_back.xml", '<process name="Cycle01" file="../cycle.xml">',
     "the includes form a cycle: cycle.xml -> Sub/cycle_back.xml -> cycle.xml"),
    ("includes_main.xml", "Sub/inner_main.xml", '<process name="Inner01">',
     "an included file cannot hold a main process"),
    ("prefix_on_definition.xml", "prefix_on_definition.xml",
     '<process name="Prefix01" prefix="P">', "prefix only works on an include"),
    ("prefixed_include.xml", "Sub/prefixed.xml", '<transition> new -> hold on "hold"',
     'the source state "Pre - new" does not exist (the prefix "Pre - " applies)'),
]


@pytest.mark.parametrize(("main", "at_fault", "element", "message"), BROKEN_CASES,
                         ids=[case[0] for case in BROKEN_CASES])
def test_loader_refuses_a_broken_file_naming_file_element_and_fault(
        main, at_fault, element, message):
    with pytest.raises(ProcessDefinitionError) as caught:
        load_process_file(BROKEN / main)

    error = caught.value
    assert isinstance(error, ValueError)
    assert Path(error.file) == BROKEN / at_fault
    assert error.element == element
    assert message in error.message
    assert str(error) == f"{at_fault}: {element}: {error.message}"


def test_error_reads_file_element_fault():
    with pytest.raises(ProcessDefinitionError) as caught:
        load_process_file(BROKEN / "bad_timeout.xml")

    assert str(caught.value) == (
        'bad_timeout.xml: <event name="pay">: the timeout "soon" does not parse')


def test_without_a_prefix_the_error_names_the_state_as_written():
    # Loaded on its own, the subprocess file is its own main process and has no prefix.
    with pytest.raises(ProcessDefinitionError) as caught:
        load_process_file(BROKEN / "Sub" / "prefixed.xml")
    assert caught.value.message == 'the source state "new" does not exist'


def test_doctype_is_refused_before_any_entity_expands(tmp_path):
    path = tmp_path / "Laughs01.xml"
    levels = ['<!ENTITY a0 "ha">'] + [
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    path.write_text("<!DOCTYPE statemachine [" + "".join(levels) + "]>"
                    '<statemachine><process name="L"><states><state name="&a9;"/>'
                    "</states></process></statemachine>")

    with pytest.raises(ProcessDefinitionError) as caught:
        load_process_file(path)
    assert caught.value.element == "<!DOCTYPE>"


def test_a_missing_main_file_is_a_definition_error(tmp_path):
    with pytest.raises(ProcessDefinitionError) as caught:
        load_process_file(tmp_path / "Nowhere01.xml")
    assert "Nowhere01.xml: (file): the file cannot be read" in str(caught.value)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "Latin01.xml"
    path.write_bytes('<statemachine><process name="Caf\xe9"/></statemachine>'.encode("latin-1"))

    with pytest.raises(ProcessDefinitionError, match="the file is not UTF-8"):
        load_process_file(path)


def test_load_processes_refuses_two_files_with_the_same_process_name():
    with pytest.raises(ProcessDefinitionError) as caught:
        load_processes([BROKEN / "twin_a.xml", BROKEN / "twin_b.xml"])

    text = str(caught.value)
    assert caught.value.element == '<process name="Twin01">'
    assert 'the process "Twin01" is also defined in' in text
    assert "twin_a.xml" in text and "twin_b.xml" in text
