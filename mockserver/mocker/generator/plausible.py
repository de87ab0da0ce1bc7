"""Values that look like what a field is named for (a `name` a name, an `email` an email) and
strings in every JSON Schema / OpenAPI format.

Names come from Faker (well kept, many locales, seedable), imported on first use so start-up does
not pay for it; each value is drawn after seeding Faker from the caller's random generator, so it is
as deterministic as the caller's seed. Faker is shared and not thread-safe: calls hold a lock.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import random
import re
import threading
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

_lock = threading.Lock()
EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
YEAR_SECONDS = 366 * 24 * 3600


@cache
def _faker() -> Any:
    from faker import Faker

    return Faker("en_US")


def _fake(provider: str, rng: random.Random, **kwargs: Any) -> Any:
    with _lock:
        fake = _faker()
        fake.seed_instance(rng.getrandbits(32))
        return getattr(fake, provider)(**kwargs)


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# Field name (lower case, letters and digits only) -> Faker provider, for strings.
STRING_NAMES: dict[str, str] = {
    "name": "name",
    "fullname": "name",
    "displayname": "name",
    "firstname": "first_name",
    "givenname": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "username": "user_name",
    "login": "user_name",
    "nickname": "user_name",
    "email": "email",
    "emailaddress": "email",
    "phone": "phone_number",
    "phonenumber": "phone_number",
    "mobile": "phone_number",
    "telephone": "phone_number",
    "city": "city",
    "town": "city",
    "country": "country",
    "countrycode": "country_code",
    "state": "state",
    "region": "state",
    "street": "street_address",
    "streetaddress": "street_address",
    "address": "address",
    "address1": "street_address",
    "addressline1": "street_address",
    "zip": "postcode",
    "zipcode": "postcode",
    "postcode": "postcode",
    "postalcode": "postcode",
    "company": "company",
    "companyname": "company",
    "organization": "company",
    "organisation": "company",
    "job": "job",
    "jobtitle": "job",
    "title": "catch_phrase",
    "description": "sentence",
    "summary": "sentence",
    "bio": "sentence",
    "comment": "sentence",
    "message": "sentence",
    "note": "sentence",
    "notes": "sentence",
    "text": "sentence",
    "url": "url",
    "website": "url",
    "homepage": "url",
    "link": "url",
    "avatar": "image_url",
    "avatarurl": "image_url",
    "image": "image_url",
    "imageurl": "image_url",
    "photo": "image_url",
    "photourl": "image_url",
    "picture": "image_url",
    "color": "color_name",
    "colour": "color_name",
    "currency": "currency_code",
    "currencycode": "currency_code",
    "language": "language_code",
    "locale": "locale",
    "timezone": "timezone",
    "domain": "domain_name",
    "hostname": "hostname",
    "ip": "ipv4",
    "ipaddress": "ipv4",
    "slug": "slug",
    "tag": "word",
    "word": "word",
    "category": "word",
    "password": "password",
}
# Suffixes of compound names (`billingCity`, `contactEmail`), checked longest first.
STRING_SUFFIXES = ("email", "phone", "phonenumber", "city", "country", "url", "firstname", "lastname", "street")
NUMBER_NAMES: dict[str, Callable[[random.Random], float]] = {
    "latitude": lambda rng: round(rng.uniform(-90, 90), 6),
    "lat": lambda rng: round(rng.uniform(-90, 90), 6),
    "longitude": lambda rng: round(rng.uniform(-180, 180), 6),
    "lng": lambda rng: round(rng.uniform(-180, 180), 6),
    "lon": lambda rng: round(rng.uniform(-180, 180), 6),
    "age": lambda rng: rng.randint(1, 99),
    "price": lambda rng: round(rng.uniform(1, 500), 2),
    "amount": lambda rng: round(rng.uniform(1, 500), 2),
    "cost": lambda rng: round(rng.uniform(1, 500), 2),
    "total": lambda rng: round(rng.uniform(1, 500), 2),
    "quantity": lambda rng: rng.randint(1, 20),
    "count": lambda rng: rng.randint(0, 50),
    "year": lambda rng: rng.randint(1990, 2030),
}


def named_string(name: str | None, rng: random.Random) -> str | None:
    """A string that looks like the field `name` holds, or None when the name says nothing."""
    if not name:
        return None
    key = _normal(name)
    provider = STRING_NAMES.get(key) or next((STRING_NAMES[s] for s in STRING_SUFFIXES if key.endswith(s)), None)
    if provider is None:
        return None
    value = _fake(provider, rng)
    return value.rstrip(".") if provider in ("sentence", "catch_phrase") and key == "title" else str(value)


def named_number(name: str | None, rng: random.Random) -> float | None:
    make = NUMBER_NAMES.get(_normal(name)) if name else None
    return make(rng) if make else None


def words(rng: random.Random) -> str:
    return str(_fake("word", rng))


def _moment(rng: random.Random) -> datetime.datetime:
    return EPOCH + datetime.timedelta(seconds=rng.randrange(YEAR_SECONDS))


def _email(rng: random.Random) -> str:
    return str(_fake("user_name", rng)) + "@example.com"


FORMATS: dict[str, Callable[[random.Random], str]] = {
    "email": _email,
    "idn-email": _email,
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "date-time": lambda rng: _moment(rng).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "date": lambda rng: _moment(rng).strftime("%Y-%m-%d"),
    "time": lambda rng: _moment(rng).strftime("%H:%M:%SZ"),
    "duration": lambda rng: f"P{rng.randint(1, 30)}DT{rng.randint(0, 23)}H",
    "uri": lambda rng: f"https://example.com/{_fake('slug', rng)}",
    "url": lambda rng: f"https://example.com/{_fake('slug', rng)}",
    "iri": lambda rng: f"https://example.com/{_fake('slug', rng)}",
    "uri-reference": lambda rng: f"/{_fake('slug', rng)}",
    "iri-reference": lambda rng: f"/{_fake('slug', rng)}",
    "uri-template": lambda rng: "https://example.com/items/{id}",
    "hostname": lambda rng: f"{_fake('word', rng)}.example.com",
    "idn-hostname": lambda rng: f"{_fake('word', rng)}.example.com",
    "ipv4": lambda rng: str(ipaddress.IPv4Address(rng.getrandbits(32))),
    "ipv6": lambda rng: str(ipaddress.IPv6Address(rng.getrandbits(128))),
    "byte": lambda rng: base64.b64encode(rng.randbytes(12)).decode(),
    "binary": lambda rng: rng.randbytes(8).hex(),
    "password": lambda rng: str(_fake("password", rng)),
    "json-pointer": lambda rng: f"/{_fake('word', rng)}/0",
    "relative-json-pointer": lambda rng: "0/name",
    "regex": lambda rng: "^[a-z]+$",
    "phone": lambda rng: "+1555" + "".join(rng.choice("0123456789") for _ in range(7)),
}
