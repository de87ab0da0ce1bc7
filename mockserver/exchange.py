"""The state one request carries through the pipeline, and the reply a step may produce."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request

from .config import MockConfig
from .ids import random_hex
from .rules import MISSING, RequestView
from .scenarios import Scenario
from .spec import Canned, MediaSpec, Operation, is_json
from .store import Control

if TYPE_CHECKING:
    from .state import MockState


@dataclass
class Reply:
    """What to send: a body to serialize, or `payload` bytes serialized in advance, or a fault."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes | None = None
    fault: str | None = None
    hold_seconds: float = 0.0
    from_upstream: bool = False  # the real API's answer: sent as it came, correlation ids untouched
    repeated_headers: list[tuple[str, str]] = field(default_factory=list)  # a name's 2nd... (Set-Cookie)

    @classmethod
    def from_canned(cls, canned: Canned) -> Reply:
        return cls(canned.status, canned.body, dict(canned.headers), canned.payload)


@dataclass
class Exchange:
    """One request on its way through the steps; each step reads and fills in what it owns."""

    request: Request
    state: MockState
    config: MockConfig = field(init=False)
    operation: Operation | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    scenario: Scenario | None = None
    control: Control | None = None  # runtime choices, read from the store once per request
    body: Any = None
    media: MediaSpec | None = None  # the documented media type the body was read as
    decided_by: str = ""  # which step or rule chose the response, for the journal
    extra_headers: dict[str, str] = field(default_factory=dict)  # added to whatever reply is sent
    delay_seconds: float = 0.0
    # In front of an upstream (serve --upstream): what breaks the contract, both ways (None: not proxied),
    # and the refusal the mock withheld to forward the request anyway.
    violations: list[Any] | None = None
    withheld: Reply | None = None
    started: float = field(default_factory=time.perf_counter)
    _correlation_id: str | None = None
    _view: RequestView | None = None
    _raw_body: bytes | None = None
    _over_limit: bool = False

    def __post_init__(self) -> None:
        self.config = self.state.config  # one consistent config per request, even across a reload

    @property
    def correlation_id(self) -> str:
        """Made on first use: only error replies need one."""
        if self._correlation_id is None:
            self._correlation_id = random_hex()
        return self._correlation_id

    def header(self, name: str) -> str:
        return self.request.headers.get(name, "").strip()

    def raw_body(self) -> bytes:
        """The body, read once and never past the size limit (so at most limit + 1 bytes).

        Raises OSError (or werkzeug's ClientDisconnected) when the client stops sending."""
        if self._raw_body is None:
            declared = self.request.content_length
            if declared is not None and declared > self.config.max_body_size:
                self._raw_body = b""  # not read: the declared size alone is over the limit
                self._over_limit = True
            else:  # read() allocates what it is asked for: the declared length, not the 1 MiB limit
                wanted = self.config.max_body_size + 1 if declared is None else declared
                self._raw_body = self.request.stream.read(wanted)
                self._over_limit = len(self._raw_body) > self.config.max_body_size
        return self._raw_body

    @property
    def body_was_read(self) -> bool:
        return self._raw_body is not None

    @property
    def body_over_limit(self) -> bool:
        self.raw_body()
        return self._over_limit

    def view(self) -> RequestView:
        """The request as rules see it; the body is parsed leniently, once, only when a rule asks."""
        if self._view is None:
            body: Any = MISSING if self.body is None else self.body  # validation already parsed it
            if body is MISSING and is_json(self.request.mimetype):
                try:
                    raw = self.raw_body()
                    if not self._over_limit:
                        body = orjson.loads(raw)
                except (orjson.JSONDecodeError, OSError, ClientDisconnected):
                    body = MISSING
            self._view = RequestView(
                headers={k.lower(): v for k, v in self.request.headers.items()},
                query=dict(self.request.args.items()),
                body=body,
            )
        return self._view
