"""reactivate segments tune: scores per k, a recommendation with its reason, a chart."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from reactivate.cli import app
from reactivate.outputs.charts import k_scores

runner = CliRunner()


def test_tune_scores_each_k_and_recommends_the_fit_choice(demo_book, tmp_path):
    out = tmp_path / "tune"
    r = runner.invoke(app, ["segments", "tune", "--as-of", "2026-11-30", "--accounts", str(demo_book / "accounts.csv"),
                            "--transactions", str(demo_book / "transactions.csv"), "--k-min", "2", "--k-max", "7",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "k_scores.csv")
    assert table["k"].tolist() == [2, 3, 4, 5, 6, 7]
    assert list(table.columns) == ["k", "silhouette", "stability", "davies_bouldin", "inertia_per_customer",
                                   "smallest_share"]
    assert table["inertia_per_customer"].is_monotonic_decreasing
    assert ((table["smallest_share"] > 0) & (table["smallest_share"] <= 0.5)).all()
    choice = json.loads((out / "k_choice.json").read_text())
    assert choice["k"] in set(table["k"]) and choice["reason"].startswith(f"k={choice['k']}: ")
    assert (out / "k_scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"recommended k={choice['k']}" in r.stderr


def test_tune_rejects_a_bad_range(demo_book, tmp_path):
    r = runner.invoke(app, ["segments", "tune", "--as-of", "2026-11-30", "--accounts", str(demo_book / "accounts.csv"),
                            "--k-min", "5", "--k-max", "3", "--out", str(tmp_path / "t")])
    assert r.exit_code == 2
    assert r.stderr == "Error: need 2 <= --k-min <= --k-max, got 5 and 3\n"
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize(("k_min", "k_max", "message"), [
    ("0", "5", "--k-min=0 should be between 2 and 40 (segments an analyst can still tell apart)"),
    ("2", "3000", "--k-max=3000 should be between 2 and 40 (segments an analyst can still tell apart)"),
    ("41", "45", "--k-min=41 should be between 2 and 40"),
])
def test_tune_options_out_of_range_fail_before_any_work(tmp_path, k_min, k_max, message):
    r = runner.invoke(app, ["segments", "tune", "--as-of", "2026-11-30", "--accounts", str(tmp_path / "none.csv"),
                            "--k-min", k_min, "--k-max", k_max, "--out", str(tmp_path / "t")])
    assert r.exit_code == 2 and r.stderr.startswith(f"Error: {message}")
    assert not (tmp_path / "t").exists()


def test_k_chart_labels_and_values():
    table = pd.DataFrame({"k": [2, 3, 4], "silhouette": [0.3, 0.4, 0.2], "stability": [1.0, 0.95, 0.7]})
    ax = k_scores(table, 3)
    assert ax.get_title() == "Choosing the number of segments"
    assert ax.get_xlabel() == "number of segments k"
    lines = ax.get_lines()
    assert list(lines[0].get_ydata()) == [0.3, 0.4, 0.2] and list(lines[2].get_xdata()) == [3, 3]


def test_describe_draws_sizes_and_traits(demo_book, tmp_path):
    out = tmp_path / "desc"
    r = runner.invoke(app, ["segments", "describe", "--as-of", "2026-11-30", "--accounts",
                            str(demo_book / "accounts.csv"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    for name in ("segment_sizes.png", "segment_traits.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_segment_charts_labels_and_values():
    from reactivate.outputs.charts import segment_sizes, trait_heatmap

    seg = pd.DataFrame({"segment_id": ["S01", "S02"], "segment_name": ["Young", "Older"], "rank": [2, 1],
                        "size": [30, 10]})
    ax = segment_sizes(seg)
    assert ax.get_title() == "Segment sizes (top: rank 1)"
    assert [p.get_width() for p in ax.patches] == [30, 10]
    traits = pd.DataFrame({"age": [-1.0, 1.0], "balance": [0.5, -0.5]}, index=["S01", "S02"])
    ax = trait_heatmap(traits, seg.set_index("segment_id")["segment_name"])
    assert ax.get_title() == "What sets each segment apart"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["S01 Young", "S02 Older"]
    assert ax.images[0].get_array().tolist() == [[-1.0, 0.5], [1.0, -0.5]]
