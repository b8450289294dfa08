#!/usr/bin/env python3
"""Set up and run reactivate with nothing but python3.

    python3 tasks.py demo    # make/reuse .venv, install, run the demo end to end
    python3 tasks.py test    # make/reuse .venv, install, run ruff and the whole test suite (the Spark
                             # engine's tests as their own group), then the fast tests again on the
                             # oldest dependencies we allow

The virtual environment lives in .venv/ and is reinstalled only when
pyproject.toml changes. `test` also keeps .venv-min/, built with every
dependency at the oldest release series pyproject.toml allows
(tools/min_constraints.py), and runs the fast tests there, so that a change
in a dependency's behaviour between the oldest and the newest version is
caught here. Extra arguments are passed on (to `reactivate demo` or to
pytest); with extra arguments, or REACTIVATE_SKIP_MIN=1, the oldest-versions
pass is skipped.
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
MIN_VENV = ROOT / ".venv-min"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


def ensure_env(env_dir: Path = VENV, oldest: bool = False) -> Path:
    """Make or reuse a virtual environment with reactivate installed (editable); returns its python.

    ``oldest``: every dependency pinned to the oldest release series pyproject.toml allows.
    """
    py = _python(env_dir)
    stamp = env_dir / ".reactivate-installed"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == want and py.exists():
        return py
    if not py.exists():
        print(f"creating {env_dir} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    what = "the oldest dependencies we allow" if oldest else "reactivate and its dependencies"
    print(f"installing {what} into {env_dir.name}/ (first run only) ...", file=sys.stderr)
    pin: list[str] = []
    if oldest:
        constraints = env_dir / "constraints-min.txt"
        out = subprocess.run([sys.executable, str(ROOT / "tools" / "min_constraints.py")], check=True,
                             capture_output=True, text=True).stdout
        constraints.write_text(out)
        pin = ["-c", str(constraints)]
    # PYTHONWARNINGS quiets setuptools' generic notice about editable installs
    # the newest environment also gets the Spark engine's extra (its tests run as the marked group spark)
    extras = "test" if oldest else "test,spark"
    run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pin, "-e", f"{ROOT}[{extras}]"],
        env={**os.environ, "PYTHONWARNINGS": "ignore"})
    stamp.write_text(want + "\n")
    return py


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
        if rest:
            run([str(PY), "-m", "pytest", *rest])
        else:
            run([str(PY), "-m", "pytest", "-m", "not spark"])
            # the Spark engine in local mode (Java from the system): its own group, one Spark session
            print("the Spark engine's tests (local mode) ...", file=sys.stderr)
            run([str(PY), "-m", "pytest", "-m", "spark", "-q", "-p", "no:cacheprovider"])
        if not rest and not os.environ.get("REACTIVATE_SKIP_MIN"):
            print("the fast tests again, on the oldest dependencies pyproject.toml allows (.venv-min/) ...",
                  file=sys.stderr)
            oldest = ensure_env(MIN_VENV, oldest=True)
            # the golden bytes are pinned on the newest versions (PNG and xlsx bytes differ between releases)
            run([str(oldest), "-m", "pytest", "-m", "not slow and not golden and not spark", "-q", "-p",
                 "no:cacheprovider"])


if __name__ == "__main__":
    main(sys.argv[1:])
