"""The request object of the fast lane (mockserver/app.py's FastLane): werkzeug's, with the parts every
request asks for made cheap, each answering as werkzeug's own does:

- header look-ups cost a dict look-up. werkzeug's EnvironHeaders turns every name into its environ key
  again on every look-up (upper-casing, replacing, a set test, an f-string), and the pipeline asks
  about ten headers a request: about 5 us of the docs' POST;
- an empty query string is an empty `args` (werkzeug parses it: about 3 us), a plain Content-Length
  is read without a regular expression, a Content-Type is parsed once per distinct value;
- under mockserver's own server, which reads a body whole before the app runs and never past the size
  limit, `stream` is that body itself, not a LimitedStream around it."""

from __future__ import annotations

import functools
from typing import Any

from werkzeug._internal import _wsgi_decoding_dance
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.http import parse_options_header
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request
from werkzeug.wsgi import _get_server

from .server import DIRECTIONS


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


@functools.lru_cache(maxsize=256)  # Content-Type values are the client's to choose: bounded
def _content_type(value: str) -> tuple[str, dict[str, str]]:
    return parse_options_header(value)


class QuickRequest(Request):
    def __init__(self, environ: dict[str, Any]) -> None:
        """What werkzeug's Request.__init__ sets (with populate_request=False: no cycle, so freed when
        answered, not by the gc), set here at once: it builds a header view this class replaces, and
        its chain of calls cost 2 us a request."""
        self.environ, self.shallow = environ, False
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.scheme = environ.get("wsgi.url_scheme", "http")
        self.server = _get_server(environ)
        self.root_path = _wsgi_decoding_dance(environ.get("SCRIPT_NAME") or "").rstrip("/")
        self.path = "/" + _wsgi_decoding_dance(environ.get("PATH_INFO") or "").lstrip("/")
        self.query_string = environ.get("QUERY_STRING", "").encode("latin1")
        self.headers = QuickHeaders(environ)
        self.remote_addr = environ.get("REMOTE_ADDR")

    @cached_property
    def args(self) -> Any:
        return self.parameter_storage_class() if not self.query_string else super().args

    @cached_property
    def content_length(self) -> int | None:
        declared = self.environ.get("CONTENT_LENGTH")
        if declared and declared.isdigit() and declared.isascii() and "HTTP_TRANSFER_ENCODING" not in self.environ:
            return int(declared)
        return super().content_length

    @cached_property
    def stream(self) -> Any:
        if DIRECTIONS in self.environ:  # mockserver's server: the body as read, whole and within the limit
            return self.environ["wsgi.input"]
        return super().stream

    def _parse_content_type(self) -> None:
        if not hasattr(self, "_parsed_content_type"):
            mimetype, params = _content_type(self.environ.get("CONTENT_TYPE", ""))
            self._parsed_content_type = (mimetype, dict(params))  # a copy: the cached one stays as parsed
