"""On the demo bank the ranking recovers the ground truth (``reactivate demo`` prints both figures)."""

from __future__ import annotations

import pandas as pd


def test_customer_auc_against_the_truth_and_the_segment_ranking(demo_book, demo_run):
    from reactivate.demo.truth import check_against_truth

    run, _ = demo_run
    check = check_against_truth(run.scores.reset_index(), pd.read_csv(demo_book / "truth.csv"))
    # outcomes drawn from the true propensity; the truth itself reaches about 0.83 on such draws
    assert check["auc"] >= 0.80, check
    assert check["segment_spearman"] >= 0.9 and check["segments"] >= 5, check
