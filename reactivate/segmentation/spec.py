"""Segmentation specs (``segments/*.toml``): features, algorithm, carve-outs, names.

The default spec lives here in code and, identically, in
``segments/default.toml``; every key is optional and unknown keys are errors
that name the file and the key. Every number has a declared range (:func:`~reactivate.config.toml.ranged`);
the number of segments is at most :data:`MAX_K`, and when fitting at most one per
:data:`MIN_SEGMENT_SIZE` customers clustered (:mod:`reactivate.segmentation.cluster`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reactivate.config.toml import build, range_problems, ranged, read_toml, to_plain
from reactivate.dormancy.features import CATALOGUE
from reactivate.errors import ConfigError

TRANSFORMS = ("none", "log", "sqrt")
ALGORITHMS = ("kmeans", "gmm")
COVARIANCE_TYPES = ("diag", "full")
#: the most segments a spec (and ``segments tune --k-max``) may ask for: more is no longer a profile
#: an analyst can read, and choosing among them takes minutes
MAX_K = 40
#: a fit makes at most one segment per this many customers clustered (``k`` above that is an error,
#: ``k_max`` above it is lowered, with a note in the reason for k)
MIN_SEGMENT_SIZE = 10


@dataclass(frozen=True)
class FeatureSpec:
    #: "none", "log" (log1p, for money and counts) or "sqrt"
    transform: str = "none"
    #: values above this quantile of the fitting sample are capped (1.0 = no cap)
    cap_quantile: float = ranged(0.99, ge=0.5, le=1)
    #: weight after standardizing (0 drops the feature)
    weight: float = ranged(1.0, ge=0, le=100)


def _default_features() -> dict[str, FeatureSpec]:
    return {
        "balance": FeatureSpec(transform="log"),
        "days_dormant": FeatureSpec(),
        "age": FeatureSpec(),
        "tenure_years": FeatureSpec(),
        "n_products": FeatureSpec(),
        "digital_reach": FeatureSpec(),
        "phone_reach": FeatureSpec(weight=0.5),
        "txn_per_year": FeatureSpec(transform="log"),
        "txn_amount": FeatureSpec(transform="log"),
        "maturing_soon": FeatureSpec(weight=0.7),
        "has_rm": FeatureSpec(weight=0.7),
    }


@dataclass(frozen=True)
class Algorithm:
    #: "kmeans", or "gmm": a Gaussian mixture started from the k-means centroids (soft, elliptical clusters)
    name: str = "kmeans"
    #: for "gmm": "diag" (one variance per feature and cluster) or "full"
    covariance_type: str = "diag"
    #: a fixed number of clusters; 0 = choose from k_min..k_max by silhouette
    k: int = ranged(0, ge=0, le=MAX_K, note="0 = choose; 1 is not a segmentation")
    k_min: int = ranged(3, ge=2, le=MAX_K)
    k_max: int = ranged(8, ge=2, le=MAX_K)
    random_state: int = ranged(0, ge=0, le=2**32 - 1)
    #: fit on a random sample of at most this many customers, then assign everyone
    sample_size: int = ranged(200_000, ge=1000, le=10_000_000)
    #: k-means restarts
    n_init: int = ranged(4, ge=1, le=100)


@dataclass(frozen=True)
class CarveOut:
    """A rule-based segment taken out before clustering, never mixed into clusters.

    ``when`` is a condition on customer columns: ``hardship``,
    ``balance >= 1000000``, ``days_to_deadline <= 90``, joined by ``and``.
    """

    id: str
    name: str = ""
    when: str = ""
    note: str = ""


@dataclass(frozen=True)
class Override:
    name: str = ""
    note: str = ""


@dataclass(frozen=True)
class SegmentSpec:
    algorithm: Algorithm = field(default_factory=Algorithm)
    features: dict[str, FeatureSpec] = field(default_factory=_default_features)
    carve_outs: tuple[CarveOut, ...] = (
        CarveOut(id="hardship", name="Hardship · care first", when="hardship",
                 note="Human contact only, a care check-in, no product pitch."),
    )
    #: analyst names and notes per segment id (e.g. [overrides.S03])
    overrides: dict[str, Override] = field(default_factory=dict)
    source: str = "<defaults>"

    def to_dict(self) -> dict[str, Any]:
        out = to_plain(self)
        out.pop("source", None)
        return out


_COND = re.compile(r"^\s*(not\s+)?([a-z_][a-z0-9_]*)\s*(?:(<=|>=|==|!=|<|>)\s*(-?[0-9.]+))?\s*$")


def parse_condition(text: str, where: str) -> list[tuple[bool, str, str | None, float | None]]:
    """Parse ``a and b >= 3 and not c`` into (negate, column, op, value) terms."""
    terms = []
    for part in re.split(r"\s+and\s+", text.strip()):
        m = _COND.match(part)
        if not m:
            raise ConfigError(
                f"{where}: cannot read the condition {part!r} "
                "(use e.g. 'hardship', 'balance >= 1000000', 'not has_rm', joined by 'and')"
            )
        neg, col, op, val = m.groups()
        terms.append((bool(neg), col, op, float(val) if val is not None else None))
    return terms


def load_segment_spec(path: str | Path | None) -> SegmentSpec:
    if path is None:
        return _check(SegmentSpec())
    raw = read_toml(path)
    spec = build(SegmentSpec, raw, str(path), "")
    return _check(dataclasses.replace(spec, source=str(path)))


def spec_from_dict(raw: dict[str, Any], where: str) -> SegmentSpec:
    """A spec from plain data (``SegmentSpec.to_dict()``, e.g. as saved in a model file), checked."""
    spec = build(SegmentSpec, raw, where, "")
    return _check(dataclasses.replace(spec, source=where))


def _check(spec: SegmentSpec) -> SegmentSpec:
    where = spec.source
    problems = range_problems(spec)
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))
    a = spec.algorithm
    if a.name not in ALGORITHMS:
        raise ConfigError(f"{where}: algorithm.name={a.name!r} should be one of {', '.join(ALGORITHMS)}")
    if a.covariance_type not in COVARIANCE_TYPES:
        raise ConfigError(f"{where}: algorithm.covariance_type={a.covariance_type!r} should be one of "
                          f"{', '.join(COVARIANCE_TYPES)}")
    if a.k == 0 and not a.k_min <= a.k_max:
        raise ConfigError(f"{where}: need 2 <= algorithm.k_min <= algorithm.k_max, got {a.k_min}, {a.k_max}")
    if a.k == 1:
        raise ConfigError(f"{where}: algorithm.k=1 should be 0 (choose) or between 2 and {MAX_K}")
    for name, fs in spec.features.items():
        if name not in CATALOGUE:
            raise ConfigError(f"{where}: features.{name}: unknown feature (known: {', '.join(CATALOGUE)})")
        if fs.transform not in TRANSFORMS:
            raise ConfigError(f"{where}: features.{name}.transform={fs.transform!r} should be one of "
                              f"{', '.join(TRANSFORMS)}")
    if not spec.features:
        raise ConfigError(f"{where}: features: needs at least one feature (known: {', '.join(CATALOGUE)})")
    if not any(fs.weight > 0 for fs in spec.features.values()):
        raise ConfigError(f"{where}: features: at least one feature needs a weight > 0")
    ids = [c.id for c in spec.carve_outs]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{where}: carve_outs: ids must be unique, got {ids}")
    for c in spec.carve_outs:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", c.id) or re.fullmatch(r"S\d+", c.id):
            raise ConfigError(f"{where}: carve_outs: id {c.id!r} should be a word that is not S<number>")
        if not c.when:
            raise ConfigError(f"{where}: carve_outs.{c.id}: 'when' is required")
        parse_condition(c.when, f"{where}: carve_outs.{c.id}.when")
    return spec
