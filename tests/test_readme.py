"""The README is executed: every console example runs in order against a real mock, and prints what
the README shows (ports, ids, times and durations normalised; see tests/readme_examples.py)."""

from __future__ import annotations

import pytest

from .conftest import ROOT
from .readme_examples import examples, matches, normalised, run_all

README = (ROOT / "README.md").read_text()


def test_readme_has_console_examples_for_every_command() -> None:
    commands = " ".join(example.command for example in examples(README))
    for needed in ("curl", "mockserver check", "mockserver diff", "mockserver contract", "/__mock/"):
        assert needed in commands


def test_matching_normalises_what_varies_and_nothing_else() -> None:
    assert matches('{"id":"3WNEG4UJRoFutYmlJ7",\n "at": "…"}', '{"id":"aaaaaaaaaaaaaaaaaa", "at": "x y z"}')
    assert matches("X-Correlation-Id: 93371b108d7942f8a3193e2e855a2540", "X-Correlation-Id: " + "0" * 32)
    assert not matches("201\n201\n429", "201\n201\n201")
    assert not matches("7 breaking, 0 warnings", "9 breaking, 0 warnings")
    assert normalised("Contract summary: 12 test cases in 1.5 s (8 cases/s)") == (
        "Contract summary: <n> test cases in <t> s (<r> cases/s)"
    )


@pytest.mark.e2e
def test_every_console_example_prints_what_the_readme_shows() -> None:
    differences = [
        f"README.md:{example.line}: $ {example.command}\n--- the README shows:\n{example.expected}\n"
        f"--- it prints:\n{actual}"
        for example, actual in run_all(README)
        if not matches(example.expected, actual)
    ]
    assert not differences, "\n\n".join(differences)
