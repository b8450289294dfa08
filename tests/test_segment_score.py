"""Segmentation and scoring on small tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reactivate.config.campaign import load_campaign
from reactivate.errors import ConfigError, NotFittedError
from reactivate.scoring.priors import calibrate, channel_fit, customer_value, prior_propensity
from reactivate.segmentation.cluster import Segmenter, carve_out_mask, describe_segments, segment_customers
from reactivate.segmentation.spec import FeatureSpec, SegmentSpec


def blobs(n_per: int = 200, seed: int = 0) -> pd.DataFrame:
    """Three well separated groups on balance and age."""
    rng = np.random.default_rng(seed)
    parts = []
    for bal, age in ((100.0, 25.0), (50_000.0, 70.0), (2_000_000.0, 50.0)):
        parts.append(pd.DataFrame({"balance": bal * rng.lognormal(0, 0.1, n_per),
                                   "age": age + rng.normal(0, 2, n_per)}))
    return pd.concat(parts, ignore_index=True)


FEATS = {"balance": FeatureSpec(transform="log"), "age": FeatureSpec()}


def test_segmenter_finds_planted_groups_and_numbers_them_by_size():
    X = blobs()
    X = pd.concat([X, X.iloc[:100]], ignore_index=True)  # group 0 is now the largest
    model = Segmenter(features=FEATS, k_range=(2, 5), random_state=0).fit(X)
    assert model.n_clusters_ == 3
    assert np.bincount(model.labels_).tolist() == [300, 200, 200]
    assert (model.predict(X) == model.labels_).all()
    assert "stability" in model.k_scores_[3] and model.k_reason_.startswith("k=3")


def test_segmenter_is_deterministic_and_checks_fitted():
    X = blobs()
    a = Segmenter(features=FEATS, n_clusters=3, random_state=4).fit(X).labels_
    b = Segmenter(features=FEATS, n_clusters=3, random_state=4).fit(X).labels_
    assert (a == b).all()
    with pytest.raises(NotFittedError):
        Segmenter(features=FEATS).predict(X)


def test_carve_outs_come_first_and_never_mix_into_clusters():
    X = blobs()
    cust = pd.DataFrame({"hardship": np.arange(len(X)) % 7 == 0, "balance": X["balance"]})
    spec = SegmentSpec(features=FEATS)
    seg, model = segment_customers(cust, X, spec)
    ids = np.asarray(seg.astype(str))
    assert (ids[cust["hardship"].to_numpy()] == "hardship").all()
    assert (ids[~cust["hardship"].to_numpy()] != "hardship").all()
    profiles = describe_segments(seg, X, model, spec)
    assert profiles["hardship"]["kind"] == "carve-out"
    names = [p["name"] for sid, p in profiles.items() if sid != "hardship"]
    assert len(set(names)) == len(names)
    assert any("High balance" in n for n in names) and any("Young" in n for n in names)


def test_segments_assigned_elsewhere_by_the_fitted_model_are_the_fits_own():
    """``assign`` (the Spark engine's executors) gets the model fitted on its sample and the segment ids, and
    its answer is the segments: assign_segments there gives what the fit itself assigns."""
    from reactivate.segmentation.cluster import assign_segments

    X = blobs()
    cust = pd.DataFrame({"hardship": np.arange(len(X)) % 7 == 0, "balance": X["balance"]})
    spec = SegmentSpec(features=FEATS)
    seg, model = segment_customers(cust, X, spec)
    asked = []

    def elsewhere(m, ids):
        asked.append((m.labels_, list(ids)))
        return assign_segments(cust, X, spec, m, ids)

    seg2, model2 = segment_customers(cust, X, spec, assign=elsewhere)
    assert asked[0][0] is None  # the fit labelled nobody: the rows are assigned once, elsewhere
    assert asked[0][1] == list(seg.categories)
    assert list(seg2.categories) == list(seg.categories) and (seg2.codes == seg.codes).all()
    np.testing.assert_array_equal(model2.cluster_centers_, model.cluster_centers_)


def test_a_sample_drawn_elsewhere_is_the_one_the_model_is_fitted_on():
    """``draw`` (Spark, where the rows lie) is asked for the sample only when more customers are clustered than
    ``sample_size``, and only for rows no carve-out takes; the model is the one fitted on exactly those rows, and
    without ``assign`` a drawn sample is refused (the fit labels only its sample)."""
    import dataclasses

    from reactivate.segmentation.cluster import assign_segments

    X = pd.concat([blobs(n_per=600, seed=s) for s in (1, 2)], ignore_index=True)  # 3,600 rows
    cust = pd.DataFrame({"hardship": np.arange(len(X)) % 7 == 0, "balance": X["balance"]})
    spec = SegmentSpec(features=FEATS)
    spec = dataclasses.replace(spec, algorithm=dataclasses.replace(spec.algorithm, sample_size=1000, k=3))
    drawn = []

    def draw(free, size, seed):
        rows = np.sort(np.random.default_rng(seed + 7).choice(np.flatnonzero(free), size, replace=False))
        drawn.append((free.copy(), size, seed, rows))
        return rows

    def elsewhere(m, ids):
        return assign_segments(cust, X, spec, m, ids)

    seg, model = segment_customers(cust, X, spec, assign=elsewhere, draw=draw)
    free, size, seed, rows = drawn[0]
    assert len(drawn) == 1 and size == 1000 and seed == spec.algorithm.random_state
    assert (free == ~cust["hardship"].to_numpy()).all() and free[rows].all()
    a = spec.algorithm
    alone = Segmenter(features=model.features, n_clusters=a.k, k_range=(a.k_min, a.k_max), sample_size=a.sample_size,
                      n_init=a.n_init, random_state=a.random_state, algorithm=a.name,
                      covariance_type=a.covariance_type).fit(X.iloc[rows])
    np.testing.assert_array_equal(model.cluster_centers_, alone.cluster_centers_)
    assert len(seg) == len(X) and (np.asarray(seg.astype(str))[~free] == "hardship").all()
    with pytest.raises(ValueError, match="needs the assignment"):
        segment_customers(cust, X, spec, draw=draw)
    big = dataclasses.replace(spec, algorithm=dataclasses.replace(spec.algorithm, sample_size=5000))
    drawn.clear()
    seg_all, _ = segment_customers(cust, X, big, assign=lambda m, ids: assign_segments(cust, X, big, m, ids),
                                   draw=draw)
    assert drawn == []  # every clustered row fits in the sample: nothing to draw, the driver's own fit
    seg_driver, _ = segment_customers(cust, X, big)
    assert (seg_all.codes == seg_driver.codes).all()


def test_carve_out_conditions():
    c = pd.DataFrame({"balance": [10.0, 2e6, np.nan], "hardship": [True, False, True]})
    assert carve_out_mask(c, "balance >= 1000000", "x").tolist() == [False, True, False]
    assert carve_out_mask(c, "hardship and balance < 100", "x").tolist() == [True, False, False]
    assert carve_out_mask(c, "not hardship", "x").tolist() == [False, True, False]
    with pytest.raises(ConfigError, match="unknown column 'shoe'"):
        carve_out_mask(c, "shoe > 3", "x")


def _features(days, balance, products=1.0, maturing=0.0):
    n = len(days)
    return pd.DataFrame({"days_dormant": days, "balance": balance, "n_products": [products] * n,
                         "maturing_soon": [maturing] * n, "has_rm": [1.0] * n, "digital_reach": [0.0] * n})


def test_prior_falls_with_dormancy_and_rises_with_value():
    cust = pd.DataFrame({"prior_responses": [0.0] * 3})
    p = prior_propensity(_features([400, 800, 1600], [1000, 1000, 1000]), cust)
    assert p[0] > p[1] > p[2]
    p = prior_propensity(_features([400, 400, 400], [10, 1000, 100000]), cust)
    assert p[0] < p[1] < p[2]


def test_calibration_moves_each_segment_towards_its_history():
    p0 = np.full(2000, 0.1)
    seg = pd.Categorical(np.repeat(["A", "B"], 1000))
    # history: segment A reactivated 30% of the time, B 5%
    pos = np.r_[np.arange(0, 500), np.arange(1000, 1500)]
    hist = pd.DataFrame({"pos": pos, "positive": np.r_[np.arange(500) < 150, np.arange(500) < 25],
                         "channel": "phone"})
    p, info = calibrate(p0, seg, hist)
    assert info["method"] == "prior+history"
    a, b = p[0], p[1999]
    assert a > 0.25 and b < 0.08
    p_same, info = calibrate(p0, seg, None)
    assert info["method"] == "prior" and (p_same == p0).all()


def test_channel_fit_learns_the_segment_best_channel():
    spec = load_campaign(None)
    seg = pd.Categorical(np.repeat(["A", "B"], 600))
    pos = np.arange(1200)
    channel = np.tile(["phone", "app"], 600)
    # A answers calls, B answers the app
    positive = np.where(np.repeat([True, False], 600), channel == "phone", channel == "app") & (pos % 2 == pos % 2)
    hist = pd.DataFrame({"pos": pos, "channel": channel, "positive": positive})
    fit = channel_fit(seg, hist, spec)
    assert fit.loc["A"].idxmax() == "phone" and fit.loc["B"].idxmax() == "app"
    assert fit.max(axis=1).tolist() == [1.0, 1.0]


def test_value_caps_the_balance():
    spec = load_campaign(None)
    v = customer_value(pd.DataFrame({"total_balance": [0.0, 1000.0, 1e9, np.nan]}), spec)
    assert v.tolist() == [150.0, 160.0, 150.0 + 0.01 * 2_000_000, 150.0]


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_gaussian_mixture_option_finds_the_groups(covariance_type):
    from sklearn.metrics import adjusted_rand_score

    X = blobs()
    truth = np.repeat([0, 1, 2], 200)
    model = Segmenter(features=FEATS, n_clusters=3, algorithm="gmm", covariance_type=covariance_type).fit(X)
    assert adjusted_rand_score(truth, model.labels_) > 0.95
    assert model.mixture_weights_.sum() == pytest.approx(1.0)
    assert (model.predict(X) == model.labels_).all()


def test_gaussian_mixture_model_saves_and_reloads(tmp_path):
    from reactivate.segmentation.spec import Algorithm
    from reactivate.segmentation.store import load_model, save_model

    X = blobs()
    cust = pd.DataFrame({"hardship": np.zeros(len(X), dtype=bool)})
    spec = SegmentSpec(features=FEATS, algorithm=Algorithm(name="gmm", k=3, covariance_type="full"))
    seg, model = segment_customers(cust, X, spec)
    profiles = describe_segments(seg, X, model, spec)
    save_model(tmp_path / "m.json", model, profiles, spec, seg)
    again, _, spec2 = load_model(tmp_path / "m.json")
    assert spec2.algorithm.name == "gmm"
    assert (again.predict(X) == model.predict(X)).all()


def test_carve_outs_for_deadline_and_private_banking_on_a_demo_book(demo_book):
    from reactivate.jobs.pipeline import load_targets
    from reactivate.segmentation.spec import CarveOut
    from tests.conftest import AS_OF

    t = load_targets(as_of=AS_OF, accounts=demo_book / "accounts.csv", transactions=demo_book / "transactions.csv",
                     spec=load_campaign(None))
    spec = SegmentSpec(carve_outs=(
        CarveOut(id="hardship", when="hardship"),
        CarveOut(id="private", name="Private banking", when="total_balance >= 1000000"),
        CarveOut(id="deadline", name="Near the deadline", when="days_to_deadline <= 90"),
    ))
    seg, _ = segment_customers(t.targets, t.features, spec)
    ids = np.asarray(seg.astype(str))
    c = t.targets
    assert (ids[c["hardship"].to_numpy()] == "hardship").all()
    rich = ~c["hardship"].to_numpy() & (c["total_balance"] >= 1_000_000).to_numpy()
    assert rich.any() and (ids[rich] == "private").all()
    near = ~c["hardship"].to_numpy() & ~rich & (c["days_to_deadline"] <= 90).to_numpy()
    assert near.any() and (ids[near] == "deadline").all()
    assert not np.isin(ids[~(c["hardship"].to_numpy() | rich | near)], ["hardship", "private", "deadline"]).any()
