"""Templates for mails to customers: supplied by plugins, rendered in a sandbox.

A template is Jinja text for a subject and a body. It sees the order as plain values
(``order.reference``, ``order.customer_name``, ``order.grand_total``, ``order.items`` ...)
and ``sender`` (the back-office user's name), and nothing else: the sandbox refuses access to
attributes that could reach the application.

A mail is written in the order's language (``panel.i18n.order_language``: its locale's),
whoever sends it. A template whose texts are marked with ``_l`` (lazy) is rendered from the
translation of that language, and the money and dates it shows are written that language's
way; a template of plain ``str`` is rendered as it is. The picker shows a template's title
in the back-office user's language.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from types import SimpleNamespace

from flask_babel import pgettext
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from panel.formatting import format_datetime, format_money
from panel.i18n import _l, in_language, order_language
from panel.models import Order
from panel.plugins import plugin_manager

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True)
class EmailTemplate:
    name: str  # unique; a project plugin's template of the same name wins
    # What the picker shows, and the Jinja text of the subject and the body: each a str, a
    # lazy text (``_l``) that is translated, or {language: text} (the title in the user's
    # language, the subject and the body in the order's).
    title: str
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


def salutation(value: str | None) -> str | None:
    """A salutation of the intake (Mr, Mrs, Ms, Dr) as the current language writes it in a
    greeting ("Frau" in German); anything else as it is."""
    words = {"Mr": pgettext("salutation", "Mr"), "Mrs": pgettext("salutation", "Mrs"),
             "Ms": pgettext("salutation", "Ms"), "Dr": pgettext("salutation", "Dr")}
    return words.get(value, value)


def order_context(order: Order, language: str | None = None) -> SimpleNamespace:
    """The values a template may use, as plain data; money, dates and the salutation in
    ``language`` (by default the current one).

    A namespace, not a dict: Jinja looks up ``order.items`` as an attribute first, and on a
    dict that is the ``items`` method, not the list of items.
    """
    currency = order.currency
    with in_language(language) if language else nullcontext():
        customer_name = " ".join(part for part in (
            salutation(order.salutation), order.first_name, order.last_name) if part)
    return SimpleNamespace(**{
        "reference": order.order_reference,
        "customer_name": customer_name,
        "first_name": order.first_name,
        "last_name": order.last_name,
        "email": order.email,
        "created_at": format_datetime(order.created_at, language),
        "grand_total": format_money(order.grand_total, currency, language),
        "store": order.store,
        "states": order.state_names,
        "items": [SimpleNamespace(name=i.name, sku=i.sku, state=i.state_name,
                                  price=format_money(i.price_to_pay, currency, language))
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
    that cannot be rendered raises TemplateProblem saying where and why.

    ``what`` names the text for the message, with its article: ``_l("the body of %(name)s")``.
    The message is lazy: it is written in the language of whoever reads it, not in the one a
    mail is rendered in."""
    try:
        return _compiled(env, source).render(**context)
    except TemplateError as exc:
        problem = str(exc.message or exc)
        if getattr(exc, "lineno", None):
            raise TemplateProblem(_l("%(what)s (line %(line)s): %(problem)s", what=what,
                                     line=exc.lineno, problem=problem)) from exc
        raise TemplateProblem(_l("%(what)s: %(problem)s", what=what,
                                 problem=problem)) from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        # A template that fails while running (iterating a number, dividing by zero) is
        # the template's fault too: say so instead of answering 500.
        problem = f"{type(exc).__name__}: {exc}"
        raise TemplateProblem(_l("%(what)s: %(problem)s", what=what, problem=problem)) from exc


def render(template: EmailTemplate, order: Order, sender: str) -> tuple[str, str]:
    """Return (subject, body) of the template for this order, written in the order's
    language whoever sends it: a lazy subject and body are read in it, and the order's money
    and dates are written its way. ``sender`` signs (a name, or a lazy text such as
    outbox.SYSTEM_SENDER, also read in the order's language)."""
    language = order_language(order)
    name = repr(template.name)
    with in_language(language):
        context = {"order": order_context(order, language), "sender": str(sender)}
        subject = render_text(in_language_of(template.subject, language), context,
                              _l("the subject of %(name)s", name=name))
        body = render_text(in_language_of(template.body, language), context,
                           _l("the body of %(name)s", name=name))
    return subject.strip(), body


def in_language_of(text, language: str) -> str:
    """A template's text in ``language``: a str as it is, a lazy text translated (inside
    ``in_language``), or from a ``{"en": ..., "de": ...}`` a project plugin gives (English,
    then its first language, when it has not this one)."""
    if isinstance(text, Mapping):
        return str(text.get(language) or text.get("en") or next(iter(text.values()), ""))
    return str(text)
