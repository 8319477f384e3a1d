"""A project's claim rule: gift wrapping cannot be claimed."""
from panel import hookimpl


def no_gift_wrap(*, order, item, now):
    if item.sku == "WRAP":
        return "gift wrapping cannot be claimed"
    return None


@hookimpl
def register_claim_rules():
    return [no_gift_wrap]
