"""The panel's data: one module per domain, all re-exported here."""
from panel.models.bulk import BulkRun, BulkRunOrder, Selection, SelectionOrder
from panel.models.comment import Comment
from panel.models.customer import Customer, CustomerAddress
from panel.models.document import Document, DocumentCounter
from panel.models.oms import EventTimeout, OutboundEmail, TransitionLog
from panel.models.order import (
    AddressChange,
    ItemStateHistory,
    Order,
    OrderAddress,
    OrderItem,
    ReferenceSequence,
    Shipment,
)
from panel.models.reclamation import Reclamation, ReclamationItem
from panel.models.refund import Refund, RefundLine, RefundShipping
from panel.models.sales_return import Return, ReturnItem, ReturnReason, ReturnSequence
from panel.models.saved_view import DefaultView, SavedView
from panel.models.user import ApiToken, LoginAttempt, User, UserSession

__all__ = [
    "AddressChange",
    "ApiToken",
    "BulkRun",
    "BulkRunOrder",
    "Comment",
    "Customer",
    "CustomerAddress",
    "DefaultView",
    "Document",
    "DocumentCounter",
    "EventTimeout",
    "ItemStateHistory",
    "LoginAttempt",
    "Order",
    "OrderAddress",
    "OrderItem",
    "OutboundEmail",
    "Reclamation",
    "ReclamationItem",
    "ReferenceSequence",
    "Refund",
    "RefundLine",
    "RefundShipping",
    "Return",
    "ReturnItem",
    "ReturnReason",
    "ReturnSequence",
    "SavedView",
    "Selection",
    "SelectionOrder",
    "Shipment",
    "TransitionLog",
    "User",
    "UserSession",
]
