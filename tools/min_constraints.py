#!/usr/bin/env python3
"""Pin every dependency of pyproject.toml to the oldest release series it allows, as pip constraints.

A lower bound ``numpy>=1.26`` becomes ``numpy==1.26.*``: the oldest series we claim to support, with
its bug-fix releases (a bound need not name a release that exists: ortools 9.12 is 9.12.4544).

    python tools/min_constraints.py > constraints-min.txt

``tasks.py test`` installs the package with these constraints into a second environment
(``.venv-min/``) and runs the fast tests there, so that a change in a dependency's behaviour between
the oldest and the newest version we allow is caught on our side. Only ``>=`` lower bounds are read;
a dependency without one is left free.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_REQ = re.compile(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$")


def lower_bounds(pyproject: Path = ROOT / "pyproject.toml", extras: tuple[str, ...] = ()) -> dict[str, str]:
    """``{name: oldest version}`` for the dependencies (and the given extras) with a ``>=`` bound."""
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = list(project.get("dependencies", []))
    for extra in extras:
        reqs += project.get("optional-dependencies", {}).get(extra, [])
    out: dict[str, str] = {}
    for req in reqs:
        m = _REQ.match(req.split(";")[0])
        if not m:
            continue
        for clause in m.group(3).split(","):
            clause = clause.strip()
            if clause.startswith(">="):
                out[m.group(1).lower()] = clause[2:].strip()
    return out


def main() -> None:
    extras = tuple(sys.argv[1:])
    for name, version in sorted(lower_bounds(extras=extras).items()):
        print(f"{name}=={version}.*")


if __name__ == "__main__":
    main()
