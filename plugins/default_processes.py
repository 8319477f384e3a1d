"""The default process, DefaultOrder01, and which process a new order gets."""
from pathlib import Path

from flask import current_app

from panel import hookimpl

PROCESSES = Path(__file__).parent / "processes"


@hookimpl(trylast=True)
def register_processes():
    return [PROCESSES / "DefaultOrder01.xml"]


@hookimpl(trylast=True)
def select_process(order):
    """PANEL_PAYMENT_PROCESSES maps payment methods to processes; else the default one."""
    mapping = current_app.config["PANEL_PAYMENT_PROCESSES"]
    return mapping.get(order.payment.method.lower(), current_app.config["PANEL_DEFAULT_PROCESS"])


@hookimpl(trylast=True)
def register_event_roles():
    """Money goes back to the customer: an admin approves refunds."""
    return {"refund": "admin"}
