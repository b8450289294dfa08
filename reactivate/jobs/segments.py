"""The ``reactivate segments`` jobs as library functions: fit and save a model, describe segments.

Both reuse the pipeline's stages (:func:`reactivate.jobs.pipeline.load_targets`,
:func:`reactivate.jobs.pipeline.segment_targets`, :func:`reactivate.scoring.rank.score_targets`);
the CLI only parses options and renders what these return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reactivate import __version__
from reactivate.errors import ConfigError
from reactivate.jobs.commands import input_files
from reactivate.jobs.pipeline import load_specs, load_targets, run_metadata, segment_targets
from reactivate.outputs import charts
from reactivate.outputs.files import check_out, csv_bytes, json_bytes, staged
from reactivate.scoring.rank import score_targets
from reactivate.segmentation.cluster import (
    SELECTION_SAMPLE,
    Segmenter,
    carve_out_free,
    left_out_note,
    usable_features,
)
from reactivate.segmentation.store import save_model

#: columns of a profile card, in order (all from ``segments.csv``)
CARD_TRAITS = ("median_balance", "median_days_dormant", "median_age", "median_tenure_years")


@dataclass
class Description:
    as_of: dt.date
    segments: pd.DataFrame  # one profile row per segment (reactivate.scoring.rank.segment_table)
    k_reason: str
    drift: dict | None
    run: dict
    #: mean z-score of each feature per segment (rows: segment ids), for the heatmap
    traits: pd.DataFrame | None = None


def fit_segments(*, as_of: dt.date, model_path: str | Path, accounts=None, transactions=None, contacts=None,
                 campaign=None, segments=None) -> dict:
    """Fit the segmentation on the dormant targets and save it to ``model_path``.

    Returns
    -------
    dict with targets, k, k_reason and segments (id, name, kind, size, share).

    Raises
    ------
    ConfigError, InputDataError, OutputError
    """
    spec, seg_spec, _ = load_specs(campaign, segments, None)
    t = load_targets(as_of=as_of, accounts=accounts, transactions=transactions, contacts=contacts, spec=spec)
    seg, model, profiles, _ = segment_targets(t, seg_spec)
    doc = save_model(model_path, model, profiles, seg_spec, seg, __version__, customer_ids=t.targets.index)
    n = len(seg)
    return {
        "targets": n,
        "k": int(model.n_clusters_),
        "k_reason": model.k_reason_,
        "notes": left_out_note(getattr(model, "left_out_", {})),
        "segments": [{"segment_id": r["segment_id"], "name": r.get("name", ""), "kind": r.get("kind", ""),
                      "size": r["fit_count"], "share": round(r["fit_count"] / n, 4)} for r in doc["segments"]],
    }


def describe(*, as_of: dt.date, accounts=None, transactions=None, contacts=None, campaign=None, segments=None,
             segments_model=None) -> Description:
    """Segment the dormant targets (fitted here, or assigned by a saved model) and profile each segment.

    Raises
    ------
    ConfigError, InputDataError
    """
    spec, seg_spec, saved = load_specs(campaign, segments, segments_model)
    t = load_targets(as_of=as_of, accounts=accounts, transactions=transactions, contacts=contacts, spec=spec)
    seg, model, profiles, drift = segment_targets(t, seg_spec, saved)
    _, table, _, _ = score_targets(t.targets, t.features, seg, profiles, t.book, spec, as_of, t.customers)
    run = run_metadata(as_of, spec, seg_spec, t.book.inputs, saved, full=False)
    return Description(as_of, table, model.k_reason_ if model is not None else "", drift, run,
                       segment_traits(t.features, seg))


#: features shown on a log scale in the heatmap (money and counts)
LOG_TRAITS = ("balance", "txn_amount", "txn_per_year")


def segment_traits(features: pd.DataFrame, seg: pd.Categorical) -> pd.DataFrame:
    """Mean z-score of every feature per segment (money and counts on a log scale)."""
    import numpy as np

    f = features.copy()
    for col in LOG_TRAITS:
        if col in f:
            f[col] = np.log1p(f[col].clip(lower=0))
    f = f.loc[:, f.notna().any() & (f.std() > 0)]
    z = (f - f.mean()) / f.std()
    return z.groupby(np.asarray(seg.astype(str)), sort=True).mean()


def profile_cards(table: pd.DataFrame) -> str:
    """Plain-text profile cards, one per segment, in rank order."""
    cards = []
    for r in table.sort_values("rank", kind="stable").to_dict("records"):
        traits = ", ".join(f"{c.removeprefix('median_').replace('_', ' ')} {r[c]:,.0f}"
                           for c in CARD_TRAITS if c in r and pd.notna(r[c]))
        reach = {c.removeprefix("reach_"): r[c] for c in r if c.startswith("reach_") and pd.notna(r[c])}
        best = sorted(reach.items(), key=lambda kv: (-kv[1], kv[0]))[:3]  # channels the book knows about
        lines = [
            f"[{r['segment_id']}] {r['segment_name']} ({r['kind']}, rank {r['rank']})",
            f"  size {r['size']:,} ({r['share']:.1%}); long dormant {r['long_dormant_share']:.0%}",
            f"  medians: {traits}",
            f"  sets it apart: {r['apart']}",
            f"  service shortfalls: {r['shortfalls']}",
            "  best reach: " + (", ".join(f"{ch} {v:.0%}" for ch, v in best) or "unknown (no reach or consent data)"),
        ]
        if r.get("note"):
            lines.append(f"  note: {r['note']}")
        cards.append("\n".join(lines))
    return "\n\n".join(cards)


def write_description(d: Description, out: str | Path, inputs: dict | None = None) -> list[str]:
    """Write segments.csv, segments.json and run.json into ``out`` (replaced whole); returns the file names.

    ``inputs`` (how each was given → path) may not lie inside ``out`` (:func:`~reactivate.outputs.files.check_out`).
    """
    with staged(out, inputs) as stage:
        stage.write("segments.csv", csv_bytes(d.segments))
        doc = {"as_of": d.as_of.isoformat(), "k_reason": d.k_reason,
               "segments": d.segments.to_dict("records")}
        if d.drift is not None:
            doc["drift"] = d.drift
        stage.write("segments.json", json_bytes(doc))
        stage.write("run.json", json_bytes(d.run))
        written = ["segments.csv", "segments.json", "run.json"]
        if d.traits is not None and len(d.segments):
            import tempfile

            names = d.segments.set_index("segment_id")["segment_name"]
            with tempfile.TemporaryDirectory() as tmp:
                for name, ax in (("segment_sizes.png", charts.segment_sizes(d.segments)),
                                 ("segment_traits.png", charts.trait_heatmap(d.traits, names))):
                    charts.save(ax, Path(tmp) / name)
                    stage.write(name, (Path(tmp) / name).read_bytes())
                    written.append(name)
    return written


@dataclass
class Tuning:
    as_of: dt.date
    table: pd.DataFrame  # one row per k: silhouette, stability, davies_bouldin, inertia, smallest share
    k: int
    reason: str
    sample: int  # customers the scores were computed on
    clustered: int  # customers clustered (the targets less the carve-outs)


def tune(*, as_of: dt.date, k_min: int, k_max: int, accounts=None, transactions=None, contacts=None,
         campaign=None, segments=None) -> Tuning:
    """Score every k in ``k_min..k_max`` on the dormant targets and recommend one, with the reason.

    The scores come from :meth:`reactivate.segmentation.cluster.Segmenter.fit`'s own k selection,
    so ``tune`` recommends exactly the k that ``fit`` would choose for this range.

    Raises
    ------
    ConfigError, InputDataError
    """
    if not 2 <= k_min <= k_max:
        raise ConfigError(f"need 2 <= --k-min <= --k-max, got {k_min} and {k_max}")
    spec, seg_spec, _ = load_specs(campaign, segments, None)
    t = load_targets(as_of=as_of, accounts=accounts, transactions=transactions, contacts=contacts, spec=spec)
    free = carve_out_free(t.targets, seg_spec)
    if free.sum() <= k_max:
        raise ConfigError(f"only {int(free.sum())} customers to cluster after the carve-outs; --k-max={k_max} "
                          "needs more")
    a = seg_spec.algorithm
    usable, _ = usable_features(t.features[free], seg_spec)  # as segment_customers clusters them
    model = Segmenter(features=usable or seg_spec.features, n_clusters=0, k_range=(k_min, k_max),
                      sample_size=a.sample_size, n_init=a.n_init, random_state=a.random_state).fit(t.features[free])
    table = pd.DataFrame([{"k": k, **v} for k, v in sorted(model.k_scores_.items())])
    return Tuning(as_of, table, int(model.n_clusters_), model.k_reason_,
                  int(min(free.sum(), a.sample_size, SELECTION_SAMPLE)), int(free.sum()))


def write_tuning(tn: Tuning, out: str | Path, inputs: dict | None = None) -> list[str]:
    """k_scores.csv, k_scores.png and k_choice.json, all or nothing (``inputs`` as in :func:`write_description`)."""
    import tempfile

    with staged(out, inputs) as stage:
        stage.write("k_scores.csv", csv_bytes(tn.table))
        stage.write("k_choice.json", json_bytes({"k": tn.k, "reason": tn.reason, "sample": tn.sample,
                                                 "clustered": tn.clustered, "as_of": tn.as_of.isoformat()}))
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "k_scores.png"
            charts.save(charts.k_scores(tn.table, tn.k), png)
            stage.write("k_scores.png", png.read_bytes())
        stage.write("run.json", json_bytes({"version": __version__, "as_of": tn.as_of.isoformat(),
                                            "command": "segments tune"}))
    return ["k_scores.csv", "k_scores.png", "k_choice.json"]


def _files_read(kwargs: dict) -> dict:
    """The files of a segments command's arguments, by option (refused inside its ``out``)."""
    return input_files(**{k: kwargs.get(k) for k in ("campaign", "accounts", "transactions", "contacts", "segments",
                                                     "segments_model")})


def describe_to(out: str | Path, **kwargs) -> Description:
    """``reactivate segments describe``: :func:`describe` written into ``out`` (:func:`write_description`)."""
    files = _files_read(kwargs)
    check_out(out, files)
    d = describe(**kwargs)
    write_description(d, out, files)
    return d


def tune_to(out: str | Path, **kwargs) -> Tuning:
    """``reactivate segments tune``: :func:`tune` written into ``out`` (:func:`write_tuning`)."""
    files = _files_read(kwargs)
    check_out(out, files)
    tn = tune(**kwargs)
    write_tuning(tn, out, files)
    return tn
