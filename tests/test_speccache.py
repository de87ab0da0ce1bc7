"""The load cache (mockserver/speccache.py): a warm start is the cold one, only quicker.

A spec `serve` loaded before is rebuilt from its cache entry only while every file it was read from
is unchanged; an edited file, or an entry that is damaged or not this code's, means a full load.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver import spec as spec_module
from mockserver import speccache
from mockserver.errors import ConfigError
from mockserver.spec import Spec, load_spec

from .conftest import ROOT, LiveServer, start_server

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "mockserver" / "loaded-specs"


@pytest.fixture
def split(tmp_path: Path) -> Path:
    """The split spec, with a response example its schema refuses (a verdict the cache keeps)."""
    shutil.copytree(FIXTURES / "split", tmp_path / "split")
    pet = tmp_path / "split" / "paths" / "pet.yaml"
    pet.write_text(
        pet.read_text().replace(
            "          example: {id: 7, name: Rex, owner: {name: Ann}}",
            "          examples:\n"
            "            rex: {value: {id: 7, name: Rex, owner: {name: Ann}}}\n"
            "            wrong: {value: {id: seven, name: Rex}}",
        )
    )
    return tmp_path / "split" / "openapi.yaml"


@pytest.fixture
def lenient(tmp_path: Path) -> Path:
    """An invalid example, a refused default, references inside extensions: warnings of every kind."""
    spec = tmp_path / "lenient.yaml"
    shutil.copy(FIXTURES / "lenient.yaml", spec)
    return spec


def seen(spec: Spec) -> dict[str, Any]:
    """Everything a load decides that a warm one must decide alike (validators aside: compared by use)."""
    return {
        "warnings": [str(w) for w in spec.warnings],
        "raw": spec.raw,
        "views": spec.views,
        "operations": [
            (
                op.label,
                op.request_example,
                {s: (r.examples, {m: media.examples for m, media in r.media.items()}) for s, r in op.responses.items()},
                sorted(op.ranges),
                [p.name for p in op.parameters],
            )
            for op in spec.operations
        ],
        "shared": {name: r.examples for name, r in spec.shared_responses.items()},
        "included": {key: str(d.path) for key, d in spec.document.included.items()},
    }


def cold_then_warm(spec: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Spec, Spec]:
    cold = load_spec(spec, remember_valid=True)
    assert speccache.recall(spec) is not None, "nothing was remembered"

    def not_again(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a warm load bundled, validated or checked examples again")

    with monkeypatch.context() as patched:
        patched.setattr(spec_module, "bundle", not_again)
        patched.setattr(spec_module, "_structural_problems", not_again)
        patched.setattr(spec_module.Spec, "_bad_examples", not_again)
        patched.setattr(spec_module, "drop_bad_defaults", not_again)
        warm = load_spec(spec, remember_valid=True)
    return cold, warm


@pytest.mark.parametrize("which", ["split", "lenient"])
def test_a_warm_load_decides_what_the_cold_one_did(
    which: str, request: pytest.FixtureRequest, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec: Path = request.getfixturevalue(which)
    cold, warm = cold_then_warm(spec, monkeypatch)
    assert cold.warnings, "the fixture should have warnings to remember"
    assert seen(warm) == seen(cold)
    # Validators compiled on first use give the same verdicts as those compiled at start-up.
    for cold_op, warm_op in zip(cold.operations, warm.operations, strict=True):
        for status, response in cold_op.responses.items():
            for body in ({"id": 1, "name": "n"}, {"id": "x"}, [], {"name": 12, "size": "huge"}):
                assert [v.message for v in warm_op.responses[status].violations(body)] == [
                    v.message for v in response.violations(body)
                ]


def test_a_warm_load_names_the_same_lines_in_every_file(
    split: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Line indexes are not cached: built from the very text hashed, when a problem needs one."""
    cold, warm = cold_then_warm(split, monkeypatch)
    paths = [
        ("paths", "/pets", "get", "responses", "200"),
        ("x-mockserver-files", "paths/pet.yaml", "get", "parameters", 0, "schema", "minimum"),
        ("x-mockserver-files", "schemas/pet.yaml", "$defs", "Owner", "properties", "email"),
        ("x-mockserver-files", "responses.yaml", "Error", "content"),
    ]
    for path in paths:
        problem = warm.document.problem(path, "here")
        assert problem == cold.document.problem(path, "here") and problem.line is not None


def test_an_edited_included_file_is_read_again(split: Path, cache: Path) -> None:
    first = load_spec(split, remember_valid=True)
    assert [w.reason for w in first.warnings if "default" in w.reason]
    owner = split.parent / "schemas" / "pet.yaml"
    owner.write_text(owner.read_text().replace("default: not-an-email", "default: ann@example.com"))
    assert speccache.recall(split) is None
    again = load_spec(split, remember_valid=True)
    assert not [w for w in again.warnings if "default" in w.reason]
    assert again.raw["x-mockserver-files"]["schemas/pet.yaml"]["$defs"]["Owner"]["properties"]["email"] == {
        "type": "string",
        "format": "email",
        "default": "ann@example.com",
    }
    assert speccache.recall(split) is not None  # remembered as it is now

    (split.parent / "responses.yaml").unlink()
    with pytest.raises(ConfigError, match=r"responses\.yaml"):  # a file gone: the cold load says so
        load_spec(split, remember_valid=True)


def test_an_edited_root_file_is_read_again(lenient: Path, cache: Path) -> None:
    load_spec(lenient, remember_valid=True)
    lenient.write_text(lenient.read_text().replace("default: huge", "default: small"))
    assert speccache.recall(lenient) is None
    assert not [w for w in load_spec(lenient, remember_valid=True).warnings if "default" in w.reason]


def _with_checksum(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest() + payload


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda _: b"",
    "cut short": lambda entry: entry[: len(entry) // 2],
    "a byte flipped": lambda entry: entry[:-10] + bytes([entry[-10] ^ 0xFF]) + entry[-9:],
    "garbage": lambda _: b"\x00not marshal at all" * 50,
    "not a mapping": lambda _: _with_checksum(marshal.dumps([1, 2, 3])),
    "another spec's": lambda entry: _with_checksum(marshal.dumps({**marshal.loads(entry[32:]), "key": "0" * 64})),
    "fields missing": lambda entry: _with_checksum(
        marshal.dumps({k: v for k, v in marshal.loads(entry[32:]).items() if k != "warnings"})
    ),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_damaged_entry_is_ignored_and_written_anew(corruption: str, split: Path, cache: Path) -> None:
    cold = seen(load_spec(split, remember_valid=True))
    [entry] = list(cache.iterdir())
    entry.write_bytes(CORRUPTIONS[corruption](entry.read_bytes()))
    assert speccache.recall(split) is None
    assert seen(load_spec(split, remember_valid=True)) == cold
    assert speccache.recall(split) is not None


def test_an_entry_the_spec_cannot_be_built_from_means_a_full_load(split: Path, cache: Path) -> None:
    cold = seen(load_spec(split, remember_valid=True))
    [entry] = list(cache.iterdir())
    stored = marshal.loads(entry.read_bytes()[32:])
    entry.write_bytes(_with_checksum(marshal.dumps({**stored, "examples": 5})))
    assert speccache.recall(split) is not None  # it reads as an entry...
    assert seen(load_spec(split, remember_valid=True)) == cold  # ...but the spec is loaded in full
    assert marshal.loads(entry.read_bytes()[32:])["examples"] != 5  # and remembered anew


def test_a_cache_that_cannot_be_used_only_costs_time(
    lenient: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache folder that is a file, or a working folder that was removed: the spec loads all the same."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    expected = [str(w) for w in load_spec(lenient).warnings]
    assert [str(w) for w in load_spec(lenient, remember_valid=True).warnings] == expected
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def gone() -> str:
        raise FileNotFoundError("the working folder was removed")

    monkeypatch.setattr(speccache.os, "getcwd", gone)
    assert [str(w) for w in load_spec(lenient, remember_valid=True).warnings] == expected
    assert speccache.recall(lenient) is None


def test_check_never_uses_the_cache(lenient: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_spec(lenient, remember_valid=True)
    monkeypatch.setattr(speccache, "recall", lambda _path: pytest.fail("check read the cache"))
    with pytest.raises(ConfigError) as refused:
        load_spec(lenient, strict=True)
    assert len(refused.value.problems) == 4


def test_entries_are_kept_for_the_last_specs_only(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speccache, "KEPT", 2)
    for index in range(4):
        spec = tmp_path / f"spec{index}.yaml"
        shutil.copy(FIXTURES / "lenient.yaml", spec)
        load_spec(spec, remember_valid=True)
    assert len(list(cache.iterdir())) == 2
    assert speccache.recall(tmp_path / "spec3.yaml") is not None


def test_hot_reload_watches_the_files_of_a_warm_load(split: Path, cache: Path) -> None:
    from mockserver.config import load_config
    from mockserver.reload import Reloader
    from mockserver.state import MockState

    scenarios = split.parent / "scenarios"
    scenarios.mkdir()

    def load() -> Any:
        return load_config(split, scenarios, remember_valid=True)

    load()
    state = MockState(load())  # warm
    reloader = Reloader(state, load, split, scenarios)
    pet = split.parent / "paths" / "pet.yaml"
    pet.write_text(pet.read_text().replace("name: Rex, owner", "name: Max, owner"))
    assert reloader.check() is True
    got = state.config.spec.operation("getPet")
    assert got is not None and got.responses[200].examples["rex"]["name"] == "Max"


REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/pets", {}),
    ("GET", "/pets/7", {}),
    ("GET", "/pets/7", {"Prefer": "example=wrong"}),  # refused at start-up: never sent
    ("GET", "/pets/seven", {}),
    ("GET", "/pets/0", {}),
    ("GET", "/nowhere", {}),
    ("DELETE", "/pets/7", {}),
]


def _answers(server: LiveServer) -> list[tuple[int, str | None, bytes]]:
    answers = []
    for method, path, headers in REQUESTS:
        response = requests.request(method, server.url + path, headers=headers, timeout=10)
        answers.append((response.status_code, response.headers.get("Content-Type"), response.content))
    return answers


@pytest.mark.e2e
def test_a_warm_start_answers_and_warns_byte_for_byte_as_a_cold_one(split: Path, tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    env = {"XDG_CACHE_HOME": str(tmp_path / "own-cache")}
    runs = []
    for _ in range(2):
        server = start_server("--spec", str(split), "--scenarios", str(scenarios), "--no-reload", env_extra=env)
        try:
            answers = _answers(server)
        finally:
            logged = server.stop()
        runs.append((answers, [line for line in logged.splitlines() if line.startswith("warning")]))
        assert list((tmp_path / "own-cache" / "mockserver" / "loaded-specs").iterdir())
    assert runs[0][1], "the fixture should warn"
    assert runs[1] == runs[0]


@pytest.mark.e2e
def test_serve_strict_refuses_a_warm_spec_as_a_cold_one(lenient: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mockserver", "serve", "--strict", "--port", "0", "--spec", str(lenient)]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "own-cache")}
    runs = [
        subprocess.run(
            [*command, "--scenarios", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )
        for _ in range(2)
    ]
    assert list((tmp_path / "own-cache" / "mockserver" / "loaded-specs").iterdir()), "the second start was not warm"
    assert [r.returncode for r in runs] == [2, 2]
    assert runs[1].stderr == runs[0].stderr and runs[0].stderr.count("error:") == 4
