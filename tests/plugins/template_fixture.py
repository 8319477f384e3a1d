"""A project's email templates: one replaces a bundled one, two are broken on purpose."""
from panel import hookimpl
from panel.services.email_templates import EmailTemplate


@hookimpl
def register_email_templates():
    return [
        EmailTemplate("order update", "Order update (project)",
                      "Project update for {{ order.reference }}", "Hi {{ order.first_name }}"),
        EmailTemplate("broken", "Broken", "Hello", "{{ order.no_such_field }}"),
        EmailTemplate("escape", "Escape", "x", "{{ order.__class__.__mro__ }}"),
        # A project's own mail in two languages: {language: text}.
        EmailTemplate("voucher", {"en": "Voucher", "de": "Gutschein"},
                      {"en": "A voucher for {{ order.reference }}",
                       "de": "Ein Gutschein für {{ order.reference }}"},
                      {"en": "Dear {{ order.first_name }}, enjoy {{ order.grand_total }}.",
                       "de": "Liebe(r) {{ order.first_name }}, viel Freude mit "
                             "{{ order.grand_total }}."}),
    ]
