"""The command line: a thin layer over the library (only this package imports typer)."""

from reactivate.cli.app import app, main

__all__ = ["app", "main"]
