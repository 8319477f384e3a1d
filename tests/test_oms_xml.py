"""Loading processes written in Spryker's OMS XML format: the bundled files, includes with
prefixes, and every mistake the loader refuses, named by file, element and fault."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from panel.oms.definitions import InvalidTimeout, State, parse_timeout
from panel.oms.xml_loader import (
    NAMESPACE,
    ProcessDefinitionError,
    load_process_file,
    load_processes,
    read_process_file,
)

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "plugins" / "processes"
FIXTURES = Path(__file__).resolve().parent / "oms_fixtures"
BROKEN = FIXTURES / "broken"


# --- timeouts, read as PHP's DateInterval::createFromDateString reads them ------------------
# Every row below was checked against PHP 8.2's DateInterval::createFromDateString, which is
# what Spryker's OMS hands an event's timeout to.

@pytest.mark.parametrize(("text", "expected"), [
    ("1 hour", timedelta(hours=1)),
    ("14 days", timedelta(days=14)),
    ("30 minute", timedelta(minutes=30)),
    ("20min", timedelta(minutes=20)),          # b2b/suite DummyPayment01 and friends
    ("30min", timedelta(minutes=30)),
    ("60min", timedelta(minutes=60)),
    ("60 min", timedelta(minutes=60)),
    ("2mins", timedelta(minutes=2)),
    ("3 minutes", timedelta(minutes=3)),
    ("1sec", timedelta(seconds=1)),
    ("5 secs", timedelta(seconds=5)),
    ("1 second", timedelta(seconds=1)),
    ("1 seconds", timedelta(seconds=1)),       # PHP takes the "s" after any number
    ("2 hours", timedelta(hours=2)),
    ("1day", timedelta(days=1)),
    ("2 weeks", timedelta(days=14)),
    ("1week", timedelta(days=7)),
    ("1 fortnight", timedelta(days=14)),
    ("2 forthnights", timedelta(days=28)),     # PHP's alternative spelling
    ("1 Month", timedelta(days=30)),           # 30 days; PHP adds a calendar month
    ("2 years", timedelta(days=730)),          # 365 days each; PHP adds calendar years
    ("1 HOUR", timedelta(hours=1)),
    ("  7 day  ", timedelta(days=7)),
    ("1 day 2 hours", timedelta(days=1, hours=2)),
    ("1 day, 30 minutes", timedelta(days=1, minutes=30)),
    ("1day2hours", timedelta(days=1, hours=2)),
    ("1 day.2 hours", timedelta(days=1, hours=2)),
    ("1 hour 1 hour", timedelta(hours=2)),     # parts add up
    ("+1 day", timedelta(days=1)),
    ("+ 1 day", timedelta(days=1)),
    ("--1 day", timedelta(days=1)),            # each "-" turns the sign
    ("1 day -2 hours", timedelta(hours=22)),
    ("+1 week 2 days 4 hours 2 seconds", timedelta(days=9, hours=4, seconds=2)),  # PHP's example
    ("next day", timedelta(days=1)),
    ("next week", timedelta(days=7)),
    ("first day", timedelta(days=1)),
    ("third hour", timedelta(hours=3)),
    ("twelfth day", timedelta(days=12)),
    ("eight day", timedelta(days=8)),          # PHP reads "eight" as "eighth"
    ("second second", timedelta(seconds=2)),
    ("1 day ago ago", timedelta(days=1)),
    ("500 ms", timedelta(milliseconds=500)),
    ("1 second 500 msec", timedelta(seconds=1, milliseconds=500)),
    ("2 usecs", timedelta(microseconds=2)),
    ("1000 years", timedelta(days=365_000)),
])
def test_parse_timeout_reads_what_php_reads(text, expected):
    assert parse_timeout(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("-1 day", -timedelta(days=1)),
    ("- 1 day", -timedelta(days=1)),
    ("+-1 day", -timedelta(days=1)),
    ("1 day ago", -timedelta(days=1)),
    ("1 day 2 hours ago", -timedelta(days=1, hours=2)),   # "ago" turns what comes before it
    ("2 days ago 1 hour", -timedelta(days=2) + timedelta(hours=1)),
    ("last week", -timedelta(days=7)),
    ("previous day", -timedelta(days=1)),
])
def test_parse_timeout_reads_a_timeout_into_the_past_as_negative(text, expected):
    # Spryker adds it to now: the timeout falls due at once. Lint warns about it.
    assert parse_timeout(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    # PHP refuses these too
    ("soon", 'the timeout "soon" cannot be read: write it like'),
    ("a day", "cannot be read"),
    ("an hour", "cannot be read"),
    ("hour", "cannot be read"),
    ("30", "cannot be read"),
    ("1 hr", 'has "hr", which is not a unit of time'),
    ("1 h", 'has "h", which is not a unit of time'),
    ("1 hourss", 'has "hourss"'),
    ("1.5 hours", "has a fraction"),
    ("1,5 hours", "has a fraction"),
    ("1. hour", "cannot be read"),
    ("1 hour later", 'cannot be read at "later"'),
    ("1 day and 2 hours", 'cannot be read at "and 2 hours"'),
    ("1 day;2 hours", 'cannot be read at ";2 hours"'),
    ("1 hours+", 'cannot be read at "+"'),
    ("nextday", "cannot be read"),
    ("thirteenth day", "cannot be read"),
    ("12345678901234 seconds", "more than 13 digits"),
    ("", "is empty"),
    ("   ", "is empty"),
    # PHP reads these, and we refuse them on purpose
    ("0 hours", "is zero"),                    # PHP 8.2 lets Spryker's zero check pass it
    ("this day", "is zero"),
    ("ago", "is zero"),
    ("1 day -24 hours", "is zero"),
    ("1 weekday", "counts from the calendar"),  # the next working day: a timeout processor's job
    ("1 mon", "counts from the calendar"),      # PHP: the next Monday
    ("tomorrow", "cannot be read"),
    ("monday", "cannot be read"),
    ("1001 years", "longer than 1000 years"),
    ("1234567890123 years", "too long"),
])
def test_parse_timeout_refuses_anything_else_naming_the_problem(text, reason):
    with pytest.raises(InvalidTimeout) as caught:
        parse_timeout(text)
    assert reason in str(caught.value)


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


# --- what Spryker's loader takes, read the same way, with a warning where it guesses -------

LENIENT = FIXTURES / "lenient"


def read_leniently(name: str):
    """Load a file that Spryker loads: no errors; return the process and its warnings as
    (file relative to LENIENT, line, element, message)."""
    result = read_process_file(LENIENT / name)
    assert result.errors == []
    assert result.process.load_problems == result.warnings
    return result.process, [(str(Path(p.file).relative_to(LENIENT)), p.line, p.element,
                             p.message) for p in result.warnings]


@pytest.mark.parametrize("name", ["no_namespace.xml", "spryker_namespace.xml"])
def test_any_namespace_or_none_reads_as_spryker_oms_01(name, tmp_path):
    # The same file with the usual namespace, for comparison.
    usual = tmp_path / "Usual01.xml"
    usual.write_text((LENIENT / "no_namespace.xml").read_text().replace(
        "<statemachine>", f'<statemachine xmlns="{NAMESPACE}">'))

    process, warnings = read_leniently(name)

    assert warnings == []
    expected = load_process_file(usual)
    assert (process.name, process.states, process.events, process.transitions) == (
        expected.name, expected.states, expected.events, expected.transitions)
    assert process.events["pay"].timeout_delta == timedelta(minutes=20)


def test_another_namespace_reads_the_same():
    process, warnings = read_leniently("other_namespace.xml")

    assert (process.name, warnings) == ("Other01", [])


def test_elements_with_a_namespace_prefix_are_ignored_as_spryker_ignores_them():
    process, warnings = read_leniently("prefixed_elements.xml")

    assert list(process.states) == ["new"]
    assert warnings == [
        ("prefixed_elements.xml", 11, "<statemachine>",
         "<doc:process> is ignored: Spryker does not read elements with a namespace prefix"),
        ("prefixed_elements.xml", 8, '<states> of <process name="Prefixed01">',
         "<doc:state> is ignored: Spryker does not read elements with a namespace prefix"),
    ]


def test_a_state_declared_twice_in_one_file_the_last_wins():
    process, warnings = read_leniently("duplicate_state.xml")

    assert process.states["paid"].reserved is True
    assert list(process.states) == ["new", "paid"]
    assert warnings == [(
        "duplicate_state.xml", 8, '<state name="paid">',
        'the state "paid" is declared twice: this declaration replaces the one at '
        "duplicate_state.xml:7 (Spryker keeps the last)")]


def test_an_event_declared_twice_in_one_file_the_last_wins():
    process, warnings = read_leniently("duplicate_event.xml")

    assert (process.events["pay"].manual, process.events["pay"].timeout) == (False, "1 hour")
    assert warnings == [(
        "duplicate_event.xml", 18, '<event name="pay">',
        'the event "pay" is declared twice: this declaration replaces the one at '
        "duplicate_event.xml:17 (Spryker keeps the last)")]


def test_a_state_declared_again_by_a_subprocess_the_subprocess_wins():
    process, warnings = read_leniently("duplicate_state_across_files.xml")

    assert process.states["paid"].subprocess == "Again"
    assert warnings == [(
        "Sub/again.xml", 6, '<state name="paid">',
        'the state "paid" is declared twice: this declaration replaces the one at '
        "duplicate_state_across_files.xml:7 (Spryker keeps the last)")]


def test_includes_are_read_after_the_main_files_processes_wherever_they_stand():
    # As b2c's DummyPayment01 declares "start grace period" and DummyOrderAmendment01 again,
    # with its command: the subprocess's declaration is the one Spryker keeps.
    process, warnings = read_leniently("include_first.xml")

    assert process.events["start"].command == "Grace/Start"
    assert list(process.states) == ["new", "grace started"]
    assert warnings == [(
        "Sub/grace.xml", 8, '<event name="start">',
        'the event "start" is declared twice: this declaration replaces the one at '
        "include_first.xml:23 (Spryker keeps the last)")]


def test_two_targets_in_one_transition_the_first_wins():
    process, warnings = read_leniently("two_targets.xml")

    assert [(t.source, t.target, t.event) for t in process.transitions] == [
        ("new", "paid", "pay")]
    assert warnings == [
        ("two_targets.xml", 14, '<transition> new -> paid on "pay"',
         'a second <target> ("shipped") is ignored: Spryker takes the first ("paid")'),
        ("two_targets.xml", 16, '<transition> new -> paid on "pay"',
         'a second <event> ("ship") is ignored: Spryker takes the first ("pay")'),
    ]


def test_the_includes_name_is_the_subprocesss_name():
    process, warnings = read_leniently("include_renamed.xml")

    assert process.subprocesses == ["Refund"]
    assert process.states["refunded"].subprocess == "Refund"
    assert warnings == []  # renaming a shared subprocess file is what the include is for


def test_include_names_are_found_the_way_spryker_finds_them():
    process, warnings = read_leniently("include_forms.xml")

    assert {name: state.subprocess for name, state in process.states.items()} == {
        "new": "Forms01", "plain": "Plain", "spaced": "Spaced", "leaf": "Leaf"}
    assert process.states["leaf"].origin.file == str(LENIENT / "Leaf" / "Leaf01.xml")
    assert warnings == []


def test_any_flag_is_kept():
    process, _ = read_leniently("ignored_parts.xml")

    assert process.states["new"].flags == {"cancelled"}


def test_what_spryker_skips_is_skipped_with_a_warning():
    process, warnings = read_leniently("ignored_parts.xml")

    assert list(process.states) == ["new", "grace started"]  # not "lost"
    assert process.events["start"].name == "start"  # the include still works, unprefixed
    assert warnings == [
        ("ignored_parts.xml", 15, '<process name="Ignored01">',
         "a second <states> is ignored: Spryker reads only the first"),
        ("ignored_parts.xml", 11, '<state name="new">', "an empty <flag> is ignored"),
        ("ignored_parts.xml", 19, "<event>",
         'an <event> without a "name" is skipped, as Spryker does'),
        ("ignored_parts.xml", 22, '<process name="Grace" file="Sub/grace.xml" prefix="">',
         'the empty prefix="" is ignored: Spryker reads it as no prefix'),
    ]


@pytest.mark.parametrize(("name", "element", "message"), [
    ("unknown_element.xml", '<process name="Typo01">',
     "unknown element <transtions> is ignored (expected here: <events>, <states>, "
     "<subprocesses>, <transitions>)"),
    ("unknown_attribute.xml", '<event name="pay">',
     'unknown attribute "onenter" on <event> is ignored (allowed: command, manual, name, '
     "onEnter, timeout, timeoutProcessor)"),
    ("bad_boolean.xml", '<event name="pay">',
     'manual="yes" is read as false: only "true" is true to Spryker'),
    ("prefix_on_definition.xml", '<process name="Prefix01" prefix="P">',
     'prefix is ignored here: it only works on an include (<process name="..." file="..." '
     'prefix="..."/>)'),
])
def test_typos_spryker_ignores_are_ignored_with_a_warning(name, element, message):
    process, warnings = read_leniently(name)

    assert [(w[2], w[3]) for w in warnings] == [(element, message)]
    if "pay" in process.events:
        assert (process.events["pay"].manual, process.events["pay"].on_enter) == (False, False)


# --- what the loader refuses ----------------------------------------------------------------

BROKEN_CASES = [
    # (main file, file at fault, line, element, what is wrong)
    ("doctype.xml", "doctype.xml", None, "<!DOCTYPE>", "DTDs and entities are refused"),
    ("entity.xml", "entity.xml", None, "<!ENTITY>", "DTDs and entities are refused"),
    ("not_well_formed.xml", "not_well_formed.xml", None, "line 7, column 7",
     "not well-formed XML (mismatched tag)"),
    ("wrong_root.xml", "wrong_root.xml", 3, "<process>",
     "the root element must be <statemachine>"),
    ("empty.xml", "empty.xml", 3, "<statemachine>", "the file declares no <process>"),
    ("no_main.xml", "no_main.xml", 3, "<statemachine>", 'no <process> has main="true"'),
    ("two_mains.xml", "two_mains.xml", 3, "<statemachine>",
     'more than one main process: "First01", "Second01"'),
    ("duplicate_process.xml", "duplicate_process.xml", None, '<process name="Twice01">',
     'the process "Twice01" is already declared earlier in this file'),
    ("missing_state_name.xml", "missing_state_name.xml", None, "<state>",
     'the attribute "name" is missing or empty'),
    ("missing_target.xml", "missing_target.xml", None, '<transition> new -> ? on "pay"',
     "the transition has no <target>"),
    ("empty_event.xml", "empty_event.xml", None, "<transition> new -> paid",
     "the <event> is empty"),
    ("unknown_source.xml", "unknown_source.xml", None, '<transition> nwe -> paid on "pay"',
     'the source state "nwe" does not exist'),
    ("unknown_target.xml", "unknown_target.xml", 10, '<transition> paid -> shipped on "ship"',
     'the target state "shipped" does not exist'),
    ("unknown_event.xml", "unknown_event.xml", None, '<transition> new -> paid on "capture"',
     'the event "capture" does not exist'),
    ("missing_include.xml", "missing_include.xml", None,
     '<process name="Ghost" file="Sub/ghost.xml">',
     'the included file "Sub/ghost.xml" does not exist'),
    ("missing_subprocess.xml", "missing_subprocess.xml", 6, '<process name="Listed01">',
     'the subprocess "Ghost" listed in <subprocesses> is not declared in any included file'),
    ("renamed_listed_by_declared_name.xml", "renamed_listed_by_declared_name.xml", 6,
     '<process name="Listed01">',
     'the subprocess "DummyRefund01" listed in <subprocesses> is not declared in any included '
     'file (its file declares "DummyRefund01", but the include names it "Refund", and Spryker '
     "goes by the include)"),
    ("cycle.xml", "Sub/cycle_back.xml", None, '<process name="Cycle01" file="../cycle.xml">',
     "the includes form a cycle: cycle.xml -> Sub/cycle_back.xml -> cycle.xml"),
    ("includes_main.xml", "Sub/inner_main.xml", None, '<process name="Inner01">',
     "an included file cannot hold a main process"),
    ("prefixed_include.xml", "Sub/prefixed.xml", None, '<transition> new -> hold on "hold"',
     'the source state "Pre - new" does not exist (the prefix "Pre - " applies)'),
]


@pytest.mark.parametrize(("main", "at_fault", "line", "element", "message"), BROKEN_CASES,
                         ids=[case[0] for case in BROKEN_CASES])
def test_loader_refuses_a_broken_file_naming_file_element_and_fault(
        main, at_fault, line, element, message):
    with pytest.raises(ProcessDefinitionError) as caught:
        load_process_file(BROKEN / main)

    error = caught.value
    assert isinstance(error, ValueError)
    assert Path(error.file) == BROKEN / at_fault
    assert error.element == element
    assert message in error.message
    assert str(error) == f"{at_fault}: {element}: {error.message}"
    if line is not None:
        assert error.line == line


def test_error_reads_file_element_fault():
    with pytest.raises(ProcessDefinitionError) as caught:
        load_process_file(BROKEN / "unknown_target.xml")

    assert str(caught.value) == ('unknown_target.xml: <transition> paid -> shipped on "ship": the '
                                 'target state "shipped" does not exist')


def test_every_error_of_a_file_is_reported_with_its_line():
    result = read_process_file(BROKEN / "many_errors.xml")

    assert result.process.name == "Many01"
    assert [(p.level, Path(p.file).name, p.line, p.element, p.message) for p in result.problems] == [
        ("error", "many_errors.xml", 6, '<process name="Many01">',
         'the subprocess "Ghost" listed in <subprocesses> is not declared in any included file'),
        ("error", "many_errors.xml", 13, '<transition> new -> payed on "pay"',
         'the target state "payed" does not exist'),
        ("error", "many_errors.xml", 18, '<transition> paid -> new on "refund"',
         'the event "refund" does not exist'),
    ]
    assert {(p.process, p.source) for p in result.problems} == {
        ("Many01", str(BROKEN / "many_errors.xml"))}
    with pytest.raises(ProcessDefinitionError, match='the subprocess "Ghost"'):
        load_process_file(BROKEN / "many_errors.xml")


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
