"""The mails the back office and the state machine send to customers."""
from panel import hookimpl
from panel.services.email_templates import EmailTemplate

SIGNATURE = "\n\nKind regards,\n{{ sender }}"

TEMPLATES = [
    EmailTemplate(
        "order update", "Order update",
        "An update on your order {{ order.reference }}",
        "Hello {{ order.customer_name }},\n\nhere is where your order {{ order.reference }} "
        "stands:\n{% for item in order.items %}- {{ item.name }}: {{ item.state }}\n{% endfor %}"
        + SIGNATURE,
    ),
    EmailTemplate(
        "shipping delay", "Shipping delay",
        "Your order {{ order.reference }} is delayed",
        "Hello {{ order.customer_name }},\n\nwe are sorry: your order {{ order.reference }} "
        "will leave our warehouse later than planned. We will write again as soon as it "
        "ships." + SIGNATURE,
    ),
    EmailTemplate(
        "request for information", "Request for information",
        "A question about your order {{ order.reference }}",
        "Hello {{ order.customer_name }},\n\nto complete your order {{ order.reference }} we "
        "need a little more information from you: " + SIGNATURE,
    ),
    EmailTemplate(
        "order confirmation", "Order confirmation",
        "Your order {{ order.reference }} is confirmed",
        "Hello {{ order.customer_name }},\n\nthank you for your order {{ order.reference }} "
        "of {{ order.grand_total }}. We are preparing it." + SIGNATURE,
    ),
    EmailTemplate(
        "order shipped", "Order shipped",
        "Your order {{ order.reference }} is on its way",
        "Hello {{ order.customer_name }},\n\nyour order {{ order.reference }} has been "
        "shipped." + SIGNATURE,
    ),
]


@hookimpl(trylast=True)
def register_email_templates():
    return TEMPLATES
