"""Templates for mails to customers: supplied by plugins, rendered in a sandbox.

A template is Jinja text for a subject and a body. It sees the order as plain values
(``order.reference``, ``order.customer_name``, ``order.grand_total``, ``order.items`` ...)
and ``sender`` (the back-office user's name), and nothing else: the sandbox refuses access to
attributes that could reach the application.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from panel.formatting import format_datetime, format_money
from panel.models import Order
from panel.plugins import plugin_manager

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True)
class EmailTemplate:
    name: str  # unique; a project plugin's template of the same name wins
    title: str  # what the picker shows
    subject: str
    body: str


class TemplateProblem(ValueError):
    """A template could not be rendered; the message says where and why."""


def email_templates() -> dict[str, EmailTemplate]:
    """Every plugin's templates by name, the highest-priority plugin's winning."""
    result: dict[str, EmailTemplate] = {}
    for templates in plugin_manager().hook.register_email_templates():
        for template in templates:
            result.setdefault(template.name, template)
    return result


def order_context(order: Order) -> SimpleNamespace:
    """The values a template may use, as plain data.

    A namespace, not a dict: Jinja looks up ``order.items`` as an attribute first, and on a
    dict that is the ``items`` method, not the list of items.
    """
    currency = order.currency
    return SimpleNamespace(**{
        "reference": order.order_reference,
        "customer_name": order.customer_full_name,
        "first_name": order.first_name,
        "last_name": order.last_name,
        "email": order.email,
        "created_at": format_datetime(order.created_at),
        "grand_total": format_money(order.grand_total, currency),
        "store": order.store,
        "states": order.state_names,
        "items": [SimpleNamespace(name=i.name, sku=i.sku, state=i.state_name,
                                  price=format_money(i.price_to_pay, currency))
                  for i in order.items],
    })


@functools.lru_cache(maxsize=256)
def _compiled(env: SandboxedEnvironment, source: str):
    """The template compiled once per text: a sweep that queues a thousand confirmation
    mails renders the same two texts a thousand times (a text that does not compile raises,
    and is not kept)."""
    return env.from_string(source)


def render_text(source: str, context: dict, what: str, *,
                env: SandboxedEnvironment = _ENV) -> str:
    """Render template text in a sandbox (``env``: the mails' own, by default); a template
    that cannot be rendered raises TemplateProblem saying where and why."""
    try:
        return _compiled(env, source).render(**context)
    except TemplateError as exc:
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise TemplateProblem(f"the {what}{line}: {exc.message or exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        # A template that fails while running (iterating a number, dividing by zero) is
        # the template's fault too: say so instead of answering 500.
        raise TemplateProblem(f"the {what}: {type(exc).__name__}: {exc}") from exc


def render(template: EmailTemplate, order: Order, sender: str) -> tuple[str, str]:
    """Return (subject, body) of the template for this order."""
    context = {"order": order_context(order), "sender": sender}
    subject = render_text(template.subject, context, f"subject of {template.name!r}")
    body = render_text(template.body, context, f"body of {template.name!r}")
    return subject.strip(), body
