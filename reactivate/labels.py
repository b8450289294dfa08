"""Per-customer text built from a few distinct keys, without formatting a million strings.

A reason such as "deposit matures 2026-12-24" depends only on (event, date),
which take a few hundred distinct values even in a book of millions. We
factorize the keys, format each distinct combination once and return a
Categorical: cheap to carry, sort and write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd


def text_from_keys(keys: Sequence[np.ndarray | pd.Series], render: Callable[..., str]) -> pd.Categorical:
    """``render(*key_values)`` for every row, formatted once per distinct combination of keys."""
    codes, uniques = [], []
    for key in keys:
        c, u = pd.factorize(np.asarray(key), use_na_sentinel=False)
        codes.append(c.astype(np.int64))
        uniques.append(np.asarray(u, dtype=object))
    dims = tuple(max(len(u), 1) for u in uniques)
    combined = np.ravel_multi_index(codes, dims) if codes else np.zeros(0, dtype=np.int64)
    combo_codes, combos = pd.factorize(combined)
    parts = np.unravel_index(np.asarray(combos, dtype=np.int64), dims)
    texts = [render(*(u[p[i]] for u, p in zip(uniques, parts, strict=True))) for i in range(len(combos))]
    cats, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(inverse[combo_codes] if len(combos) else combo_codes, categories=cats)
