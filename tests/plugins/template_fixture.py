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
    ]
