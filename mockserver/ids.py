"""Fresh identifiers shaped like the ones the platform hands out (`sApKpllz4sAplsmzha`).

They come from `random`, not `secrets`: a mock's ids guard nothing, and os.urandom measured 5% of
a worker's time under load here. CPython reseeds `random` in every forked worker, so workers never
repeat each other's ids."""

from __future__ import annotations

import random
import re
import string
import uuid
from typing import Any

_ALPHANUMERIC = string.ascii_letters + string.digits
# Each random byte names a letter or digit: one bytes.translate instead of a Python loop per character
# (random.choices took 5 us of the docs' POST). 256 is not a multiple of 62, so 8 of them are a little
# likelier than the rest, which an id a mock makes up can afford.
_BYTE_TO_ALPHANUMERIC = bytes(ord(_ALPHANUMERIC[byte % len(_ALPHANUMERIC)]) for byte in range(256))
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def random_id(length: int = 18) -> str:
    """Letters and digits."""
    return random.randbytes(max(1, min(int(length), 256))).translate(_BYTE_TO_ALPHANUMERIC).decode("ascii")


def random_uuid() -> str:
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def random_hex() -> str:
    """32 hex digits, like uuid4().hex."""
    return f"{random.getrandbits(128):032x}"


def new_id(like: Any) -> Any:
    """A fresh identifier in the example's shape: a UUID for a UUID, a positive number for a number
    (of no more digits, so it stays within the example's format), else random letters and digits."""
    if isinstance(like, int) and not isinstance(like, bool):
        return random.randint(1, max(9, 10 ** len(str(abs(like))) - 1))
    if isinstance(like, str) and _UUID.match(like):
        return random_uuid()
    return random_id(len(like) if isinstance(like, str) and like else 18)
