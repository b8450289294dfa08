"""TOML specs into frozen dataclasses: reading, building with checks, and back to plain data.

Shared by the campaign spec (:mod:`reactivate.config.campaign`) and the segmentation spec
(:mod:`reactivate.segmentation.spec`). Unknown keys, values of the wrong type and numbers that are not
finite (TOML allows ``nan`` and ``inf``) are :class:`~reactivate.errors.ConfigError` naming the file and
the key.

Every numeric (and date) key declares its range as data: :func:`ranged` puts a :class:`Range` in the
dataclass field's metadata, and :func:`range_problems` checks a whole built spec against them, naming
each key, its value and its range. ``tests/test_config.py`` walks the spec dataclasses and fails on a
numeric field without a range.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reactivate.errors import ConfigError

#: the key of a field's :class:`Range` in its dataclass field metadata
RANGE = "range"


@dataclass(frozen=True)
class Range:
    """The values a spec key allows: ``ge <= v <= le``, or strictly with ``gt`` / ``lt`` (numbers or dates).

    ``note`` says why, when the bound is not obvious (it is shown after the range).
    """

    ge: Any = None
    le: Any = None
    gt: Any = None
    lt: Any = None
    note: str = ""

    def contains(self, v: Any) -> bool:
        """True when ``v`` is in the range (``nan`` never is)."""
        if isinstance(v, float) and not math.isfinite(v):
            return False
        return ((self.ge is None or v >= self.ge) and (self.le is None or v <= self.le)
                and (self.gt is None or v > self.gt) and (self.lt is None or v < self.lt))

    def text(self) -> str:
        """The range in words: ``between 0 and 1``, ``>= 1``, ``> 0 and <= 1000``."""
        if self.ge is not None and self.le is not None:
            words = f"between {_bound(self.ge)} and {_bound(self.le)}"
        else:
            low = f">= {_bound(self.ge)}" if self.ge is not None else f"> {_bound(self.gt)}" if self.gt is not None else ""
            high = f"<= {_bound(self.le)}" if self.le is not None else f"< {_bound(self.lt)}" if self.lt is not None else ""
            words = " and ".join(w for w in (low, high) if w)
        return f"{words} ({self.note})" if self.note else words


def _bound(x: Any) -> str:
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def within(*, ge: Any = None, le: Any = None, gt: Any = None, lt: Any = None, note: str = "") -> dict[str, Range]:
    """Field metadata declaring a range, for fields with a default factory or an optional value:
    ``field(default_factory=dict, metadata=within(ge=0, le=1))`` (each value of a table is checked)."""
    return {RANGE: Range(ge=ge, le=le, gt=gt, lt=lt, note=note)}


def ranged(default: Any, *, ge: Any = None, le: Any = None, gt: Any = None, lt: Any = None, note: str = "") -> Any:
    """A dataclass field with ``default`` whose value (each value, for a list) must lie in the given range."""
    return dataclasses.field(default=default, metadata=within(ge=ge, le=le, gt=gt, lt=lt, note=note))


def field_range(cls: type, name: str) -> Range | None:
    """The :class:`Range` declared on field ``name`` of dataclass ``cls`` (None when it has none)."""
    return next((f.metadata.get(RANGE) for f in dataclasses.fields(cls) if f.name == name), None)


def range_problems(obj: Any, prefix: str = "") -> list[str]:
    """Every value of the built spec ``obj`` (nested dataclasses, tables and lists too) outside its range.

    Each problem names the key, the value and the range: ``value.per_reactivation=-150.0 should be
    between 0 and 1000000000``.
    """
    problems = []
    for f in dataclasses.fields(obj):
        key = f"{prefix}{f.name}"
        rng = f.metadata.get(RANGE)
        value = getattr(obj, f.name)
        if isinstance(value, dict):
            items = [(f"{key}.{k}", v) for k, v in value.items()]
        elif isinstance(value, tuple):
            items = [(f"{key}[{i}]", v) for i, v in enumerate(value, 1)]
        else:
            items = [(key, value)]
        for k, v in items:
            if dataclasses.is_dataclass(v):
                problems += range_problems(v, f"{k}.")
            elif rng is not None and v is not None and not rng.contains(v):
                problems.append(f"{k}={_shown(v)} should be {rng.text()}")
    return problems


def _shown(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else repr(v)


def _short(v: Any) -> str:
    """``repr(v)``, cut to about 80 characters (a value is quoted in one error line, never echoed whole)."""
    r = repr(v)
    return r if len(r) <= 80 else r[:76] + " ..."


def read_spec_bytes(path: Path, kind: str, name: str) -> bytes:
    """The bytes of a spec or model file; a folder, a missing or an unreadable file is a ConfigError
    naming the file (``kind``: what the file should be, ``name``: how to call it when it cannot be read)."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not {kind}")
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {name} ({exc.strerror})") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML file at ``path`` as a dict; a missing, unreadable, non-UTF-8 or invalid file is a ConfigError.

    A UTF-8 byte-order mark (as some Windows editors write) is allowed.
    """
    p = Path(path)
    data = read_spec_bytes(p, "a TOML file", "the file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start + 1} is not UTF-8; a TOML spec must be saved "
                          "as UTF-8, e.g. not GBK)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None


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
            raise ConfigError(f"{where}: {key}={_short(v)} should be a table")
        return {str(k): convert(args[1], x, where, f"{key}.{k}") for k, x in v.items()}
    if origin is tuple:
        if not isinstance(v, (list, tuple)):  # tuples come from the built-in channel settings
            raise ConfigError(f"{where}: {key}={_short(v)} should be a list")
        return tuple(convert(args[0], x, where, f"{key}[{i}]") for i, x in enumerate(v, 1))
    if tp is dt.date:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v)
            except ValueError:
                pass
        raise ConfigError(f"{where}: {key}={_short(v)} should be a date like 2026-12-07")
    if tp is bool:
        if not isinstance(v, bool):
            raise ConfigError(f"{where}: {key}={_short(v)} should be true or false")
        return v
    if tp is int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"{where}: {key}={_short(v)} should be a whole number")
        return v
    if tp is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{where}: {key}={_short(v)} should be a number")
        if not math.isfinite(v):
            raise ConfigError(f"{where}: {key}={_short(v)} should be a finite number (not nan or inf)")
        return float(v)
    if tp is str:
        if not isinstance(v, str):
            raise ConfigError(f"{where}: {key}={_short(v)} should be text")
        return v
    raise ConfigError(f"{where}: {key}: unsupported value {_short(v)}")  # pragma: no cover


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
