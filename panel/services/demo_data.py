"""People and places for demo orders, from Faker, per store locale.

Faker makes one value in tens of microseconds, too slow to call for each of a million
orders. Instead, for each store's locale (German, Austrian, American, British) and seed, it
fills pools once: first names by gender, last names, streets, towns, postcodes, phone
numbers and companies. Orders draw from them with Zipf-like weights (the value of rank r
weighs 1 / r^s), so a few names are common and most are rare, as in a real customer base;
where Faker knows how common a value is (American first names), the sample's frequencies
set the ranks, elsewhere a shuffle by the seed does.

A customer is a pure function of the seed and the customer's number (``Person``), so the
seeding of a million orders keeps only the list of who placed which order, not the people;
a repeat customer is drawn in proportion to the orders they placed so far (the rich get
richer), which gives a few customers with hundreds of orders and many with one. Same seed,
same data (for one Faker version: Faker says its output may change between releases, so the
dependency is pinned to a major version).
"""
from __future__ import annotations

import bisect
import itertools
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

# store: (currency, locale, country, weight of new customers)
STORES = {
    "DE": ("EUR", "de_DE", "DE", 45),
    "AT": ("EUR", "de_AT", "AT", 15),
    "US": ("USD", "en_US", "US", 25),
    "GB": ("GBP", "en_GB", "GB", 15),
}
# How many values Faker is asked for, per pool and locale (duplicates included: their count
# ranks the value where Faker weighs its choices).
POOL_DRAWS = {"first_female": 1500, "first_male": 1500, "last": 2500, "street": 1500,
              "city": 800, "postcode": 1500, "phone": 400, "company": 400}
# Zipf exponents: how steeply the pool's weights fall from the most common value.
EXPONENTS = {"first_female": 0.6, "first_male": 0.6, "last": 0.6, "street": 0.4,
             "city": 0.9, "postcode": 0.3, "phone": 0.0, "company": 0.5}
# Reserved for examples (RFC 2606): the demo never mails anyone real.
EMAIL_DOMAINS = (("example.com", 50), ("example.net", 30), ("example.org", 20))
COMPANY_SHARE = 0.07  # customers who order for their company
SECOND_ADDRESS_SHARE = 0.25  # customers with a second address (the office, a relative)


class MissingFaker(RuntimeError):
    """Faker is not installed (the ``demo`` extra)."""


class Pool:
    """Values drawn with weights 1 / rank^exponent, the first value the most often."""

    def __init__(self, values, exponent: float):
        self.values = tuple(values)
        if not self.values:
            raise ValueError("a pool needs at least one value")
        self._cumulative = list(itertools.accumulate(
            1 / rank ** exponent for rank in range(1, len(self.values) + 1)))
        self._total = self._cumulative[-1]

    def __len__(self) -> int:
        return len(self.values)

    def draw(self, rng: random.Random):
        return self.values[bisect.bisect_right(self._cumulative, rng.random() * self._total)]


def ranked(samples, rng: random.Random) -> list:
    """The distinct samples, the most frequent first; ties in an order shuffled by ``rng``."""
    counts = Counter(samples)
    values = list(counts)
    rng.shuffle(values)
    return sorted(values, key=lambda value: -counts[value])  # sort is stable


@dataclass(frozen=True)
class LocalePools:
    store: str
    currency: str
    locale: str
    country: str
    first_female: Pool
    first_male: Pool
    last: Pool
    street: Pool
    city: Pool
    postcode: Pool
    phone: Pool
    company: Pool


def _faker_samples(fake, name: str, count: int) -> list[str]:
    make = {
        "first_female": fake.first_name_female, "first_male": fake.first_name_male,
        "last": fake.last_name, "street": fake.street_name, "city": fake.city,
        "postcode": fake.postcode, "company": fake.company,
        "phone": fake.phone_number,
    }[name]
    values = [" ".join(make().split()) for _ in range(count)]
    if name == "phone":  # extensions ("x123") are Faker's, not what customers type
        values = [v for v in values if "x" not in v and sum(c.isdigit() for c in v) >= 8]
    return values


@lru_cache(maxsize=4)
def pools(seed: int) -> dict[str, LocalePools]:
    """Every store's pools for ``seed`` (built once per process and seed: about a second)."""
    try:
        from faker import Faker
    except ImportError:
        raise MissingFaker("Demo data needs Faker, which comes with the demo extra: "
                           "pip install -e '.[demo]' (make demo installs it).") from None

    result = {}
    for store, (currency, locale, country, _) in STORES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        order = random.Random(f"{seed}:{locale}")
        made = {name: Pool(ranked([v for v in _faker_samples(fake, name, count)
                                   if _acceptable(name, v)], order), EXPONENTS[name])
                for name, count in POOL_DRAWS.items()}
        result[store] = LocalePools(store, currency, locale, country, **made)
    return result


# The intake's own check of each pool's values, with room for what is added to them (a house
# number after a street): demo orders are made from these without checking each field again.
_LIMITS = {"first_female": 100, "first_male": 100, "last": 100, "street": 230, "city": 100,
           "postcode": 15, "phone": 40, "company": 100}


@cache
def _check(limit: int):
    from pydantic import TypeAdapter

    from panel.services.intake_schema import Text

    return TypeAdapter(Text(limit)).validate_python


def _acceptable(pool: str, value: str) -> bool:
    from pydantic import ValidationError

    try:
        return _check(_LIMITS[pool])(value) == value
    except ValidationError:
        return False


_STORE_CHOICES = tuple(STORES)
_STORE_WEIGHTS = list(itertools.accumulate(w for *_, w in STORES.values()))
_DOMAIN_POOL = Pool([d for d, _ in EMAIL_DOMAINS], 0.0)
_DOMAIN_WEIGHTS = list(itertools.accumulate(w for _, w in EMAIL_DOMAINS))
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d"})


def ascii_name(text: str) -> str:
    """A name as it goes into an email address: lower case ASCII letters and hyphens."""
    text = text.lower().translate(_FOLD)
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z-]+", "", text.replace(" ", "-")).strip("-")


def _email_local(rng: random.Random, first: str, last: str) -> str:
    f, la = ascii_name(first)[:20] or "customer", ascii_name(last)[:24] or "shopper"
    pattern = rng.random()
    if pattern < 0.35:
        return f"{f}.{la}"
    if pattern < 0.5:
        return f"{f[0]}.{la}"
    if pattern < 0.65:
        return f"{f}{la}"
    if pattern < 0.75:
        return f"{la}.{f}"
    if pattern < 0.85:
        return f"{f}_{la}"
    return f
    # (a number follows in every case, so no two customers share an address)


def _phone(rng: random.Random, template: str) -> str:
    """Faker's number for the locale with its last four digits drawn anew."""
    chars = list(template)
    replaced = 0
    for index in range(len(chars) - 1, -1, -1):
        if chars[index].isdigit():
            chars[index] = str(rng.randrange(10))
            replaced += 1
            if replaced == 4:
                break
    return "".join(chars)


def _house_number(rng: random.Random, country: str) -> str:
    low = 1 + int(rng.expovariate(1 / 24))  # small numbers the most, some in the hundreds
    if country in ("DE", "AT"):
        number = str(min(low, 240))
        if rng.random() < 0.06:
            number += rng.choice("abc")
        if country == "AT" and rng.random() < 0.35:  # staircase or door: Hauptstraße 12/4
            number += f"/{rng.randint(1, 24)}"
        return number
    if country == "US":
        return str(rng.randint(1, 99) * rng.choice((1, 10, 100)) + rng.randint(0, 9))
    return str(min(low, 320))


def _address(rng: random.Random, pools: LocalePools) -> dict:
    """Street, town and postcode in the locale's way of writing them."""
    country = pools.country
    street, number = pools.street.draw(rng), _house_number(rng, country)
    address = {
        "country": country,
        "address1": f"{street} {number}" if country in ("DE", "AT") else f"{number} {street}",
        "city": pools.city.draw(rng),
        "zip_code": pools.postcode.draw(rng),
    }
    extra = rng.random()
    if country == "US" and extra < 0.15:
        address["address2"] = f"{rng.choice(('Apt.', 'Suite', 'Unit'))} {rng.randint(1, 999)}"
    elif country == "GB" and extra < 0.15:
        address["address2"] = f"Flat {rng.randint(1, 60)}"
    elif country == "DE" and extra < 0.04:
        address["address2"] = f"{rng.randint(1, 5)}. OG"
    return address


@dataclass(frozen=True)
class Person:
    """A customer (or a guest): name, contact and up to two addresses, in one store."""

    number: int
    store: str
    gender: str  # "f" or "m"
    salutation: str | None
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str | None
    home: dict
    other: dict | None  # a second address: the office, a relative

    def address(self, which: dict) -> dict:
        """An address with this person's name on it (a copy)."""
        named = {"salutation": self.salutation, "first_name": self.first_name,
                 "last_name": self.last_name, **which}
        if self.company and which is self.home:
            named["company"] = self.company
        named.setdefault("phone", self.phone)
        return named


def make_person(seed: int, number: int, store: str | None = None) -> Person:
    """Customer ``number`` of ``seed``'s demo data: the same for the same two numbers."""
    rng = random.Random(abs(seed) * 2**40 + number)
    if store is None:
        store = _STORE_CHOICES[bisect.bisect_right(_STORE_WEIGHTS,
                                                   rng.random() * _STORE_WEIGHTS[-1])]
    p = pools(seed)[store]
    gender = "f" if rng.random() < 0.52 else "m"
    first = (p.first_female if gender == "f" else p.first_male).draw(rng)
    last = p.last.draw(rng)
    title = rng.random()
    if title < 0.04:
        salutation = "Dr"
    elif title < 0.08:
        salutation = None
    elif gender == "m":
        salutation = "Mr"
    else:
        salutation = "Mrs" if title < 0.35 else "Ms"
    domain = _DOMAIN_POOL.values[bisect.bisect_right(_DOMAIN_WEIGHTS,
                                                     rng.random() * _DOMAIN_WEIGHTS[-1])]
    email = f"{_email_local(rng, first, last)}{abs(seed) + number}@{domain}"
    company = p.company.draw(rng) if rng.random() < COMPANY_SHARE else None
    home = _address(rng, p)
    other = _address(rng, p) if rng.random() < SECOND_ADDRESS_SHARE else None
    return Person(number, store, gender, salutation, first, last, email,
                  _phone(rng, p.phone.draw(rng)), company, home, other)
