"""Bad segment values, key by key: k bounded by the spec's range and by the data; saved models checked."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reactivate.errors import ConfigError
from reactivate.segmentation.cluster import Segmenter, segment_customers
from reactivate.segmentation.spec import MAX_K, MIN_SEGMENT_SIZE, Algorithm, FeatureSpec, SegmentSpec
from reactivate.segmentation.store import check_model_path, read_model, save_model
from tests.test_segment_score import blobs

FEATS = {"balance": FeatureSpec(transform="log"), "age": FeatureSpec()}


def spec_with(**algorithm) -> SegmentSpec:
    return SegmentSpec(features=FEATS, carve_outs=(), algorithm=Algorithm(**algorithm), source="s.toml")


def test_a_fixed_k_beyond_the_data_is_an_error_naming_the_key():
    X = blobs(n_per=40)  # 120 customers: at most 12 segments
    cust = pd.DataFrame({"hardship": np.zeros(len(X), bool)})
    with pytest.raises(ConfigError) as err:
        segment_customers(cust, X, spec_with(k=13))
    assert str(err.value) == ("s.toml: algorithm.k=13 is more segments than the 120 customers left to cluster "
                              f"after the carve-outs allow (at most 12: {MIN_SEGMENT_SIZE} customers per segment); "
                              "lower k, or set k = 0 to choose it")
    seg, model = segment_customers(cust, X, spec_with(k=12))
    assert model.n_clusters_ == 12 and len(seg.categories) == 12


def test_a_k_max_beyond_the_data_is_lowered_with_a_note():
    X = blobs(n_per=10)  # 30 customers: at most 3 segments
    model = Segmenter(features=FEATS, k_range=(2, 8)).fit(X)
    assert model.n_clusters_ <= 3 and max(model.k_scores_) == 3
    assert model.k_reason_.endswith("; k_max=8 lowered to 3: 30 customers clustered, at least 10 per segment")
    cust = pd.DataFrame({"hardship": np.zeros(len(X), bool)})
    seg, model = segment_customers(cust, X, spec_with(k_min=5, k_max=MAX_K))
    assert len(seg.categories) <= 3 and "lowered to 3" in model.k_reason_


def test_a_k_max_within_the_data_gets_no_note():
    model = Segmenter(features=FEATS, k_range=(2, 4)).fit(blobs())
    assert "lowered" not in model.k_reason_ and model.n_clusters_ == 3


@pytest.fixture
def model_file(tmp_path):
    X = blobs(n_per=50)
    cust = pd.DataFrame({"hardship": np.zeros(len(X), bool)})
    spec = SegmentSpec(features=FEATS, carve_outs=())
    seg, model = segment_customers(cust, X, spec)
    path = tmp_path / "model.json"
    save_model(path, model, {}, spec, seg)
    return path


def edited(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    bad = path.with_name("edited.json")
    bad.write_text(json.dumps(doc))
    return bad


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["segmenter"].__setitem__("scale_", [(0.0).hex()] * 2), "scale_ should hold finite numbers > 0"),
    (lambda d: d["segmenter"].__setitem__("medians_", ["nan", (1.0).hex()]), "medians_ should hold finite numbers"),
    (lambda d: d["segmenter"].__setitem__("weights_", [(-1.0).hex()] * 2), "weights_ should hold finite numbers >= 0"),
    (lambda d: d["segmenter"].__setitem__("caps_", ["nan"] * 2), "caps_ should hold numbers (inf: no cap)"),
    (lambda d: d["segmenter"].__setitem__("n_clusters_", 5000), "n_clusters_=5000 should be a whole number between 1"),
    (lambda d: d["segmenter"].__setitem__("cluster_centers_", "x"), "cluster_centers_ should have 3 rows"),
    (lambda d: d.__setitem__("segmenter", [1, 2]), "corrupted segment model"),
    (lambda d: d["spec"]["algorithm"].__setitem__("k_max", 3000), "spec: algorithm.k_max=3000 should be between 2 and"),
    (lambda d: d["spec"]["features"]["age"].__setitem__("weight", float("nan")),
     "spec: features.age.weight=nan should be a finite number"),
])
def test_a_hand_edited_model_is_refused_naming_what_is_wrong(model_file, change, message):
    bad = edited(model_file, change)
    with pytest.raises(ConfigError) as err:
        read_model(bad)
    assert str(err.value).startswith(f"{bad}: ") and message in str(err.value)


def test_a_model_path_that_is_a_folder_a_table_or_truncated(model_file, tmp_path):
    with pytest.raises(ConfigError, match="is a folder, not a segment model file"):
        read_model(tmp_path)
    table = tmp_path / "accounts.csv"
    table.write_text("customer_id,account_id\nC1,A1\n")
    with pytest.raises(ConfigError, match=r"accounts\.csv: not a segment model \(not valid JSON: "):
        read_model(table)
    cut = tmp_path / "cut.json"
    cut.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    with pytest.raises(ConfigError, match=r"cut\.json: not a segment model \(not valid JSON"):
        read_model(cut)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    with pytest.raises(ConfigError, match=r"deep\.json: not a segment model"):
        read_model(deep)


def test_a_model_is_never_saved_over_a_folder_or_a_file_that_is_not_a_model(model_file, tmp_path):
    check_model_path(model_file)  # refitting over a model is fine
    check_model_path(tmp_path / "new.json")
    with pytest.raises(ConfigError, match=r"--model: .* is a folder"):
        check_model_path(tmp_path)
    table = tmp_path / "accounts.csv"
    table.write_text("customer_id,account_id\nC1,A1\n")
    with pytest.raises(ConfigError, match=r"accounts\.csv exists and is not a segment model; refusing to overwrite"):
        check_model_path(table)
    assert table.read_text() == "customer_id,account_id\nC1,A1\n"
