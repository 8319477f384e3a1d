"""The process linter: each rule, on a file or a Python-built process that breaks it, and the
bundled processes passing once the names they call are registered."""
from __future__ import annotations

from pathlib import Path

import pytest

from panel.oms.definitions import Event, Process, State, Transition
from panel.oms.lint import Problem, lint_all, lint_process
from panel.oms.xml_loader import load_process_file, load_processes

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "plugins" / "processes"
LINT = Path(__file__).resolve().parent / "oms_fixtures" / "lint"

# What the bundled XML files call: a plugin must register all of these.
BUNDLED_COMMANDS = {
    "Payment/Capture", "Oms/SendOrderShipped", "Oms/SendOrderConfirmation", "DummyPayment/Pay",
    "DummyPayment/Refund", "Return/StartReturn", "Invoice/Generate", "GiftCard/CreateGiftCard",
}
BUNDLED_CONDITIONS = {"DummyPayment/IsAuthorized", "DummyPayment/IsPayed", "GiftCard/IsGiftCard"}
BUNDLED_TIMEOUT_PROCESSORS = {"OmsTimeout/Initiation"}
SHOP = {"commands": {"Shop/Capture"}, "conditions": {"Shop/IsPaid"}, "timeout_processors": set()}
NOTHING = {"commands": (), "conditions": (), "timeout_processors": ()}


def lint_file(name: str, **registered) -> list[tuple[str, str]]:
    process = load_process_file(LINT / name)
    problems = lint_process(process, **(registered or SHOP))
    assert {(p.process, p.source) for p in problems} <= {(process.name, str(LINT / name))}
    return [(p.element, p.message) for p in problems]


def build(states, events, transitions, **kwargs) -> Process:
    return Process.build("Built01", states=[State(s) if isinstance(s, str) else s for s in states],
                         events=events, transitions=transitions, source="plugin shop", **kwargs)


# --- the bundled processes ------------------------------------------------------------------

def bundled():
    return load_processes(sorted(BUNDLED.glob("*.xml")))


def test_bundled_processes_pass_once_their_names_are_registered():
    problems = lint_all(bundled(), commands=BUNDLED_COMMANDS, conditions=BUNDLED_CONDITIONS,
                        timeout_processors=BUNDLED_TIMEOUT_PROCESSORS)

    assert problems == []


def test_bundled_processes_call_exactly_these_names():
    problems = lint_all(bundled(), **NOTHING)

    named = {p.message.split('"')[1] for p in problems}
    assert named == BUNDLED_COMMANDS | BUNDLED_CONDITIONS | BUNDLED_TIMEOUT_PROCESSORS
    assert all("is not registered by any plugin" in p.message for p in problems)


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


# --- one rule at a time, from files ---------------------------------------------------------

def test_unreachable_state():
    assert lint_file("unreachable.xml") == [
        ('<state name="lost">', 'the state cannot be reached from the initial state "new"')]


def test_unreachable_follows_every_transition_of_a_custom_initial_state():
    process = build(["open", "done", "lost"], [],
                    [Transition("open", "done", condition="Shop/IsPaid")], initial_state="open")

    assert [(p.element, p.message) for p in lint_process(process, **SHOP)] == [
        ('<state name="lost">', 'the state cannot be reached from the initial state "open"')]


def test_initial_state_missing():
    # Only this problem: every state would be "unreachable" otherwise, which helps nobody.
    assert lint_file("no_initial.xml") == [
        ('<process name="NoInitial01">',
         'the initial state "new" is not declared: new items could not start')]


def test_more_than_one_on_enter_event_out_of_one_state():
    assert lint_file("two_on_enter.xml") == [
        ('<state name="paid">', '2 onEnter events leave this state ("export", "ship"): only the '
                                'first one ("export") ever fires')]


def test_two_unconditional_transitions_for_one_event_and_for_no_event():
    # new -pay-> paid has a condition: it is not ambiguous with the "else" to held.
    assert lint_file("ambiguous.xml") == [
        ('<transition> new -> invalid on "pay"',
         'the event "pay" already leaves "new" without a condition (to "held"): this transition '
         "is never taken"),
        ("<transition> paid -> open",
         'an event-less transition already leaves "paid" without a condition (to "closed"): '
         "this transition is never taken"),
    ]


def test_unregistered_command_condition_and_timeout_processor():
    assert lint_file("unregistered.xml", **NOTHING) == [
        ('<event name="pay">', 'the command "Shop/Capture" is not registered by any plugin'),
        ('<event name="pay">',
         'the timeout processor "Shop/NextWorkingDay" is not registered by any plugin'),
        ('<transition> new -> paid on "pay"',
         'the condition "Shop/IsPaid" is not registered by any plugin'),
    ]
    assert lint_file("unregistered.xml", commands={"Shop/Capture"}, conditions={"Shop/IsPaid"},
                     timeout_processors={"Shop/NextWorkingDay"}) == []


# --- rules the loader enforces, for processes built in Python -------------------------------

def test_unknown_event_in_a_python_built_process():
    process = build(["new", "paid"], [Event("pay")], [Transition("new", "paid", "capture")])

    assert [(p.element, p.message) for p in lint_process(process, **SHOP)] == [
        ('<transition> new -> paid on "capture"', 'the event "capture" does not exist')]


def test_unknown_source_and_target_in_a_python_built_process():
    process = build(["new", "paid"], [Event("pay")],
                    [Transition("new", "paid", "pay"), Transition("nwe", "shipped", "pay")])

    assert [(p.element, p.message) for p in lint_process(process, **SHOP)] == [
        ('<transition> nwe -> shipped on "pay"', 'the source state "nwe" does not exist'),
        ('<transition> nwe -> shipped on "pay"', 'the target state "shipped" does not exist'),
    ]


def test_timeout_that_does_not_parse_in_a_python_built_process():
    process = build(["new", "closed"], [Event("close", timeout="in a fortnight")],
                    [Transition("new", "closed", "close")])

    assert [(p.element, p.message) for p in lint_process(process, **SHOP)] == [
        ('<event name="close">',
         'the timeout "in a fortnight" does not parse (write it like "1 hour" or "14 days")')]


def test_unknown_flag_in_a_python_built_process():
    process = build([State("new", flags=frozenset({"cancellable", "shippable"}),
                           subprocess="Checkout")], [], [])

    problems = lint_process(process, **SHOP)
    assert [(p.element, p.message.split(" is not one of")[0]) for p in problems] == [
        ('<state name="new"> in Checkout', 'the flag "shippable"')]
    assert '"cancellable"' in problems[0].message


def test_problem_reads_process_source_element_fault():
    problem = Problem("Shop01", "processes/Shop01.xml", '<event name="pay">',
                      'the command "Shop/Capture" is not registered by any plugin')

    assert str(problem) == ('Shop01 (processes/Shop01.xml): <event name="pay">: the command '
                            '"Shop/Capture" is not registered by any plugin')
    assert str(Problem("Built01", None, "<state name=\"x\">", "m")) == 'Built01: <state name="x">: m'


def test_lint_all_gathers_problems_of_every_process_in_order():
    processes = load_processes([LINT / "unreachable.xml", LINT / "two_on_enter.xml",
                                LINT / "unregistered.xml"])

    problems = lint_all(processes, **SHOP)

    assert [p.process for p in problems] == ["Unreachable01", "OnEnter01", "Unregistered01"]
    assert str(problems[0]) == (f'Unreachable01 ({LINT / "unreachable.xml"}): <state name="lost">: '
                                'the state cannot be reached from the initial state "new"')


@pytest.mark.parametrize("name", ["unreachable.xml", "two_on_enter.xml", "ambiguous.xml"])
def test_lint_fixtures_load_cleanly(name):
    # These files are valid to the loader: only the linter sees what is wrong with them.
    assert load_process_file(LINT / name).name
