"""Everything View Order shows, loaded with a fixed number of queries whatever the item count."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from itertools import takewhile

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from panel.extensions import db
from panel.models import (
    Comment,
    Customer,
    Document,
    ItemStateHistory,
    Order,
    OrderAddress,
    OrderItem,
    Reclamation,
    Refund,
    Return,
    Shipment,
)
from panel.oms.registry import current_registry
from panel.services import quantities
from panel.services.comments import comments_of
from panel.services.documents import documents_of
from panel.services.oms_stats import LogRow, order_log
from panel.services.order_plan import INTAKE_ACTOR
from panel.services.outbox_list import unsent_counts
from panel.services.reclamations import reclamations_of
from panel.services.refunds import refunds_of
from panel.services.return_list import returns_of
from panel.services.timeline import Entry, timeline

ORDER_LOG_ROWS = 50


@dataclass
class ProductLine:
    name: str
    sku: str
    quantity: int
    total: int


@dataclass
class OrderDetails:
    order: Order
    customer: Customer | None
    previous_orders: int
    shipments: list[Shipment]
    items_by_shipment: dict[int, list[OrderItem]]
    product_lines: list[ProductLine]
    timeline: list[Entry]
    comments: list[Comment]
    item_events: dict[int, list[str]]  # item id: its manual events
    history: dict[int, list]  # item id: its state changes (rows of ItemStateHistory), oldest first
    log_rows: list[LogRow]
    reclamations: list[Reclamation]
    refunds: list[Refund]
    documents: list[Document]
    returns: list[Return]
    quantities: quantities.Quantities  # per order line: ordered, shipped, refunded...
    unsent_mail: dict[str, int]  # mails to the customer: failed (tried again), undeliverable

    def events_for(self, items) -> list[tuple[str, int]]:
        """The distinct manual events of these items, each with how many items take it."""
        counts: dict[str, int] = {}
        for item in items:
            for event in self.item_events.get(item.id, []):
                counts[event] = counts.get(event, 0) + 1
        return list(counts.items())

    @property
    def order_events(self) -> list[tuple[str, int]]:
        return self.events_for(self.order.items)

    @property
    def unique_products(self) -> int:
        return len(self.product_lines)

    @property
    def failures(self) -> list[LogRow]:
        """The transition log's errors since anything last happened to the items, newest
        first: View Order shows them at the top until the order moves on. A failure is
        logged once per item it was for; it is listed once."""
        failures: dict[tuple, LogRow] = {}
        for row in takewhile(lambda row: row.entry.is_error, self.log_rows):
            e = row.entry
            failures.setdefault((e.created_at, e.event, e.source_state, e.actor,
                                 e.error_message), row)
        return list(failures.values())

    @property
    def did_not_start(self) -> bool:
        """Whether the first of those failures is the start of the order's items."""
        failures = self.failures
        return bool(failures) and failures[-1].entry.actor == INTAKE_ACTOR


def load(order_id: int, kinds: set[str] | None = None) -> OrderDetails | None:
    """Everything View Order shows; ``kinds`` filters the timeline (History)."""
    order = db.session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .options(
            joinedload(Order.billing_address),
            selectinload(Order.shipments).joinedload(Shipment.address),
            selectinload(Order.items),
        )
    )
    if order is None:
        return None
    customer = db.session.get(Customer, order.customer_id) if order.customer_id else None
    if order.customer_id:
        previous = db.session.scalar(
            select(func.count()).select_from(Order).where(Order.customer_id == order.customer_id)
        )
    else:
        previous = db.session.scalar(
            select(func.count()).select_from(Order).where(Order.email == order.email)
        )
    items_by_shipment: dict[int, list[OrderItem]] = {s.id: [] for s in order.shipments}
    lines: OrderedDict[tuple, ProductLine] = OrderedDict()
    for item in order.items:
        items_by_shipment.setdefault(item.shipment_id, []).append(item)
        key = (item.sku, item.name, item.price_to_pay)
        line = lines.get(key)
        if line is None:
            lines[key] = ProductLine(item.name, item.sku, 1, item.price_to_pay)
        else:
            line.quantity += 1
            line.total += item.price_to_pay
    registry = current_registry()
    item_events = {}
    for item in order.items:
        process = registry.processes.get(item.process_name)
        item_events[item.id] = process.manual_events_from(item.state_name) if process else []
    # Plain rows, not ORM objects: an order of 100 items has 100 or more of them, read only.
    history: dict[int, list] = {item.id: [] for item in order.items}
    for row in db.session.execute(
        select(ItemStateHistory.item_id, ItemStateHistory.from_state, ItemStateHistory.to_state,
               ItemStateHistory.event, ItemStateHistory.actor, ItemStateHistory.created_at)
        .join(OrderItem, OrderItem.id == ItemStateHistory.item_id)
        .where(OrderItem.order_id == order.id)
        .order_by(ItemStateHistory.id)
    ):
        history[row.item_id].append(row)
    log_rows = order_log(order, limit=ORDER_LOG_ROWS)
    reclamations, comments, returns = (reclamations_of(order.id), comments_of(order.id),
                                       returns_of(order.id))
    refunds = refunds_of(order.id)
    return OrderDetails(
        quantities=quantities.compute(
            order.items, {item_id: [row.event for row in rows]
                          for item_id, rows in history.items()},
            refunds, quantities.returned_item_ids(order.id)),
        item_events=item_events,
        history=history,
        log_rows=log_rows,
        reclamations=reclamations,
        refunds=refunds,
        documents=documents_of(order.id),
        returns=returns,
        unsent_mail=unsent_counts(order.id),
        order=order,
        customer=customer,
        previous_orders=previous,
        shipments=list(order.shipments),
        items_by_shipment=items_by_shipment,
        product_lines=list(lines.values()),
        timeline=timeline(order.id, kinds, comments=comments, reclamations=reclamations,
                          returns=returns),
        comments=comments,
    )


def load_address(order_id: int, address_id: int) -> tuple[Order, OrderAddress, str] | None:
    """The order and one of its addresses (billing or a shipment's), with its role."""
    order = db.session.get(Order, order_id)
    if order is None:
        return None
    if order.billing_address_id == address_id:
        return order, order.billing_address, "billing"
    shipment = db.session.scalar(
        select(Shipment).where(Shipment.order_id == order_id, Shipment.address_id == address_id)
    )
    if shipment is None:
        return None
    return order, shipment.address, "shipping"
