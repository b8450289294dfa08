"""The hostile-input suite covers at least 100 cases across the commands (tests/test_hostile_*.py)."""

from __future__ import annotations

import importlib

from tests.conftest import ROOT


def test_at_least_100_hostile_cases_across_the_commands():
    cases = []
    for path in sorted((ROOT / "tests").glob("test_hostile_*.py")):
        if path.stem == "test_hostile_count":
            continue
        cases += importlib.import_module(f"tests.{path.stem}").CASES
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids), "case ids repeat"
    commands = {c.args[0] for c in cases}
    assert len(cases) >= 100, f"{len(cases)} hostile cases"
    assert {"plan", "validate", "record", "run", "segments", "rank"} <= commands, commands
