"""Everything the mock serves from, loaded and checked as one unit before it serves anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, ConfigProblem
from .mocker.bodies import Mocker
from .router import Router
from .scenarios import DEFAULT_SCENARIO, Scenario, load_scenarios
from .spec import Spec, load_spec

DEFAULT_MAX_BODY_SIZE = 1024 * 1024


@dataclass(frozen=True)
class MockConfig:
    spec: Spec
    scenarios: dict[str, Scenario]
    default_scenario: Scenario
    router: Router
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    seed: int = 0  # serve --seed: generated bodies are the same for the same seed
    mocker: Mocker = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mocker", Mocker(self.spec, self.seed))

    def scenario_names(self) -> str:
        return ", ".join(sorted(self.scenarios))


def load_config(
    spec_path: Path | str = "openapi.yaml",
    scenarios_dir: Path | str = "scenarios",
    scenario: str | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    remember_valid: bool = False,
    strict: bool = False,
    seed: int = 0,
) -> MockConfig:
    """Load the spec and every scenario; raises ConfigError listing every problem found (with
    `strict`, the spec's warnings too)."""
    spec = load_spec(Path(spec_path), remember_valid, strict)
    scenarios = load_scenarios(Path(scenarios_dir), spec)
    name = scenario or DEFAULT_SCENARIO
    if name not in scenarios:
        known = ", ".join(sorted(scenarios))
        raise ConfigError([ConfigProblem(Path(scenarios_dir), f"no scenario {name!r} (available: {known})")])
    if max_body_size < 1:
        raise ConfigError([ConfigProblem(Path(spec_path), "the body size limit must be at least 1 byte")])
    return MockConfig(spec, scenarios, scenarios[name], Router(spec.operations), max_body_size, seed)
