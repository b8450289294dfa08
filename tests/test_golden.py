"""Golden outputs: a fixed small book through every command, compared file by file (SHA-256).

Written before the package was reorganised by stage, so that the move can be shown to change no
output byte. It drives the commands only through the CLI, whose names do not move. ``run.json``
is compared with its timestamps and durations blanked; every other file is compared as bytes.

When an output changes on purpose, regenerate the hashes and review the diff of
``tests/golden/hashes.json`` in the same commit::

    REACTIVATE_GOLDEN_UPDATE=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reactivate.cli import app

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HASHES = HERE / "golden" / "hashes.json"
AS_OF = "2026-11-30"
runner = CliRunner()

# what in run.json depends on the clock, the temporary folder or the installed library versions
_VOLATILE = ("started", "finished", "written_at", "created", "elapsed", "seconds", "duration", "libraries",
             "run_id")


def _normalised(obj, root: str):
    if isinstance(obj, dict):
        return {k: (None if k.startswith(_VOLATILE) else _normalised(v, root)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_normalised(v, root) for v in obj]
    # the temporary folder and the repository's own folder (a clone may live anywhere)
    return obj.replace(root, "<ROOT>").replace(str(ROOT), "<REPO>") if isinstance(obj, str) else obj


def _invoke(*args) -> None:
    r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == 0, r.output


def _digest(path: Path, root: Path) -> str:
    data = path.read_bytes()
    if path.name == "run.json":
        data = json.dumps(_normalised(json.loads(data), str(root)), sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def _tree(d: Path, root: Path) -> dict[str, str]:
    skip = {"ledger.sqlite", "ledger.sqlite.lock", ".lock"}
    return {str(p.relative_to(root)): _digest(p, root) for p in sorted(d.rglob("*"))
            if p.is_file() and p.name not in skip and not p.name.endswith(".lock")}


def _weekly_spec(tmp: Path, book: Path) -> Path:
    (tmp / "outcomes").mkdir(exist_ok=True)
    text = (
        '[campaign]\nid = "golden-weekly"\n\n'
        # relative to the spec: the run id (in the RM lists) does not depend on the temporary folder
        f'[inputs]\naccounts = "{book.relative_to(tmp) / "accounts.csv"}"\n'
        f'transactions = "{book.relative_to(tmp) / "transactions.csv"}"\n'
        f'contacts = "{book.relative_to(tmp) / "contacts.csv"}"\noutcomes = ["outcomes/*.csv"]\nout = "runs"\n'
    )
    path = tmp / "weekly.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def golden_outputs(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("golden")
    book = tmp / "book"
    _invoke("demo-data", "--customers", 1500, "--seed", 11, "--as-of", AS_OF, "--out", book)
    inputs = ["--as-of", AS_OF, "--accounts", book / "accounts.csv",
              "--transactions", book / "transactions.csv", "--contacts", book / "contacts.csv"]
    specs = ["--campaign", ROOT / "campaigns" / "default.toml", "--segments", ROOT / "segments" / "default.toml"]
    _invoke("plan", *inputs, *specs, "--out", tmp / "plan", "--quiet")
    _invoke("plan", *inputs, *specs, "--out", tmp / "plan_zh", "--lang", "zh", "--no-report", "--quiet")
    _invoke("rank", *inputs, *specs, "--out", tmp / "rank")
    _invoke("segments", "fit", *inputs, "--segments", ROOT / "segments" / "default.toml",
            "--model", tmp / "model" / "segments.json")
    _invoke("segments", "describe", *inputs, "--segments-model", tmp / "model" / "segments.json",
            "--out", tmp / "describe")
    _invoke("run", "--campaign", _weekly_spec(tmp, book), "--week", "2026-W50", "--no-report")
    _invoke("report", "--run", tmp / "plan", "--out", tmp / "report" / "report.html", "--quiet")
    out: dict[str, str] = {}
    for name in ("plan", "plan_zh", "rank", "model", "describe", "runs", "report"):
        out.update(_tree(tmp / name, tmp))
    return out


@pytest.mark.golden
def test_every_output_file_is_byte_identical_to_the_golden_run(golden_outputs):
    if os.environ.get("REACTIVATE_GOLDEN_UPDATE"):
        HASHES.parent.mkdir(exist_ok=True)
        HASHES.write_text(json.dumps(golden_outputs, indent=1, sort_keys=True) + "\n")
    want = json.loads(HASHES.read_text())
    assert sorted(golden_outputs) == sorted(want), "the set of output files changed"
    changed = [name for name in want if golden_outputs[name] != want[name]]
    assert not changed, f"{len(changed)} output files changed: {changed[:20]}"
