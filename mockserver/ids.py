"""Fresh identifiers shaped like the ones the platform hands out (`sApKpllz4sAplsmzha`)."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from typing import Any

_ALPHANUMERIC = string.ascii_letters + string.digits
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def random_id(length: int = 18) -> str:
    """Letters and digits; one call for all the randomness (the slight bias of `% 62` is harmless here)."""
    return "".join(_ALPHANUMERIC[byte % 62] for byte in secrets.token_bytes(max(1, min(int(length), 256))))


def new_id(like: Any) -> Any:
    """A fresh identifier in the example's shape: a UUID for a UUID, else random letters and digits."""
    if isinstance(like, str) and _UUID.match(like):
        return str(uuid.uuid4())
    return random_id(len(like) if isinstance(like, str) and like else 18)
