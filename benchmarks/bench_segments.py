#!/usr/bin/env python3
"""Benchmark segmentation: fit + assign, and the k scan of `segments tune`, on a demo book.

    python benchmarks/bench_segments.py [--customers 1000000]

Uses the Parquet book cached by bench_plan.py (made if missing). Reports the
time to fit on the dormant targets with a fixed k, with k chosen in 3..8 (the
default), and the tune scan over k = 2..12, excluding loading the book.
"""

from __future__ import annotations

import argparse
import time

from bench_plan import AS_OF, ensure_book


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--synthetic", type=int, nargs="*", metavar="N",
                    help="also time fit + assign on N synthetic customers x 15 features (e.g. 1000000 10000000)")
    args = ap.parse_args()
    if args.synthetic:
        synthetic(args.synthetic)
    book = ensure_book(args.customers, "parquet")

    from reactivate.config.campaign import load_campaign
    from reactivate.jobs.pipeline import load_targets
    from reactivate.segmentation.cluster import Segmenter
    from reactivate.segmentation.spec import SegmentSpec

    t = load_targets(as_of=AS_OF, accounts=book / "accounts.parquet", transactions=book / "transactions.parquet",
                     contacts=book / "contacts.parquet", spec=load_campaign(None))
    X = t.features
    feats = SegmentSpec().features
    print(f"{len(X):,} dormant targets x {len(feats)} features")
    for label, kwargs in (("fit + assign, k=6 fixed", {"n_clusters": 6}),
                          ("fit + assign, k chosen in 3..8", {"k_range": (3, 8)}),
                          ("tune scan, k = 2..12", {"k_range": (2, 12)})):
        start = time.perf_counter()
        model = Segmenter(features=feats, **kwargs).fit(X)
        print(f"  {label}: {time.perf_counter() - start:.2f} s (k={model.n_clusters_})")


def synthetic(sizes: list[int]) -> None:
    """Fit + assign on n customers x 15 features drawn from six Gaussian groups."""
    import numpy as np
    import pandas as pd

    from reactivate.segmentation.cluster import Segmenter
    from reactivate.segmentation.spec import FeatureSpec

    rng = np.random.default_rng(0)
    centers = rng.normal(0, 3, size=(6, 15))
    for n in sizes:
        X = pd.DataFrame(centers[rng.integers(0, 6, n)] + rng.normal(0, 1, (n, 15)),
                         columns=[f"f{i}" for i in range(15)])
        feats = {c: FeatureSpec() for c in X.columns}
        start = time.perf_counter()
        model = Segmenter(features=feats, n_clusters=6).fit(X)
        print(f"  synthetic {n:,} x 15, fit + assign, k=6 fixed: {time.perf_counter() - start:.2f} s "
              f"(k={model.n_clusters_})")


if __name__ == "__main__":
    main()
