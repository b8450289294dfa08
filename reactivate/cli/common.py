"""Shared CLI plumbing: turning library errors into one line and an exit code."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import TypeVar

import typer

from reactivate.errors import ReactivateError

T = TypeVar("T")


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``; a ReactivateError becomes ``Error: ...`` on stderr and its exit code."""
    try:
        return fn()
    except ReactivateError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("Interrupted; nothing was written.", err=True)
        raise typer.Exit(130) from None


def parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}={value!r} is not a date like 2026-11-30") from None


def say(text: str) -> None:
    sys.stderr.write(text + "\n")
