"""The state one request carries through the pipeline, and the reply a step may produce."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request

from .config import MockConfig
from .scenarios import Scenario
from .spec import Canned, Operation


@dataclass
class Reply:
    """What to send: a body to serialize, or `payload` bytes serialized in advance."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes | None = None

    @classmethod
    def from_canned(cls, canned: Canned) -> Reply:
        return cls(canned.status, canned.body, dict(canned.headers), canned.payload)


@dataclass
class Exchange:
    """One request on its way through the steps; each step reads and fills in what it owns."""

    request: Request
    config: MockConfig
    operation: Operation | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    scenario: Scenario | None = None
    body: Any = None
    decided_by: str = ""  # which step or rule chose the response, for the journal
    started: float = field(default_factory=time.perf_counter)
    _correlation_id: str | None = None

    @property
    def correlation_id(self) -> str:
        """Made on first use: only error replies need one."""
        if self._correlation_id is None:
            self._correlation_id = uuid.uuid4().hex
        return self._correlation_id
