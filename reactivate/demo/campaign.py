"""The demo's campaign: ``campaigns/demo.toml`` with its capacities scaled to the demo book.

``campaigns/demo.toml`` sizes the capacities for :data:`DEMO_CUSTOMERS` customers, so that RM calls
and the phone channel are full in the main waves (a bank's template, ``campaigns/default.toml``,
has the capacities of a whole bank and never binds on a demo book). A book of ``N`` customers gets
every channel's weekly capacity and the pool's calls scaled by ``N / DEMO_CUSTOMERS``; calls per RM
stay, since the demo book has one RM per :data:`~reactivate.demo.book.CUSTOMERS_PER_RM` customers
whatever its size. :func:`write_campaign` writes the scaled campaign as TOML, so that
``reactivate plan --campaign OUT/campaign.toml`` on the demo book makes the demo's plan.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from reactivate.config.campaign import CampaignSpec, load_campaign
from reactivate.config.shipped import DEMO_CAMPAIGN, spec_file
from reactivate.errors import OutputError

#: the book size ``campaigns/demo.toml``'s capacities are written for
DEMO_CUSTOMERS = 20_000


def demo_campaign(customers: int) -> CampaignSpec:
    """The shipped demo campaign with its channel capacities and pool calls scaled to ``customers``.

    A channel that is open keeps at least one touch a week, the pool at least one call.
    """
    spec = load_campaign(spec_file(DEMO_CAMPAIGN))
    k = customers / DEMO_CUSTOMERS

    def scaled(v: int) -> int:
        return 0 if v == 0 else max(1, round(v * k))

    channels = {name: dataclasses.replace(ch, weekly_capacity=scaled(ch.weekly_capacity))
                for name, ch in spec.channels.items()}
    rm = dataclasses.replace(spec.rm, pool_calls_per_week=scaled(spec.rm.pool_calls_per_week))
    return dataclasses.replace(spec, channels=channels, rm=rm)


def campaign_toml(spec: CampaignSpec, header: str = "") -> str:
    """The whole resolved campaign as TOML text that :func:`~reactivate.config.campaign.load_campaign`
    reads back to the same spec (every key written; empty values left out)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    plain = spec.to_dict()
    plain["rm"]["overrides_file"] = ""  # its rows are in rm.overrides already
    _table(plain, [], lines)
    return "\n".join(lines).strip("\n") + "\n"


def write_campaign(spec: CampaignSpec, path: str | Path, header: str = "") -> Path:
    """Write :func:`campaign_toml` to ``path``; returns the path.

    Raises
    ------
    OutputError
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(campaign_toml(spec, header), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    return path


def _table(d: dict, keys: list[str], lines: list[str]) -> None:
    """Append ``d`` as a TOML table named ``keys`` (its plain values first, then its sub-tables)."""
    plain = {k: v for k, v in d.items() if not isinstance(v, dict) and v is not None}
    if keys and (plain or not any(isinstance(v, dict) for v in d.values())):
        lines.extend(["", "[" + ".".join(_key(k) for k in keys) + "]"])
    lines.extend(f"{_key(k)} = {_value(v)}" for k, v in plain.items())
    for k, v in d.items():
        if isinstance(v, dict):
            _table(v, [*keys, k], lines)


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):  # dates too ("2026-12-31"): the spec reads a date from text
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")
