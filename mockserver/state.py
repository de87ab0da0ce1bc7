"""What a running mock holds, and how secrets are kept out of everything it remembers."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from .config import MockConfig
from .errors import ConfigError
from .forwarder import Forwarder
from .jsondoc import DESCEND, Key, transform
from .rules import Rule
from .scenarios import compile_expectation
from .store import Control, Store
from .store.memory import MemoryStore

SECRET_HEADERS = frozenset({"auth-key", "authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"})
SECRET_WORDS = ("password", "secret", "token", "apikey", "api-key", "auth")
REDACTED = "***"


@functools.lru_cache(maxsize=4096)  # the same few names, on every request
def is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered.replace("_", "-") for word in SECRET_WORDS)


_SHALLOW = 64  # levels the quick recursive copy handles; deeper trees take the iterative walk


class _TooDeepError(Exception):
    pass


def redact(value: Any) -> Any:
    """A copy of a JSON value with every secret-looking property masked, at any depth. Nearly every
    body is shallow, and a plain recursive copy of it is twice as quick as the explicit-stack walk
    (journal entries mask two bodies per request); deeper ones go through the walk."""
    try:
        return _redacted(value, 0)
    except _TooDeepError:
        return transform(value, _masked)


_secret_names: dict[str, bool] = {}  # is_secret by property name: a dict lookup, not a call per key
_MAX_SECRET_NAMES = 4096  # names are the client's to choose: the cache stops growing here


_plans: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # an object's keys -> those of them that are secret
_MAX_PLANS, _PLANNED_KEYS = 1024, 64  # objects of at most that many keys are planned; the cache stops growing
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _redacted(value: Any, level: int) -> Any:
    """The quick copy: an object is copied whole in C and only its secret keys (known from its key
    set, the same on nearly every request) and its nested containers are visited in Python: a third of
    the cost of visiting every key."""
    kind = type(value)
    if kind is not dict and kind is not list:
        if not isinstance(value, dict | list):
            return value
        value = dict(value) if isinstance(value, dict) else list(value)  # a subclass: copied as the plain kind
    if level > _SHALLOW:
        raise _TooDeepError
    if type(value) is list:
        return [v if type(v) in _SCALARS else _redacted(v, level + 1) for v in value]
    copy = dict(value)
    for key in _secret_keys(copy):
        if copy[key] is not None:
            copy[key] = REDACTED
    for key, v in copy.items():
        if type(v) not in _SCALARS:
            copy[key] = _redacted(v, level + 1)
    return copy


def _secret_keys(value: dict[Any, Any]) -> tuple[Any, ...]:
    keys = tuple(value)
    plan = _plans.get(keys) if len(keys) <= _PLANNED_KEYS else None
    if plan is None:
        plan = tuple(k for k in keys if _secret_names.get(k) or (k not in _secret_names and _secret_name(k)))
        if len(keys) <= _PLANNED_KEYS and len(_plans) < _MAX_PLANS:
            _plans[keys] = plan
    return plan


def _secret_name(key: Any) -> bool:
    found = is_secret(str(key))
    if len(_secret_names) < _MAX_SECRET_NAMES:
        _secret_names[key] = found
    return found


def _masked(key: Key, node: Any) -> Any:
    return REDACTED if key is not None and node is not None and is_secret(str(key)) else DESCEND


class MockState:
    """Everything a running mock holds: the config (swapped whole on reload, never edited in
    place) and the store. The pipeline reads `config` once per request."""

    def __init__(
        self,
        config: MockConfig,
        journal_size: int = 1000,
        store: Store | None = None,
        forwarder: Forwarder | None = None,
    ) -> None:
        self.config = config
        self.store: Store = store or MemoryStore(journal_size=journal_size)
        self.forwarder = forwarder  # serve --upstream: the real API behind the mock
        self.reload_problems: list[str] = []
        self._compiled: tuple[tuple[dict[str, Any], ...], MockConfig | None, list[Rule]] = ((), None, [])

    def swap(self, config: MockConfig) -> None:
        self.config = config
        self.reload_problems = []

    def control(self) -> Control:
        return self.store.control()

    def choose(self, scenario: str | None, brand: str | None = None, key: str | None = None) -> None:
        """Make `scenario` active for one Auth-Key, one Brand-URL, or everyone; None undoes the choice.
        An Auth-Key is kept as the store's fingerprint of it, never in clear text."""
        kept = self.store.fingerprint(key) if key else None
        self.store.change_control(lambda control: control.choose(scenario, brand, kept))

    def expect(self, source: dict[str, Any]) -> None:
        """Add a runtime rule, given as its JSON source (check it with compile_expectation first)."""
        self.store.change_control(lambda control: replace(control, expectations=(*control.expectations, source)))

    def clear_expectations(self) -> None:
        self.store.change_control(lambda control: replace(control, expectations=()))

    def expectations(self, control: Control | None = None) -> list[Rule]:
        """The runtime rules, compiled again only when they (or the config) change. One that no longer
        fits a reloaded spec is left out and reported with the reload's problems, never raised on a request."""
        sources = (control or self.control()).expectations
        compiled_sources, compiled_config, rules = self._compiled
        if sources != compiled_sources or compiled_config is not self.config:
            rules = []
            for source in sources:
                try:
                    rules.append(compile_expectation(self.config.spec, source))
                except ConfigError as exc:
                    self.reload_problems = [*self.reload_problems, *(f"expectation: {p}" for p in exc.problems)]
            self._compiled = (sources, self.config, rules)
        return rules

    def reset(self) -> None:
        self.store.reset()

    def forget_everything(self) -> None:
        """reset(), and also the journal, expectations and runtime scenario choices."""
        self.store.reset()
        self.store.clear_journal()
        self.store.change_control(lambda control: Control())
