"""The one error hierarchy of reactivate.

The library raises these; the CLI turns them into a single ``Error: ...`` line
and an exit code. Messages name the file, column or key, the offending value
and, for tables, the count and the first row numbers -- never personal data.
"""

from __future__ import annotations


class ReactivateError(Exception):
    """Base class of every error reactivate raises on purpose."""

    exit_code = 1


class InputDataError(ReactivateError):
    """An input table is missing, unreadable or breaks the data contract."""

    exit_code = 2


class ConfigError(ReactivateError):
    """A campaign or segmentation spec is invalid (unknown key, bad value)."""

    exit_code = 2


class NotFittedError(ReactivateError, ValueError):
    """A fitted object was used before ``fit``."""

    exit_code = 1


class OutputError(ReactivateError):
    """Outputs could not be written safely (the previous outputs are kept)."""

    exit_code = 3


class LockedError(ReactivateError):
    """Another run holds the campaign's lock (nothing was changed; try again when it ends)."""

    exit_code = 3
