"""The hostile-input harness: one bad input, one command, and everything a clear failure must hold.

A :class:`Case` names a command line and how to spoil the inputs; :func:`check` runs it in-process
through the CLI and asserts, for every case alike:

- the exit code (2 for bad input or config unless the case says otherwise);
- exactly one ``Error:`` line on stderr, holding every expected fragment (file, key or column, problem);
- no traceback and no Python exception escaping the CLI;
- nothing written: no new file or folder beside the inputs, no staging folder left behind;
- the previous outputs byte-identical (a finished earlier run sits in ``{out}``).

Test modules build lists of cases (``tests/test_hostile_*.py``) and parametrize over them; the count
of all cases is checked by ``tests/test_hostile_count.py``.

Placeholders in ``args``: ``{book}`` (a folder with a good demo book: accounts.csv, transactions.csv,
contacts.csv), ``{tmp}`` (the case's folder, where ``setup`` writes the spoiled files), ``{out}`` (the
outputs folder holding the earlier run).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from reactivate.cli import app

runner = CliRunner()


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    # fragments the Error line must hold (file, key/column, the problem); a tuple of fragments: any one of
    # them (a message worded by a library, which words it differently across its versions)
    expect: tuple[str | tuple[str, ...], ...]
    setup: Callable[[Path, Path], None] | None = None   # (tmp, book) -> write the spoiled inputs into tmp
    code: int = 2
    previous: bool = True            # put an earlier run in {out} and check it survives byte for byte
    stdin: str | None = None
    extra_checks: tuple[Callable[[Path, object], None], ...] = field(default_factory=tuple)


def _tree(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(d.rglob("*"))}


def earlier_run(out: Path) -> None:
    """A finished earlier run as reactivate leaves it (run.json marks the folder as ours)."""
    (out / "targets").mkdir(parents=True)
    (out / "run.json").write_text('{"version": "earlier"}\n')
    (out / "plan.csv").write_text("customer_id,week_start\nC1,2026-12-07\n")
    (out / "targets" / "RM1.csv").write_text("priority,customer_id\n1,C1\n")


def check(case: Case, tmp: Path, book: Path) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / "out"
    if case.setup is not None:
        case.setup(tmp, book)
    if case.previous:
        earlier_run(out)
    before_out = _tree(out) if out.exists() else None
    before_tmp = {p for p in _tree(tmp) if not p.startswith("out")}
    book_before = _tree(book)
    args = [a.format(book=book, tmp=tmp, out=out) for a in case.args]
    r = runner.invoke(app, args, input=case.stdin)
    where = f"{case.id}: reactivate {' '.join(args)}\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}"
    assert r.exception is None or isinstance(r.exception, SystemExit), \
        f"{where}\nunexpected {type(r.exception).__name__}: {r.exception}"
    assert "Traceback" not in r.output, where
    assert r.exit_code == case.code, f"{where}\nexit {r.exit_code}, expected {case.code}"
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, f"{where}\nexpected one Error: line, got {len(errors)}"
    for fragment in case.expect:
        options = fragment if isinstance(fragment, tuple) else (fragment,)
        assert any(f.format(book=book, tmp=tmp, out=out) in r.stderr for f in options), \
            f"{where}\nmissing {fragment!r}"
    if before_out is not None:
        assert _tree(out) == before_out, f"{where}\nthe earlier outputs changed"
    else:
        assert not out.exists(), f"{where}\n{out} was created"
    after_tmp = {p for p in _tree(tmp) if not p.startswith("out")}
    assert after_tmp == before_tmp, f"{where}\nwritten: {sorted(after_tmp - before_tmp)[:5]}"
    assert _tree(book) == book_before, f"{where}\nthe book changed"
    for extra in case.extra_checks:
        extra(tmp, r)


def both(*setups: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    """One setup that runs ``setups`` in order."""

    def setup(tmp: Path, book: Path) -> None:
        for s in setups:
            s(tmp, book)

    return setup


def copy_book(book: Path, tmp: Path, *names: str) -> None:
    """Copy the named tables of the good book into the case's folder (to spoil them there)."""
    for name in names:
        shutil.copy(book / name, tmp / name)
