#!/usr/bin/env python3
"""Set up and run reactivate with nothing but python3.

    python3 tasks.py demo    # make/reuse .venv, install, run the demo end to end
    python3 tasks.py test    # make/reuse .venv, install, run ruff and the whole test suite

The virtual environment lives in .venv/ and is reinstalled only when
pyproject.toml changes. Extra arguments are passed on (to `reactivate demo`
or to pytest).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".reactivate-installed"


def ensure_env() -> None:
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == want and PY.exists():
        return
    if not PY.exists():
        print(f"creating {VENV} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("installing reactivate and its dependencies (first run only) ...", file=sys.stderr)
    # PYTHONWARNINGS quiets setuptools' generic notice about editable installs
    run([str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f"{ROOT}[test]"],
        env={**os.environ, "PYTHONWARNINGS": "ignore"})
    STAMP.write_text(want + "\n")


def run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    if code:
        sys.exit(code)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    ensure_env()
    task, rest = argv[0], argv[1:]
    if task == "demo":
        run([str(BIN / "reactivate"), "demo", *rest])
    else:
        run([str(PY), "-m", "ruff", "check", "."])
        run([str(PY), "-m", "pytest", *rest])


if __name__ == "__main__":
    main(sys.argv[1:])
