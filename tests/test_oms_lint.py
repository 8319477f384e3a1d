"""The process linter: each rule at its level (error: cannot run; warning: runs, but is
probably a mistake), on a file or a Python-built process that breaks it, and the bundled
processes passing once the names they call are registered."""
from __future__ import annotations

from pathlib import Path

import pytest

from panel.oms.definitions import Event, Process, State, Transition
from panel.oms.lint import Problem, errors_in, lint_all, lint_file, lint_process, warnings_in
from panel.oms.xml_loader import load_process_file, load_processes

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "plugins" / "processes"
FIXTURES = Path(__file__).resolve().parent / "oms_fixtures"
LINT = FIXTURES / "lint"

# What the bundled XML files call: a plugin must register all of these.
BUNDLED_COMMANDS = {
    "Payment/Capture", "Payment/Refund", "Oms/SendOrderShipped", "Oms/SendOrderConfirmation", "DummyPayment/Pay",
    "DummyPayment/Refund", "Return/StartReturn", "Invoice/Generate", "GiftCard/CreateGiftCard",
}
BUNDLED_CONDITIONS = {"DummyPayment/IsAuthorized", "DummyPayment/IsPayed", "GiftCard/IsGiftCard"}
BUNDLED_TIMEOUT_PROCESSORS = {"OmsTimeout/Initiation"}
SHOP = {"commands": {"Shop/Capture"}, "conditions": {"Shop/IsPaid"}, "timeout_processors": set()}
NOTHING = {"commands": (), "conditions": (), "timeout_processors": ()}


def lint_fixture(name: str, **registered) -> list[tuple[str, int | None, str, str]]:
    """(level, line, element, message) of each problem of a lint fixture."""
    process = load_process_file(LINT / name)
    problems = lint_process(process, **(registered or SHOP))
    assert {(p.process, p.source) for p in problems} <= {(process.name, str(LINT / name))}
    assert {p.file for p in problems} <= {str(LINT / name), None}
    return [(p.level, p.line, p.element, p.message) for p in problems]


def build(states, events, transitions, **kwargs) -> Process:
    return Process.build("Built01", states=[State(s) if isinstance(s, str) else s for s in states],
                         events=events, transitions=transitions, source="plugin shop", **kwargs)


def findings(process: Process, **registered) -> list[tuple[str, str, str]]:
    return [(p.level, p.element, p.message)
            for p in lint_process(process, **(registered or SHOP))]


# --- the bundled processes ------------------------------------------------------------------

def bundled():
    return load_processes(sorted(BUNDLED.glob("*.xml")))


def test_bundled_processes_pass_once_their_names_are_registered():
    problems = lint_all(bundled(), commands=BUNDLED_COMMANDS, conditions=BUNDLED_CONDITIONS,
                        timeout_processors=BUNDLED_TIMEOUT_PROCESSORS)

    assert problems == []  # not even a warning


def test_bundled_processes_call_exactly_these_names():
    problems = lint_all(bundled(), **NOTHING)

    named = {p.message.split('"')[1] for p in problems}
    assert named == BUNDLED_COMMANDS | BUNDLED_CONDITIONS | BUNDLED_TIMEOUT_PROCESSORS
    assert all("is not registered by any plugin" in p.message for p in problems)
    assert all(p.is_error for p in problems)


def test_a_correct_python_built_process_has_no_problems():
    process = Process.build(
        "Simple01",
        states=[State("new"), State("paid"), State("closed")],
        events=[Event("pay", manual=True, command="Payment/Capture"),
                Event("close", timeout="14 days")],
        transitions=[Transition("new", "paid", "pay", happy=True),
                     Transition("paid", "closed", "close", happy=True)],
    )

    assert lint_process(process, commands={"Payment/Capture"}, conditions=(),
                        timeout_processors=()) == []


# --- errors: what cannot run ----------------------------------------------------------------

def test_initial_state_missing_is_an_error():
    # Only this problem: every state would be "unreachable" otherwise, which helps nobody.
    assert lint_fixture("no_initial.xml") == [
        ("error", None, '<process name="NoInitial01">',
         'the initial state "new" is not declared: new items could not start')]


def test_unregistered_command_condition_and_timeout_processor_are_errors():
    assert lint_fixture("unregistered.xml", **NOTHING) == [
        ("error", 23, '<event name="pay">',
         'the command "Shop/Capture" is not registered by any plugin'),
        ("error", 23, '<event name="pay">',
         'the timeout processor "Shop/NextWorkingDay" is not registered by any plugin'),
        ("error", 11, '<transition> new -> paid on "pay"',
         'the condition "Shop/IsPaid" is not registered by any plugin'),
    ]
    assert lint_fixture("unregistered.xml", commands={"Shop/Capture"},
                        conditions={"Shop/IsPaid"},
                        timeout_processors={"Shop/NextWorkingDay"}) == []


def test_a_timeout_no_rule_can_read_is_an_error():
    assert lint_fixture("bad_timeout.xml") == [
        ("error", 17, '<event name="pay">',
         'the timeout "soon" cannot be read: write it like "1 hour", "30min" or "1 day 2 hours"')]


@pytest.mark.parametrize(("timeout", "message"), [
    ("0 days", 'the timeout "0 days" is zero: it would fall due at once'),
    ("in a fortnight", 'the timeout "in a fortnight" cannot be read'),
    ("1 weekday", 'the timeout "1 weekday" counts from the calendar ("weekday")'),
])
def test_a_zero_or_unreadable_timeout_is_an_error_beside_a_timeout_processor_too(timeout,
                                                                                message):
    for processor in (None, "Shop/NextWorkingDay"):
        process = build(["new", "closed"],
                        [Event("close", timeout=timeout, timeout_processor=processor)],
                        [Transition("new", "closed", "close")])

        problems = lint_process(process, commands=(), conditions=(),
                                timeout_processors={"Shop/NextWorkingDay"})

        assert [(p.level, p.element) for p in problems] == [("error", '<event name="close">')]
        assert problems[0].message.startswith(message)


def test_unknown_event_in_a_python_built_process_is_an_error():
    process = build(["new", "paid"], [Event("pay")],
                    [Transition("new", "paid", "capture"), Transition("new", "paid", "pay")])

    assert findings(process) == [
        ("error", '<transition> new -> paid on "capture"', 'the event "capture" does not exist')]


def test_unknown_source_and_target_in_a_python_built_process_are_errors():
    process = build(["new", "paid"], [Event("pay")],
                    [Transition("new", "paid", "pay"), Transition("nwe", "shipped", "pay")])

    assert findings(process) == [
        ("error", '<transition> nwe -> shipped on "pay"', 'the source state "nwe" does not exist'),
        ("error", '<transition> nwe -> shipped on "pay"',
         'the target state "shipped" does not exist'),
    ]


# --- warnings: what runs, but is probably a mistake -----------------------------------------

def test_an_unreachable_state_is_a_warning():
    assert lint_fixture("unreachable.xml") == [
        ("warning", 8, '<state name="lost">',
         'the state cannot be reached from the initial state "new"')]


def test_unreachable_follows_every_transition_of_a_custom_initial_state():
    process = build(["open", "done", "lost"], [],
                    [Transition("open", "done", condition="Shop/IsPaid")], initial_state="open")

    assert findings(process) == [
        ("warning", '<state name="lost">',
         'the state cannot be reached from the initial state "open"')]


def test_more_than_one_on_enter_event_out_of_one_state_is_a_warning():
    assert lint_fixture("two_on_enter.xml") == [
        ("warning", 7, '<state name="paid">',
         '2 onEnter events leave this state ("export", "ship"): only the first one ("export") '
         "ever fires")]


def test_transitions_that_are_never_taken_are_warnings():
    # new -pay-> paid has a condition: it is not ambiguous with the "else" to held.
    assert lint_fixture("ambiguous.xml") == [
        ("warning", 24, '<transition> new -> invalid on "pay"',
         'the event "pay" already leaves "new" without a condition (to "held"): this transition '
         "is never taken"),
        ("warning", 33, "<transition> paid -> open",
         'an event-less transition already leaves "paid" without a condition (to "closed"): '
         "this transition is never taken"),
    ]


def test_a_flag_outside_sprykers_list_is_a_warning_and_kept():
    assert lint_fixture("unknown_flag.xml") == [
        ("warning", 6, '<state name="new">',
         'the flag "shippable" is not in Spryker\'s list of flags (oms-01.xsd): a typo? The '
         "state keeps it")]
    assert load_process_file(LINT / "unknown_flag.xml").states["new"].flags == {"shippable"}


def test_an_unknown_flag_in_a_python_built_process_names_its_subprocess():
    process = build([State("new", flags=frozenset({"cancellable", "shippable"}),
                           subprocess="Checkout")], [], [])

    assert [(level, element, message.split(" is not")[0])
            for level, element, message in findings(process)] == [
        ("warning", '<state name="new"> in Checkout', 'the flag "shippable"')]


def test_an_event_no_transition_carries_is_a_warning():
    # b2c DummyPayment01 declares "export" (onEnter, Oms/SendOrderShipped) and never uses it.
    process = build(["new", "paid"],
                    [Event("pay", manual=True), Event("export", on_enter=True)],
                    [Transition("new", "paid", "pay")])

    assert findings(process) == [
        ("warning", '<event name="export">', "no transition carries this event: it never fires")]


def test_a_negative_timeout_is_a_warning():
    process = build(["new", "closed"], [Event("close", timeout="-1 day")],
                    [Transition("new", "closed", "close")])

    assert findings(process) == [
        ("warning", '<event name="close">',
         'the timeout "-1 day" is negative (PHP reads it as a time in the past): it falls due '
         "at once")]


def test_timeouts_beside_event_less_transitions_are_a_warning():
    # Spryker's pitfall: check-conditions and check-timeouts race for the item.
    process = build(["new", "paid", "closed"], [Event("close", timeout="1 hour")],
                    [Transition("new", "paid", condition="Shop/IsPaid"),
                     Transition("new", "closed", "close")])

    assert findings(process) == [
        ("warning", '<state name="new">',
         'transitions without an event and timeout events ("close") leave this state: which '
         "one is taken depends on whether check-conditions or check-timeouts runs first")]


def test_what_the_loader_resolved_comes_first_among_the_warnings():
    process = load_process_file(FIXTURES / "lenient" / "duplicate_state.xml")

    problems = lint_process(process, **SHOP)

    assert [(p.level, Path(p.file).name, p.line, p.message.split(":")[0]) for p in problems] == [
        ("warning", "duplicate_state.xml", 8, 'the state "paid" is declared twice'),
        ("warning", "duplicate_state.xml", 8,
         "the state cannot be reached from the initial state \"new\""),
    ]


# --- problems, levels, files ----------------------------------------------------------------

def test_problem_reads_location_element_fault_and_level():
    problem = Problem("Shop01", "processes/Shop01.xml", '<event name="pay">',
                      'the command "Shop/Capture" is not registered by any plugin')

    assert problem.is_error
    assert str(problem) == ('Shop01 (processes/Shop01.xml): <event name="pay">: the command '
                            '"Shop/Capture" is not registered by any plugin')
    assert str(Problem("Built01", None, "<state name=\"x\">", "m")) == 'Built01: <state name="x">: m'
    located = Problem("Shop01", "processes/Shop01.xml", '<state name="x">', "m", level="warning",
                      file="processes/Sub/Pack01.xml", line=12)
    assert not located.is_error
    assert located.with_level() == 'warning: processes/Sub/Pack01.xml:12: <state name="x">: m'
    assert errors_in([problem, located]) == [problem]
    assert warnings_in([problem, located]) == [located]


def test_lint_all_gathers_problems_of_every_process_in_order():
    processes = load_processes([LINT / "unreachable.xml", LINT / "two_on_enter.xml",
                                LINT / "unregistered.xml"])

    problems = lint_all(processes, **SHOP)

    assert [p.process for p in problems] == ["Unreachable01", "OnEnter01", "Unregistered01"]
    assert str(problems[0]) == (f'{LINT / "unreachable.xml"}:8: <state name="lost">: the state '
                                'cannot be reached from the initial state "new"')


def test_lint_file_gives_every_problem_of_a_file_errors_first():
    process, problems = lint_file(FIXTURES / "broken" / "unknown_target.xml", **SHOP)

    assert process.name == "Target01"
    assert [(p.level, p.line, p.message) for p in problems] == [
        ("error", 10, 'the target state "shipped" does not exist'),
        ("warning", 7, 'the state cannot be reached from the initial state "new"'),
    ]


def test_lint_file_of_a_file_that_does_not_parse():
    process, problems = lint_file(FIXTURES / "broken" / "not_well_formed.xml", **SHOP)

    assert process is None
    assert [(p.level, p.element) for p in problems] == [("error", "line 7, column 7")]


@pytest.mark.parametrize("name", ["unreachable.xml", "two_on_enter.xml", "ambiguous.xml",
                                  "unknown_flag.xml", "bad_timeout.xml"])
def test_lint_fixtures_load_cleanly(name):
    # These files are valid to the loader: only the linter sees what is wrong with them.
    assert load_process_file(LINT / name).name
