"""The Segmenter passes scikit-learn's estimator checks (fixed k, k chosen in a range, Gaussian mixture)."""

from __future__ import annotations

import warnings

from sklearn.utils.estimator_checks import parametrize_with_checks

from reactivate.segmentation.cluster import Segmenter


@parametrize_with_checks([Segmenter(n_clusters=3, k_range=(2, 4)), Segmenter(k_range=(2, 4)),
                          Segmenter(n_clusters=3, algorithm="gmm")])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
