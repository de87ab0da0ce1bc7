"""The request object of the fast lane (mockserver/app.py's FastLane): werkzeug's, with header look-ups
that cost a dict look-up. werkzeug's EnvironHeaders turns every name into its environ key again on
every look-up (upper-casing, replacing, a set test, an f-string): the pipeline asks about ten headers a
request, which cost about 5 us of the docs' POST."""

from __future__ import annotations

import functools
from typing import Any

from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.wrappers import Request


@functools.lru_cache(maxsize=512)  # the few names the mock asks about, and the spec's own
def environ_key(name: str) -> str:
    """`Brand-URL` -> `HTTP_BRAND_URL`, as werkzeug's EnvironHeaders names it."""
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"


class QuickHeaders(EnvironHeaders):
    def _get_key(self, key: str) -> str:
        if not isinstance(key, str):
            raise BadRequestKeyError(key)
        return self.environ[environ_key(key)]

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]  # werkzeug's overloads, one body
        if type is None and isinstance(key, str):
            return self.environ.get(environ_key(key), default)
        return super().get(key, default, type)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and environ_key(key) in self.environ


class QuickRequest(Request):
    def __init__(self, environ: dict[str, Any]) -> None:
        super().__init__(environ, populate_request=False)  # no cycle: freed when answered, not by the gc
        self.headers = QuickHeaders(environ)
