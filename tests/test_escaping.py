"""Markup sent through the API is shown as text wherever it appears."""
import re

from panel.extensions import db
from panel.models import Order
from tests.conftest import order_payload

SCRIPT = "<script>alert(1)</script>"


def test_script_in_customer_name_is_text_everywhere(app, as_role, post_order):
    payload = order_payload(cart_note=SCRIPT)
    payload["customer"]["first_name"] = SCRIPT
    payload["billing_address"]["city"] = SCRIPT
    payload["shipments"][0]["items"][0]["name"] = SCRIPT
    order_id = post_order(payload).json["id"]
    with app.app_context():
        customer_id = db.session.get(Order, order_id).customer_id
    agent = as_role("agent")
    for url in ("/sales/orders/", f"/sales/orders/{order_id}", f"/customers/{customer_id}",
                "/customers/", f"/customers/{customer_id}/edit",
                f"/sales/orders/?q={SCRIPT}"):
        page = agent.get(url).get_data(as_text=True)
        assert SCRIPT not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    listing = agent.get("/sales/orders/").get_data(as_text=True)
    assert re.search(r"&lt;script&gt;alert\(1\)&lt;/script&gt; Schmidt", listing)
