"""The mails the back office and the state machine send to customers.

Each text is marked with ``_l``: the title is shown in the back-office user's language, the
subject and the body are written in the order's language (panel.services.email_templates).
They are Jinja text: a translation keeps every ``{{ ... }}`` and ``{% ... %}`` as it is.
"""
from panel import hookimpl
from panel.i18n import _l
from panel.services.email_templates import EmailTemplate

# Translators: the subjects and bodies below are Jinja templates of mails to customers: keep
# {{ order.reference }}, {{ sender }} and the {% for %} ... {% endfor %} lines as they are.
TEMPLATES = [
    EmailTemplate(
        "order update", _l("Order update"),
        _l("An update on your order {{ order.reference }}"),
        _l("Hello {{ order.customer_name }},\n\nhere is where your order {{ order.reference }} "
           "stands:\n{% for item in order.items %}- {{ item.name }}: {{ item.state }}\n"
           "{% endfor %}\n\nKind regards,\n{{ sender }}"),
    ),
    EmailTemplate(
        "shipping delay", _l("Shipping delay"),
        _l("Your order {{ order.reference }} is delayed"),
        _l("Hello {{ order.customer_name }},\n\nwe are sorry: your order {{ order.reference }} "
           "will leave our warehouse later than planned. We will write again as soon as it "
           "ships.\n\nKind regards,\n{{ sender }}"),
    ),
    EmailTemplate(
        "request for information", _l("Request for information"),
        _l("A question about your order {{ order.reference }}"),
        _l("Hello {{ order.customer_name }},\n\nto complete your order {{ order.reference }} we "
           "need a little more information from you: \n\nKind regards,\n{{ sender }}"),
    ),
    EmailTemplate(
        "order confirmation", _l("Order confirmation"),
        _l("Your order {{ order.reference }} is confirmed"),
        _l("Hello {{ order.customer_name }},\n\nthank you for your order {{ order.reference }} "
           "of {{ order.grand_total }}. We are preparing it.\n\nKind regards,\n{{ sender }}"),
    ),
    EmailTemplate(
        "order shipped", _l("Order shipped"),
        _l("Your order {{ order.reference }} is on its way"),
        _l("Hello {{ order.customer_name }},\n\nyour order {{ order.reference }} has been "
           "shipped.\n\nKind regards,\n{{ sender }}"),
    ),
]


@hookimpl(trylast=True)
def register_email_templates():
    return TEMPLATES
