"""A project's document pages: its own invoice page, and a credit-note page that is broken on
purpose (it names a value documents do not have)."""
from panel import hookimpl
from panel.services.document_templates import DocumentTemplate

INVOICE_PAGE = """<!DOCTYPE html><html><body>
<h1>Rechnung {{ document.number }} for {{ document.customer.name }}</h1>
{% for line in document.lines %}<p>{{ line.quantity }} x {{ line.name }}: {{ line.gross|money(document.currency) }}</p>{% endfor %}
<p>Summe {{ document.totals.gross|money(document.currency) }}</p>
</body></html>"""


@hookimpl
def register_document_templates():
    return [DocumentTemplate("invoice", INVOICE_PAGE),
            DocumentTemplate("credit_note", "<p>{{ document.no_such_value }}</p>")]
