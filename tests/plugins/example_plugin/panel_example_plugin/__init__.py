"""An installable Order Panel plugin: the command Example/Hello, and a record of transitions."""
from panel import hookimpl

GREETED: list[int] = []  # the order ids Example/Hello ran for
SEEN: list[dict] = []  # one entry per items_transitioned call


def hello(*, order, items, event, actor):
    """Greet the order (a real plugin would call an outside service here)."""
    GREETED.append(order.id)


@hookimpl
def register_commands():
    return {"Example/Hello": hello}


@hookimpl
def items_transitioned(order_id, event, transitions, actor):
    SEEN.append({"order_id": order_id, "event": event, "transitions": list(transitions),
                 "actor": actor})
