"""The HTML templates of documents, supplied by plugins, and the PDFs made from them.

A template is the Jinja text of a whole HTML page for one kind of document ("invoice",
"credit_note"). It is rendered in a sandbox, with HTML escaping, and sees only ``document``:
the document's content as it was issued, as plain values (``document.number``,
``document.lines``, ``document.totals.gross`` ...), and the filter ``money``
(``{{ line.gross|money(document.currency) }}``). Rendering reads nothing but the stored
content, so a document's PDF is the same whenever it is made.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from panel.formatting import format_money
from panel.i18n import _, _l
from panel.models import Document
from panel.plugins import plugin_manager
from panel.services.email_templates import TemplateProblem, render_text
from panel.services.pdf import render_pdf

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
_ENV.filters["money"] = format_money


@dataclass(frozen=True)
class DocumentTemplate:
    kind: str  # "invoice" or "credit_note"; a project plugin's template of a kind wins
    html: str  # Jinja text of the whole page


def document_templates() -> dict[str, DocumentTemplate]:
    """Every plugin's templates by kind, the highest-priority plugin's winning."""
    result: dict[str, DocumentTemplate] = {}
    for templates in plugin_manager().hook.register_document_templates():
        for template in templates:
            result.setdefault(template.kind, template)
    return result


def plain(value):
    """Stored content as values a template reads with dots: mappings become namespaces
    (on a dict, ``line.items`` would be its method, not the key)."""
    if isinstance(value, dict):
        return SimpleNamespace(**{key: plain(item) for key, item in value.items()})
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def render_html(document: Document) -> str:
    """The document's page, from the template of its kind; TemplateProblem when no plugin
    supplies one or it cannot be rendered."""
    template = document_templates().get(document.kind)
    if template is None:
        raise TemplateProblem(_("no plugin supplies a template for the document kind %(kind)s",
                                kind=repr(document.kind)))
    return render_text(template.html, {"document": plain(document.content)},
                       _l("the %(kind)s template", kind=document.kind), env=_ENV)


def document_pdf(document: Document) -> bytes:
    """The document as a PDF (PdfError, TemplateProblem when it cannot be made)."""
    return render_pdf(render_html(document))
