"""Progress bars for long steps: rich (typer's own dependency) on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def wanted(quiet: bool) -> bool:
    """A bar is drawn only on a terminal, and never with ``--quiet`` (batch runs and pipes stay clean)."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def bar(label: str, steps: list[str], quiet: bool = False) -> Iterator[Callable[[str], None] | None]:
    """``with bar("plan", ["load", ...]) as step:`` call ``step(name)`` as each named step ends.

    Names that are not in ``steps`` (e.g. the charts of a report) only change
    the description. Yields None when no bar is wanted, so callers pass it on
    as an optional progress callback.
    """
    if not wanted(quiet):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    known = set(steps)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as p:
        task = p.add_task(f"{label}: {steps[0]}" if steps else label, total=len(steps))

        def step(name: str) -> None:  # called as ``name`` ends: show what runs next
            if name in known:
                i = steps.index(name)
                p.update(task, advance=1, description=f"{label}: {steps[i + 1] if i + 1 < len(steps) else name}")
            else:
                p.update(task, description=f"{label}: {name}")

        yield step
