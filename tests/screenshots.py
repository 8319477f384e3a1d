"""The README's screenshots, made again from the demo data in Debian's Chromium.

    python -m tests.screenshots [--out docs/screenshots] [--orders 2000]

Builds a throwaway SQLite database with demo orders (the same seeded data every time),
an admin and a shared saved view, serves the panel on 127.0.0.1 (a free port) and takes:
the dashboard, the orders list with the saved view open, a paid order's items with their
event buttons, and a process graph. Nothing outside the output folder is written.
"""
from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from panel import create_app
from panel.extensions import db
from panel.models import Order, OrderItem, User
from panel.services import demo, saved_views
from panel.services.order_search import OrderQuery

CHROMIUM = "/usr/bin/chromium"
EMAIL, PASSWORD = "screenshots@example.org", "screenshots password 1"
VIEWPORT = {"width": 1360, "height": 900}


def prepare(app, orders: int) -> int:
    """Demo data, an admin, a shared saved view; return an order whose items can be moved
    on (paid, the most items)."""
    with app.app_context():
        upgrade()
        demo.seed_orders(orders, seed=1)
        admin = User(email=EMAIL, name="Alex Admin", role="admin", active=True,
                     password_hash=generate_password_hash(PASSWORD))
        db.session.add(admin)
        db.session.commit()
        saved_views.save_view(admin, "Paid, waiting to ship",
                              OrderQuery(states=["paid"], stores=["DE", "AT"]), shared=True)
        # The paid order with the most items: its items have event buttons (ship, cancel).
        order_id = db.session.scalar(
            sa.select(OrderItem.order_id).where(OrderItem.state_name == "paid")
            .group_by(OrderItem.order_id)
            .order_by(sa.func.count().desc(), OrderItem.order_id.desc()).limit(1))
        assert db.session.get(Order, order_id) is not None
        db.session.remove()
        return order_id


def shoot(base: str, out: Path, order_id: int) -> list[Path]:
    made = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{base}/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("#dashboard-taken")

        def take(name: str, full_page: bool = True) -> None:
            page.wait_for_load_state("load")
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=full_page)
            made.append(path)

        take("dashboard")
        page.goto(f"{base}/sales/orders/")
        page.locator("#view-tabs a", has_text="Paid, waiting to ship").click()
        take("orders-saved-view", full_page=False)
        page.goto(f"{base}/sales/orders/{order_id}")
        page.wait_for_load_state("load")
        page.get_by_text("Shipment 1 of").first.evaluate(
            "element => element.scrollIntoView({block: 'start'})")  # its items and buttons
        take("view-order", full_page=False)
        page.goto(f"{base}/administration/oms/process/DefaultOrder01")
        take("process-graph", full_page=False)
        browser.close()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--orders", type=int, default=2000)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/screenshots.sqlite3",
                          "SECRET_KEY": "screenshots", "PANEL_SECRET_KEY_IS_GENERATED": False,
                          "MAIL_SUPPRESS_SEND": True})
        order_id = prepare(app, args.orders)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            for path in shoot(f"http://127.0.0.1:{server.server_port}", out, order_id):
                print(path)
        finally:
            server.shutdown()
            server.server_close()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
