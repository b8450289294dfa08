"""Saved segment models: JSON that reloads the same segments week after week.

A model file holds everything :meth:`Segmenter.predict` needs (feature list,
medians, caps, scaler, weights, centroids), the segment ids with their names
and profiles, the resolved segmentation spec (so the carve-outs are the same)
and the segment sizes at fit time (for the drift report). It is plain JSON:
loading it runs no code, unlike a pickle. Floats are stored with
:meth:`float.hex`, so they come back bit for bit (``inf`` caps included).

Reading needs no scikit-learn; the Segmenter is built from the stored state.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reactivate import __version__
from reactivate.config.toml import read_spec_bytes
from reactivate.dormancy.features import CATALOGUE
from reactivate.errors import ConfigError, OutputError
from reactivate.segmentation.cluster import Segmenter
from reactivate.segmentation.spec import MAX_K, SegmentSpec, spec_from_dict

FORMAT = "reactivate-segment-model"
FORMAT_VERSION = 1
#: a population stability index above this recommends a refit (the usual rule of thumb)
PSI_REFIT = 0.2
#: shares are floored at this in the PSI so an empty segment does not give an infinite index
PSI_FLOOR = 1e-4

_ARRAYS = ("medians_", "caps_", "mean_", "scale_", "weights_")
#: what each stored array must hold (a hand-edited or damaged file is refused, not used)
_ARRAY_RULE = {"medians_": "finite numbers", "caps_": "numbers (inf: no cap)", "mean_": "finite numbers",
               "scale_": "finite numbers > 0", "weights_": "finite numbers >= 0"}
_ARRAY_OK = {"medians_": np.isfinite, "caps_": lambda v: ~np.isnan(v) & (v > -np.inf), "mean_": np.isfinite,
             "scale_": lambda v: np.isfinite(v) & (v > 0), "weights_": lambda v: np.isfinite(v) & (v >= 0)}


@dataclass
class SavedModel:
    """A model file's content, checked."""

    path: str
    model: Any  # reactivate.segmentation.cluster.Segmenter
    profiles: dict[str, dict]
    spec: SegmentSpec
    segment_ids: list[str]
    fit_counts: dict[str, int]
    version: str
    sha256: str
    #: the fit-time assignment, by keyed hash of customer id (sorted hashes, segment positions)
    assignment: tuple[np.ndarray, np.ndarray] | None = None


#: key of the customer-id hashes kept in a model: the file holds no customer id in the clear
ID_HASH_KEY = hashlib.sha256(b"reactivate-segment-model").hexdigest()[:16]


def hash_ids(ids) -> np.ndarray:
    """Keyed 64-bit hashes of customer ids (pseudonymous: ids cannot be read back from them)."""
    return pd.util.hash_array(np.asarray(ids, dtype=object), hash_key=ID_HASH_KEY, categorize=False)


def pack_assignment(customer_ids, segments) -> dict:
    """Each customer's segment at fit time, as JSON-ready base64: the customers' keyed id hashes (sorted)
    and their segment positions (see :func:`hash_ids`; no customer id is stored)."""
    h = hash_ids(customer_ids)
    order = np.argsort(h, kind="stable")
    codes = np.asarray(segments.codes)[order].astype("<u2")
    return {"id_hashes": base64.b64encode(h[order].astype("<u8").tobytes()).decode(),
            "segment_positions": base64.b64encode(codes.tobytes()).decode()}


def unpack_assignment(doc: dict, n_segments: int) -> tuple[np.ndarray, np.ndarray]:
    """The id hashes and segment positions of :func:`pack_assignment`'s ``doc``.

    Raises ValueError when the hashes are not sorted, the two lengths differ or a position names
    a segment beyond ``n_segments``.
    """
    h = np.frombuffer(base64.b64decode(doc["id_hashes"], validate=True), dtype="<u8")
    codes = np.frombuffer(base64.b64decode(doc["segment_positions"], validate=True), dtype="<u2").astype(np.int64)
    if len(h) != len(codes) or (len(h) > 1 and (h[1:] < h[:-1]).any()):
        raise ValueError("the fit-time assignment is damaged")
    if len(codes) and (codes.max() >= n_segments):
        raise ValueError("the fit-time assignment names unknown segments")
    return h, codes


def _hex(a) -> list[str]:
    return [float(x).hex() for x in np.ravel(a)]


def save_model(path: str | Path, model, profiles: dict[str, dict], spec: SegmentSpec, segments,
               version: str = __version__, customer_ids=None) -> dict:
    """Write a fitted segmentation to ``path`` as JSON; returns what was written.

    Parameters
    ----------
    model : a fitted Segmenter (from :func:`reactivate.segmentation.cluster.segment_customers`)
    profiles : segment id -> {name, apart, note, kind} (:func:`describe_segments`)
    spec : the resolved segmentation spec the model was fitted with
    segments : pd.Categorical, the segment of every customer the model was fitted on
        (its categories are the segment ids; its counts are the shares at fit time)
    version : the reactivate version that fitted the model
    customer_ids : the ids of the customers in ``segments``; when given, their keyed hashes and
        segments are kept, so later runs can report the share of customers that changed segment

    Raises
    ------
    ConfigError
        There is no clustering to save (every customer was carved out).
    OutputError
        The file cannot be written.
    """

    if model is None:
        raise ConfigError(f"{path}: nothing to save: too few customers were left to cluster after the carve-outs")
    model.check_fitted()
    check_model_path(path)
    ids = [str(c) for c in segments.categories]
    counts = np.bincount(np.asarray(segments.codes)[np.asarray(segments.codes) >= 0], minlength=len(ids))
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "reactivate_version": version,
        "spec": spec.to_dict(),
        "segmenter": {
            "feature_names_in_": [str(c) for c in model.feature_names_in_],
            **{name: _hex(getattr(model, name)) for name in _ARRAYS},
            "cluster_centers_": [_hex(row) for row in model.cluster_centers_],
            "n_clusters_": int(model.n_clusters_),
            "k_reason_": str(model.k_reason_),
            "k_scores_": {str(k): v for k, v in model.k_scores_.items()},
            "inertia_": float(model.inertia_).hex(),
            **({"mixture_weights_": _hex(model.mixture_weights_),
                "precisions_cholesky_": _hex(np.asarray(model.precisions_cholesky_).ravel()),
                "precisions_shape": list(np.asarray(model.precisions_cholesky_).shape)}
               if model.algorithm == "gmm" else {}),
        },
        "segments": [
            {"segment_id": sid, "fit_count": int(counts[i]), **{k: str(v) for k, v in profiles.get(sid, {}).items()}}
            for i, sid in enumerate(ids)
        ],
    }
    if customer_ids is not None:
        doc["assignment"] = pack_assignment(customer_ids, segments)
    data = (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{p}: cannot write the segment model ({exc.strerror})") from None
    return doc


def check_model_path(path: str | Path) -> None:
    """Refuse, before any work, to save a model over a folder or over a file that is not a segment model
    (an input table given as ``--model`` by mistake would be lost)."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"--model: {p} is a folder; name the model file, e.g. {p / 'segments.json'}")
    if not p.exists():
        return
    try:
        with p.open("rb") as fh:  # a table is not read whole: a model starts with "{"
            head = fh.read(64)
            doc = json.loads(head + fh.read()) if head.lstrip().startswith(b"{") else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigError(f"--model: {p} exists and is not a segment model; refusing to overwrite it "
                          "(name a new .json file)")


def read_model(path: str | Path) -> SavedModel:
    """Read and check a model file written by :func:`save_model`.

    Raises
    ------
    ConfigError
        The file is missing, corrupted, of another format version, or was
        written by an incompatible reactivate version; the message names the
        file and what is wrong.
    """
    p = Path(path)
    raw = read_spec_bytes(p, "a segment model file (the .json written by reactivate segments fit)",
                          "the segment model")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        why = str(exc) if not isinstance(exc, RecursionError) else "nested too deeply"
        raise ConfigError(f"{p}: not a segment model (not valid JSON: {why})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigError(f"{p}: not a segment model (no \"format\": \"{FORMAT}\")")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ConfigError(f"{p}: segment model format_version={doc.get('format_version')!r}; this reactivate "
                          f"({__version__}) reads format_version={FORMAT_VERSION}; refit with reactivate segments fit")
    version = doc.get("reactivate_version")
    if not isinstance(version, str) or _release(version) != _release(__version__):
        raise ConfigError(f"{p}: segment model fitted by reactivate {version!r}, incompatible with this "
                          f"reactivate {__version__} (the first two version numbers must match); "
                          "refit with reactivate segments fit")
    try:
        return _build(p, doc, version, hashlib.sha256(raw).hexdigest())
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ConfigError(f"{p}: corrupted segment model ({what})") from None


def _release(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _floats(values, where: str) -> np.ndarray:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{where} should be a list of hex floats")
    return np.array([float.fromhex(v) for v in values], dtype=float)


def _build(p: Path, doc: dict, version: str, sha: str) -> SavedModel:

    spec = spec_from_dict(doc["spec"], f"{p}: spec")
    s = doc["segmenter"]
    names = s["feature_names_in_"]
    if not isinstance(names, list) or not names:
        raise ValueError("feature_names_in_ should be a non-empty list")
    unknown = [n for n in names if n not in CATALOGUE or n not in spec.features]
    if unknown:
        raise ValueError(f"unknown features in feature_names_in_: {', '.join(map(str, unknown))}")
    d = len(names)
    k = s["n_clusters_"]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValueError(f"n_clusters_={k!r} should be a whole number between 1 and {MAX_K}")
    a = spec.algorithm
    model = Segmenter(features=spec.features, n_clusters=a.k, k_range=(a.k_min, a.k_max),
                      sample_size=a.sample_size, n_init=a.n_init, random_state=a.random_state,
                      algorithm=a.name, covariance_type=a.covariance_type)
    model.feature_names_in_ = np.array(names, dtype=object)
    model.n_features_in_ = d
    for name in _ARRAYS:
        v = _floats(s[name], name)
        if len(v) != d:
            raise ValueError(f"{name} has {len(v)} values for {d} features")
        if not _ARRAY_OK[name](v).all():
            raise ValueError(f"{name} should hold {_ARRAY_RULE[name]}")
        setattr(model, name, v)
    rows = s["cluster_centers_"]
    if not isinstance(rows, list) or len(rows) != k:
        raise ValueError(f"cluster_centers_ should have {k} rows")
    centers = np.array([_floats(r, "cluster_centers_") for r in rows])
    if centers.shape != (k, d) or not np.isfinite(centers).all():
        raise ValueError(f"cluster_centers_ should be {k} x {d} finite numbers")
    model.cluster_centers_ = centers
    if a.name == "gmm":
        weights = _floats(s["mixture_weights_"], "mixture_weights_")
        shape = tuple(int(v) for v in s["precisions_shape"])
        want = (k, d) if a.covariance_type == "diag" else (k, d, d)
        prec = _floats(s["precisions_cholesky_"], "precisions_cholesky_")
        if (len(weights) != k or shape != want or prec.size != int(np.prod(want)) or not np.isfinite(prec).all()
                or not (np.isfinite(weights) & (weights > 0)).all()):
            raise ValueError(f"the mixture should have {k} weights and precisions of shape {want}")
        model.mixture_weights_ = weights
        model.precisions_cholesky_ = prec.reshape(want)
    model.n_clusters_ = k
    model.k_reason_ = str(s["k_reason_"])
    model.k_scores_ = {int(kk): v for kk, v in s["k_scores_"].items()}
    model.inertia_ = float.fromhex(s["inertia_"])

    segs = doc["segments"]
    ids = [str(row["segment_id"]) for row in segs]
    carve = [co.id for co in spec.carve_outs]
    if ids[: len(carve)] != carve or len(ids) != len(carve) + k or len(set(ids)) != len(ids):
        raise ValueError(f"segment ids {ids} do not match the carve-outs {carve} and {k} clusters")
    counts = {}
    for row in segs:
        c = row["fit_count"]
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ValueError(f"fit_count={c!r} of segment {row['segment_id']} should be a whole number >= 0")
        counts[str(row["segment_id"])] = c
    if sum(counts.values()) == 0:
        raise ValueError("the segment sizes at fit time are all 0")
    profiles = {str(row["segment_id"]): {key: str(row.get(key, "")) for key in ("name", "apart", "note", "kind")}
                for row in segs}
    assignment = unpack_assignment(doc["assignment"], len(ids)) if "assignment" in doc else None
    return SavedModel(str(p), model, profiles, spec, ids, counts, version, sha, assignment)


def load_model(path: str | Path):
    """``(Segmenter, profiles, spec)`` from a file written by :func:`save_model`; see :func:`read_model`."""
    m = read_model(path)
    return m.model, m.profiles, m.spec


def segment_drift(segments, fit_counts: dict[str, int], threshold: float = PSI_REFIT, customer_ids=None,
                  assignment: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Share per segment now vs at fit time, the population stability index, and (when the model
    kept its fit-time assignment) the share of customers seen at fit time who changed segment.

    ``PSI = sum((now - fit) * ln(now / fit))`` over segments, shares floored at
    ``PSI_FLOOR``; 0 when the mix is unchanged, above ``threshold`` (0.2) the
    population has moved enough that a refit is recommended.
    """
    ids = list(fit_counts)
    codes = np.asarray(segments.codes)
    now_counts = np.bincount(codes[codes >= 0], minlength=len(segments.categories))
    now_by_id = {str(c): int(n) for c, n in zip(segments.categories, now_counts, strict=True)}
    fit_total = sum(fit_counts.values())
    now_total = max(1, sum(now_by_id.values()))
    rows, psi = [], 0.0
    for sid in ids:
        e = fit_counts[sid] / fit_total
        a = now_by_id.get(sid, 0) / now_total
        if a != e:
            fe, fa = max(e, PSI_FLOOR), max(a, PSI_FLOOR)
            psi += (fa - fe) * math.log(fa / fe)
        rows.append({"segment_id": sid, "share_at_fit": round(e, 4), "share_now": round(a, 4),
                     "change": round(a - e, 4)})
    psi = round(psi, 4)
    refit = psi > threshold
    moved = {}
    if assignment is not None and customer_ids is not None:
        fit_h, fit_pos = assignment
        h = hash_ids(customer_ids)
        at = np.searchsorted(fit_h, h)
        seen = (at < len(fit_h)) & (fit_h[np.minimum(at, len(fit_h) - 1)] == h) if len(fit_h) else np.zeros(len(h), bool)
        now_ids = np.asarray(segments.categories, dtype=object)[codes[seen]]
        then_ids = np.asarray(ids, dtype=object)[fit_pos[at[seen]]]
        changed = int((now_ids != then_ids).sum())
        moved = {"customers_seen_at_fit": int(seen.sum()), "changed_segment": changed,
                 "changed_share": round(changed / max(1, int(seen.sum())), 4),
                 "new_since_fit": int((~seen).sum())}
    moved_text = (f"; {moved['changed_share']:.1%} of the {moved['customers_seen_at_fit']:,} customers seen at "
                  f"fit time changed segment, {moved['new_since_fit']:,} are new") if moved else ""
    return {
        **moved,
        "segments": rows,
        "psi": psi,
        "psi_threshold": threshold,
        "refit_recommended": bool(refit),
        "reason": (f"population stability index {psi:.3f} > {threshold}: the segment mix has moved; refit with "
                   "reactivate segments fit" if refit else
                   f"population stability index {psi:.3f} <= {threshold}: the segment mix is stable") + moved_text,
    }
