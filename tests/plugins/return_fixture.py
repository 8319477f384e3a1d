"""A project's return rules and a process whose return can fail, for the returns tests.

Rules: final-sale items cannot be returned (asked item by item), and vouchers are refunded,
not returned (asked once per order, which RULE_CALLS records). The process Returns01 (orders
paid with "returns-test") returns items by "return" through a command that the warehouse
refuses for the SKU "BOOM", and a condition that keeps the SKU "KEEP" where it is.
"""
from panel import hookimpl
from panel.oms.definitions import Event, Process, State, Transition
from panel.services.returns import by_order

RULE_CALLS: list[tuple[int, list[int]]] = []  # (order id, [item ids]) per call


def no_final_sale(*, order, item, now):
    if item.sku.startswith("FINAL"):
        return "final sale items cannot be returned"
    return None


@by_order
def no_vouchers(*, order, items, now):
    RULE_CALLS.append((order.id, [item.id for item in items]))
    return {item.id: "vouchers are refunded, not returned"
            for item in items if item.sku.startswith("VOUCHER")}


def inspect_at_the_warehouse(*, order, items, event, actor):
    for item in items:
        if item.sku == "BOOM":
            raise RuntimeError(f"the warehouse system refused {item.sku}")


def accepted(*, item):
    return item.sku != "KEEP"


@hookimpl
def register_return_rules():
    return [no_final_sale, no_vouchers]


@hookimpl
def register_processes():
    return [Process.build(
        "Returns01", source=__file__,
        states=[State("new"), State("shipped"), State("returned")],
        events=[Event("ship", manual=True),
                Event("return", manual=True, command="ReturnsTest/Inspect")],
        transitions=[Transition("new", "shipped", "ship", happy=True),
                     Transition("shipped", "returned", "return",
                                condition="ReturnsTest/Accepted")],
    )]


@hookimpl
def register_commands():
    return {"ReturnsTest/Inspect": inspect_at_the_warehouse}


@hookimpl
def register_conditions():
    return {"ReturnsTest/Accepted": accepted}


@hookimpl
def select_process(order):
    return "Returns01" if order.payment.method == "returns-test" else None
