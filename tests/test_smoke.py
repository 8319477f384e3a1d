from tests.conftest import order_payload


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_pages_render(as_role, post_order):
    response = post_order(order_payload(order_reference="DE--900"))
    assert response.status_code == 201, response.json
    order_id = response.json["id"]
    c = as_role("agent")
    for url in ["/sales/orders/", f"/sales/orders/{order_id}", "/customers/",
                "/sales/orders/export.csv"]:
        r = c.get(url)
        assert r.status_code == 200, (url, r.get_data(as_text=True)[-3000:])
