"""Saved segment models: exact round trip, stable ids and names across runs, clear errors, drift."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reactivate import __version__
from reactivate.errors import ConfigError
from reactivate.jobs.pipeline import run_plan
from reactivate.jobs.segments import fit_segments
from reactivate.segmentation.cluster import segment_customers
from reactivate.segmentation.spec import FeatureSpec, SegmentSpec
from reactivate.segmentation.store import load_model, read_model, save_model, segment_drift
from tests.conftest import AS_OF, ROOT
from tests.test_segment_score import blobs

FEATS = {"balance": FeatureSpec(transform="log"), "age": FeatureSpec(), "n_products": FeatureSpec(cap_quantile=1.0)}


def _fitted(tmp_path):
    X = blobs()
    X["n_products"] = np.arange(len(X)) % 3 + 1.0  # cap_quantile 1.0: an infinite cap to round-trip
    cust = pd.DataFrame({"hardship": np.arange(len(X)) % 9 == 0})
    spec = SegmentSpec(features=FEATS)
    seg, model = segment_customers(cust, X, spec)
    profiles = {sid: {"name": f"name of {sid}", "apart": "", "note": "", "kind": "x"} for sid in seg.categories}
    path = tmp_path / "model.json"
    save_model(path, model, profiles, spec, seg)
    return X, cust, spec, seg, model, profiles, path


def test_save_load_predict_gives_identical_labels_and_bits(tmp_path):
    X, _, spec, seg, model, profiles, path = _fitted(tmp_path)
    m2, p2, spec2 = load_model(path)
    assert (m2.predict(X) == model.predict(X)).all()
    for name in ("medians_", "caps_", "mean_", "scale_", "weights_", "cluster_centers_"):
        assert np.array_equal(getattr(m2, name), getattr(model, name)), name
    assert np.isinf(m2.caps_).any()
    assert list(m2.feature_names_in_) == list(model.feature_names_in_)
    assert (m2.n_clusters_, m2.k_reason_, m2.k_scores_) == (model.n_clusters_, model.k_reason_, model.k_scores_)
    assert p2 == profiles and spec2.to_dict() == spec.to_dict()
    saved = read_model(path)
    assert saved.segment_ids == list(seg.categories)
    assert saved.fit_counts == {str(c): int(n) for c, n in pd.Series(seg).value_counts(sort=False).items()}
    assert saved.version == __version__


def test_corrupted_or_foreign_model_files_are_config_errors_naming_the_file(tmp_path):
    *_, path = _fitted(tmp_path)
    doc = json.loads(path.read_text())
    bad = tmp_path / "bad.json"

    bad.write_text('{"format": "reactivate-segment-model", ')
    with pytest.raises(ConfigError) as e:
        read_model(bad)
    assert str(e.value) == (f"{bad}: not a segment model (not valid JSON: Expecting property name enclosed in "
                            "double quotes: line 1 column 40 (char 39))")

    bad.write_text('[1, 2]')
    with pytest.raises(ConfigError) as e:
        read_model(bad)
    assert str(e.value) == f'{bad}: not a segment model (no "format": "reactivate-segment-model")'

    bad.write_text(json.dumps({**doc, "format_version": 99}))
    with pytest.raises(ConfigError) as e:
        read_model(bad)
    assert str(e.value) == (f"{bad}: segment model format_version=99; this reactivate ({__version__}) reads "
                            "format_version=1; refit with reactivate segments fit")

    bad.write_text(json.dumps({**doc, "reactivate_version": "7.3.0"}))
    with pytest.raises(ConfigError) as e:
        read_model(bad)
    assert str(e.value) == (f"{bad}: segment model fitted by reactivate '7.3.0', incompatible with this "
                            f"reactivate {__version__} (the first two version numbers must match); "
                            "refit with reactivate segments fit")

    seg = dict(doc["segmenter"])
    seg["mean_"] = seg["mean_"][:-1]
    bad.write_text(json.dumps({**doc, "segmenter": seg}))
    with pytest.raises(ConfigError) as e:
        read_model(bad)
    assert str(e.value) == f"{bad}: corrupted segment model (mean_ has 2 values for 3 features)"

    seg = dict(doc["segmenter"])
    del seg["cluster_centers_"]
    bad.write_text(json.dumps({**doc, "segmenter": seg}))
    with pytest.raises(ConfigError) as e:
        read_model(bad)
    assert str(e.value) == f"{bad}: corrupted segment model (missing key 'cluster_centers_')"

    bad.write_text(json.dumps({**doc, "spec": {**doc["spec"], "colour": 1}}))
    with pytest.raises(ConfigError, match=r"bad\.json: spec: unknown key 'colour'"):
        read_model(bad)

    with pytest.raises(ConfigError) as e:
        read_model(tmp_path / "nope.json")
    assert str(e.value) == f"{tmp_path / 'nope.json'}: file not found"


def test_drift_psi_by_hand():
    fit = {"a": 50, "b": 50}
    same = pd.Categorical(["a", "b"] * 10)
    d = segment_drift(same, fit)
    assert d["psi"] == 0 and not d["refit_recommended"]
    shifted = pd.Categorical(["a"] * 9 + ["b"], categories=["a", "b"])
    d = segment_drift(shifted, fit)
    # (0.9 - 0.5) ln(0.9/0.5) + (0.1 - 0.5) ln(0.1/0.5)
    assert d["psi"] == round(0.4 * np.log(1.8) + 0.4 * np.log(5), 4)
    assert d["refit_recommended"] and d["segments"][0] == {"segment_id": "a", "share_at_fit": 0.5,
                                                           "share_now": 0.9, "change": 0.4}


@pytest.fixture(scope="module")
def saved_model(demo_book, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "segments.json"
    info = fit_segments(as_of=AS_OF, model_path=path, accounts=demo_book / "accounts.csv",
                        transactions=demo_book / "transactions.csv", contacts=demo_book / "contacts.csv",
                        campaign=ROOT / "campaigns" / "default.toml")
    return path, info


def _plan(book, model):
    return run_plan(as_of=AS_OF, accounts=book / "accounts.csv", transactions=book / "transactions.csv",
                    contacts=book / "contacts.csv", campaign=ROOT / "campaigns" / "default.toml",
                    segments_model=model)


def test_weekly_runs_with_the_saved_model_keep_segment_ids_and_names(demo_book, saved_model):
    path, info = saved_model
    first, second = _plan(demo_book, path), _plan(demo_book, path)
    fit_names = {s["segment_id"]: s["name"] for s in info["segments"]}
    for run in (first, second):
        names = dict(zip(run.segments["segment_id"], run.segments["segment_name"], strict=True))
        assert names == fit_names
        drift = run.summary["segments_drift"]
        assert drift["psi"] == 0 and not drift["refit_recommended"]
        assert run.run["segments_model"]["path"] == str(path)
    assert first.scores["segment_id"].astype(str).equals(second.scores["segment_id"].astype(str))
    # the saved model assigns exactly what the fit assigned
    shares = {s["segment_id"]: s["size"] for s in info["segments"]}
    assert first.scores["segment_id"].astype(str).value_counts().to_dict() == {k: v for k, v in shares.items() if v}
    # without a model the plan fits as before and reports no drift
    assert "segments_drift" not in run_plan(as_of=AS_OF, accounts=demo_book / "accounts.csv").summary


def test_drift_flags_a_shifted_population(demo_book, saved_model, tmp_path):
    path, _ = saved_model
    first = _plan(demo_book, path)
    seg = first.scores["segment_id"].astype(str)
    keep = set(seg.index[seg.isin(["S01", "hardship"])])
    # every customer who is not a target stays, so dormancy and the customer mix otherwise hold
    targets = set(seg.index)
    for name in ("accounts", "transactions", "contacts"):
        t = pd.read_csv(demo_book / f"{name}.csv", dtype=str, keep_default_na=False)
        ids = t["customer_id"]
        t[~ids.isin(targets) | ids.isin(keep)].to_csv(tmp_path / f"{name}.csv", index=False)
    drift = _plan(tmp_path, path).summary["segments_drift"]
    assert drift["psi"] > 0.2 and drift["refit_recommended"]
    assert drift["reason"].startswith(f"population stability index {drift['psi']:.3f} > 0.2")


def test_a_spec_and_a_model_together_are_refused(demo_book, saved_model):
    with pytest.raises(ConfigError) as e:
        run_plan(as_of=AS_OF, accounts=demo_book / "accounts.csv", segments=SegmentSpec(),
                 segments_model=saved_model[0])
    assert str(e.value) == ("give either a segmentation spec or a saved segment model, not both "
                            "(the model carries the spec it was fitted with)")


def test_drift_counts_customers_who_changed_segment():
    import numpy as np
    import pandas as pd

    from reactivate.segmentation.store import pack_assignment, segment_drift, unpack_assignment

    then = pd.Categorical(["S01", "S01", "S02", "S02"], categories=["S01", "S02"])
    packed = pack_assignment(np.array(["A", "B", "C", "D"], dtype=object), then)
    assignment = unpack_assignment(packed, 2)
    now = pd.Categorical(["S01", "S02", "S02", "S01"], categories=["S01", "S02"])
    d = segment_drift(now, {"S01": 2, "S02": 2}, customer_ids=np.array(["A", "B", "C", "E"], dtype=object),
                      assignment=assignment)
    assert (d["customers_seen_at_fit"], d["changed_segment"], d["new_since_fit"]) == (3, 1, 1)
    assert d["changed_share"] == round(1 / 3, 4)
