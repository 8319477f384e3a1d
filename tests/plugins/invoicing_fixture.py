"""A process that issues invoices with the bundled Invoice/Issue command, for orders paid by
"invoicing".

Invoicing01: new --pay--> paid, whose onEnter "invoice" (Invoice/Issue) goes on to invoiced.
From new, "break" goes to breaking, whose onEnter "invoice" issues the invoice and goes on to
half-invoiced, whose onEnter "fail" (Invoicing/Fail) always raises: the run is undone, the
invoice with it.
"""
from panel import hookimpl
from panel.oms.definitions import Event, Process, State, Transition

METHOD = "invoicing"


def build() -> Process:
    return Process.build(
        "Invoicing01", source=__file__,
        states=[State(name) for name in ("new", "paid", "invoiced", "breaking",
                                          "half-invoiced", "failed")],
        events=[Event("pay", manual=True),
                Event("invoice", on_enter=True, command="Invoice/Issue"),
                Event("break", manual=True),
                Event("fail", on_enter=True, command="Invoicing/Fail")],
        transitions=[Transition("new", "paid", "pay"),
                     Transition("paid", "invoiced", "invoice"),
                     Transition("new", "breaking", "break"),
                     Transition("breaking", "half-invoiced", "invoice"),
                     Transition("half-invoiced", "failed", "fail")],
    )


def fail(*, order, items, event, actor):
    raise RuntimeError("the accounting system is down")


@hookimpl
def register_processes():
    return [build()]


@hookimpl
def register_commands():
    return {"Invoicing/Fail": fail}


@hookimpl
def select_process(order):
    return "Invoicing01" if order.payment.method == METHOD else None
