"""TOML specs into frozen dataclasses: reading, building with checks, and back to plain data.

Shared by the campaign spec (:mod:`reactivate.config.campaign`) and the segmentation spec
(:mod:`reactivate.segmentation.spec`). Unknown keys and values of the wrong type are
:class:`~reactivate.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from reactivate.errors import ConfigError


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML file at ``path`` as a dict; a missing, non-UTF-8 or invalid file is a ConfigError."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: file not found")
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None


def build(cls: type, raw: Any, where: str, key: str) -> Any:
    """Build dataclass ``cls`` from TOML data, rejecting unknown keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{key}] should be a table, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    kwargs: dict[str, Any] = {}
    for k, v in raw.items():
        full = f"{key}.{k}" if key else k
        if k not in names:
            raise ConfigError(f"{where}: unknown key {full!r} (known: {', '.join(sorted(names))})")
        kwargs[k] = convert(hints[k], v, where, full)
    for f in dataclasses.fields(cls):
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if no_default and f.name not in kwargs:
            raise ConfigError(f"{where}: [{key}] needs the key {f.name!r}")
    return cls(**kwargs)


def convert(tp: Any, v: Any, where: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, v, where, key)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in args if a is not type(None)]
        return convert(inner[0], v, where, key)
    if origin is dict:
        if not isinstance(v, dict):
            raise ConfigError(f"{where}: {key} should be a table")
        return {str(k): convert(args[1], x, where, f"{key}.{k}") for k, x in v.items()}
    if origin is tuple:
        if not isinstance(v, (list, tuple)):  # tuples come from the built-in channel settings
            raise ConfigError(f"{where}: {key} should be a list, got {v!r}")
        return tuple(convert(args[0], x, where, key) for x in v)
    if tp is dt.date:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v)
            except ValueError:
                pass
        raise ConfigError(f"{where}: {key}={v!r} should be a date like 2026-12-07")
    if tp is bool:
        if not isinstance(v, bool):
            raise ConfigError(f"{where}: {key}={v!r} should be true or false")
        return v
    if tp is int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"{where}: {key}={v!r} should be a whole number")
        return v
    if tp is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{where}: {key}={v!r} should be a number")
        return float(v)
    if tp is str:
        if not isinstance(v, str):
            raise ConfigError(f"{where}: {key}={v!r} should be text")
        return v
    raise ConfigError(f"{where}: {key}: unsupported value {v!r}")  # pragma: no cover


def to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj
