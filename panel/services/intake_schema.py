"""The shape of an incoming order: one schema that validates requests and documents the API.

Amounts are integers in the minor unit of the order's currency (cents for EUR).
"""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from panel.services import text_fields

MAX_UNITS_PER_ORDER = 1000
SALUTATIONS = ("Mr", "Mrs", "Dr", "Ms", "n/a")


def _one_line(value: str) -> str:
    text_fields.single_line(value)
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return text_fields.readable(value)


def _optional_one_line(value: str | None) -> str | None:
    if value is None:
        return None
    value = text_fields.single_line(value).strip()
    return text_fields.readable(value) if value else None


def _optional_multi_line(value: str | None) -> str | None:
    if value is None:
        return None
    value = text_fields.multi_line(value).strip()
    return text_fields.readable(value) if value else None


Email = Annotated[StrictStr, Field(max_length=254, json_schema_extra={"format": "email"}),
                  AfterValidator(text_fields.email_address)]


def _integral_number(value):
    """JSON Schema counts 12.0 as an integer, so the API does too; 12.5 stays an error."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def Integer(low: int, high: int):  # noqa: N802 - reads as a type in the models below
    """A whole number in [low, high]: an int, or a JSON number with no fraction (12.0);
    never a string or a bool. (The bounds sit inside so that they reach the JSON schema.)"""
    return Annotated[StrictInt, Field(ge=low, le=high), BeforeValidator(_integral_number)]


# Amounts are stored in 32-bit integer columns: every amount, and every total of an order,
# must fit (2,147,483,647 minor units: 21 million in a currency with cents).
MAX_AMOUNT = 2**31 - 1
Money = Integer(0, MAX_AMOUNT)
# The tax rate as documented: at most 100, at most two decimals, as a number or a string.
TAX_RATE_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.01},
    {"type": "string", "pattern": r"^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$"},
], "examples": [19, "7.5"]}


def Text(max_length: int):  # noqa: N802 - reads as a type in the models below
    """A required single line of at most ``max_length`` characters that a person can read:
    no control or bidirectional control characters, not only blanks or invisible ones."""
    return Annotated[
        StrictStr,
        Field(max_length=max_length,
              json_schema_extra={"pattern": text_fields.ONE_LINE_PATTERN}),
        AfterValidator(_one_line),
    ]


def OptionalText(max_length: int):  # noqa: N802
    """An optional single line, by the rules of ``Text``; blank counts as absent."""
    return Annotated[
        Annotated[StrictStr, Field(
            max_length=max_length,
            json_schema_extra={"pattern": text_fields.OPTIONAL_ONE_LINE_PATTERN})] | None,
        AfterValidator(_optional_one_line),
    ]


def OptionalNote(max_length: int):  # noqa: N802
    """Optional free text over several lines: line breaks and tabs are allowed, other control
    and the bidirectional control characters are not; blank counts as absent."""
    return Annotated[
        Annotated[StrictStr, Field(
            max_length=max_length,
            json_schema_extra={"pattern": text_fields.OPTIONAL_MULTI_LINE_PATTERN})] | None,
        AfterValidator(_optional_multi_line),
    ]


# When an order may have been placed: imported history reaches back to 2000 (anything earlier
# is a typo or a default such as year 1 or the Unix epoch); the newest is the server's clock
# plus the skew a storefront's clock may have. A date far ahead would head the list for ever.
EARLIEST_ORDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=15)
ORDER_TIME_RANGE = (f"from {EARLIEST_ORDER_TIME:%Y-%m-%dT%H:%M:%SZ} to "
                    f"{CLOCK_SKEW.seconds // 60} minutes after the server's clock")


def _plausible_order_time(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if moment < EARLIEST_ORDER_TIME:
        raise ValueError(f"must be {ORDER_TIME_RANGE}; "
                         f"{value.isoformat()} is before {EARLIEST_ORDER_TIME.year}")
    now = datetime.now(UTC)
    if moment > now + CLOCK_SKEW:
        raise ValueError(f"must be {ORDER_TIME_RANGE}; {value.isoformat()} is in the future "
                         f"(the server's clock says {now:%Y-%m-%dT%H:%M:%SZ})")
    return value


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(StrictModel):
    """A postal address, as on the Edit Address for Order page."""

    salutation: Literal["Mr", "Mrs", "Dr", "Ms", "n/a"] | None = None
    first_name: Text(100)
    middle_name: OptionalText(100) = None
    last_name: Text(100)
    email: Email | None = None
    country: Annotated[
        StrictStr, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. DE")
    ]
    address1: Text(255)
    address2: OptionalText(255) = None
    address3: OptionalText(255) = None
    company: OptionalText(100) = None
    city: Text(100)
    zip_code: Text(15)
    po_box: OptionalText(30) = None
    phone: OptionalText(40) = None
    cell_phone: OptionalText(40) = None
    description: OptionalText(255) = None
    comment: OptionalNote(5000) = None


class CustomerIn(StrictModel):
    """Who ordered. Linked by customer_reference, else by email, else created."""

    customer_reference: OptionalText(64) = None
    email: Email
    salutation: Literal["Mr", "Mrs", "Dr", "Ms", "n/a"] | None = None
    first_name: Text(100)
    last_name: Text(100)
    phone: OptionalText(40) = None
    is_guest: bool = Field(False, description="A guest order links no customer record.")


class ItemIn(StrictModel):
    sku: Text(64)
    name: Text(255)
    quantity: Integer(1, MAX_UNITS_PER_ORDER)
    unit_price: Annotated[Money, Field(description="Gross price of one unit, tax included.")]
    tax_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2),
                        WithJsonSchema(TAX_RATE_SCHEMA)]
    discount: Annotated[Money, Field(description="Discount on one unit.")] = 0

    @model_validator(mode="after")
    def _discount_within_price(self):
        if self.discount > self.unit_price:
            raise ValueError("discount must not exceed unit_price")
        return self


class ShipmentIn(StrictModel):
    method: Text(100)
    carrier: Text(100)
    price: Money
    requested_delivery_date: date | None = None
    address: AddressIn
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=200)]


class PaymentIn(StrictModel):
    method: Text(64)
    amount: Annotated[Money, Field(description="Must equal the order's grand total.")]


class OrderIn(StrictModel):
    """An order as the storefront sends it."""

    order_reference: Annotated[
        StrictStr | None,
        Field(
            max_length=45,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
            description="Optional; when absent one is generated from the store, e.g. DE--1.",
        ),
    ] = None
    store: Annotated[StrictStr, Field(pattern=r"^[A-Z][A-Z0-9_]{1,15}$", examples=["DE"])]
    currency: Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
    locale: Annotated[StrictStr, Field(pattern=r"^[a-z]{2}(_[A-Z]{2})?$", examples=["de_DE"])]
    created_at: Annotated[
        datetime | None,
        Field(description="When the customer ordered, in ISO 8601 (UTC when it has no offset); "
                          f"accepted {ORDER_TIME_RANGE}. Absent: the time of receipt."),
        AfterValidator(_plausible_order_time),
    ] = None
    customer: CustomerIn
    billing_address: AddressIn
    shipments: Annotated[list[ShipmentIn], Field(min_length=1, max_length=20)]
    payment: PaymentIn
    cart_note: OptionalNote(10000) = None

    @model_validator(mode="after")
    def _units_and_payment(self):
        units = sum(item.quantity for s in self.shipments for item in s.items)
        if units > MAX_UNITS_PER_ORDER:
            raise ValueError(f"an order may hold at most {MAX_UNITS_PER_ORDER} units, not {units}")
        totals = order_totals(self)
        too_large = [name for name, value in totals.items() if value > MAX_AMOUNT]
        if too_large:
            raise ValueError(f"the order's {too_large[0].replace('_', ' ')} is larger than "
                             f"{MAX_AMOUNT:,} minor units, the most an order can hold")
        grand_total = totals["grand_total"]
        if self.payment.amount != grand_total:
            raise PaymentMismatch(self.payment.amount, grand_total)
        return self


class PaymentMismatch(ValueError):
    def __init__(self, amount: int, grand_total: int):
        super().__init__(f"is {amount} but the order's grand total is {grand_total}")


def unit_tax(price_to_pay: int, tax_rate: Decimal) -> int:
    """Tax contained in a gross amount, rounded half up to the minor unit."""
    if not tax_rate:
        return 0
    exact = Decimal(price_to_pay) * tax_rate / (Decimal(100) + tax_rate)
    return int(exact.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def order_totals(order: OrderIn) -> dict[str, int]:
    """Subtotal, expenses, discount, tax and grand total of an incoming order."""
    subtotal = discount = tax = 0
    for shipment in order.shipments:
        for item in shipment.items:
            subtotal += item.unit_price * item.quantity
            discount += item.discount * item.quantity
            tax += unit_tax(item.unit_price - item.discount, item.tax_rate) * item.quantity
    expense = sum(s.price for s in order.shipments)
    return {
        "subtotal": subtotal,
        "expense_total": expense,
        "discount_total": discount,
        "tax_total": tax,
        "grand_total": subtotal - discount + expense,
    }


FORMAT_HINTS = {
    "country": "a two-letter country code such as DE",
    "store": "capital letters, digits or _, such as DE",
    "currency": "a three-letter currency code such as EUR",
    "locale": "a locale such as de_DE",
    "order_reference": "letters, digits, '.', '_' or '-', such as DE--1",
}


def describe(err: dict) -> str:
    """Say what is wrong with one value, in words a person can act on."""
    kind, ctx = err["type"], err.get("ctx") or {}
    field = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
    if kind == "missing":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters long"
    if kind == "string_pattern_mismatch":
        return "must be " + FORMAT_HINTS.get(field, f"in the format {ctx['pattern']}")
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    if kind == "extra_forbidden":
        return "is not a known field"
    return err["msg"].removeprefix("Value error, ")


def error_list(exc: ValidationError) -> list[dict[str, str]]:
    """Turn a pydantic error into [{"path": "shipments[0].items[1].sku", "message": ...}]."""
    result = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        if isinstance((err.get("ctx") or {}).get("error"), PaymentMismatch):
            loc = ["payment", "amount"]
        result.append({"path": format_path(loc), "message": describe(err)})
    return result


_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_path(loc: list) -> str:
    """``["shipments", 0, "sku"]`` -> ``shipments[0].sku``; a key that is not a plain name
    (an unknown field such as ``""`` or ``"a.b"``) is quoted: ``billing_address[""]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith("function-"):
            continue
        elif _PLAIN_NAME.match(str(part)):
            path += ("." if path else "") + str(part)
        else:
            path += "[" + json.dumps(str(part), ensure_ascii=False) + "]"
    return path or "(body)"


def nul_character_errors(raw) -> list[dict]:
    """Every string (or key) in the raw JSON holding a NUL character, which no database
    column can store, as error entries like validation's. (Walked with a stack, not by
    recursion: the JSON may be as deep as the parser allowed.)"""
    errors: list[dict] = []
    stack: list[tuple[list, object]] = [([], raw)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                errors.append({"path": format_path(loc), "message": "contains a NUL character "
                               "(U+0000), which cannot be stored"})
        elif isinstance(value, dict):
            for key, child in value.items():
                if "\x00" in str(key):
                    errors.append({"path": format_path(loc),
                                   "message": "has a key with a NUL character (U+0000)"})
                    continue  # an unknown field anyway; its contents do not matter
                stack.append(([*loc, str(key)], child))
        elif isinstance(value, list):
            stack.extend(([*loc, index], child) for index, child in enumerate(value))
    return sorted(errors, key=lambda error: error["path"])
