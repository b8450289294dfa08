"""Segmentation: carve-outs first, then k-means on scaled features, then readable profiles.

:class:`Segmenter` is a scikit-learn-style estimator (``fit`` / ``predict``,
``random_state``, fitted attributes ending in ``_``). On large books it fits
on a random sample (``sample_size``) and assigns everyone: k-means centroids
from a 200k sample land within a percent or two of the full fit's inertia at
a fraction of the time. Clusters are numbered by size (largest first) so the
numbering does not depend on k-means' internal order.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.metrics import (
    adjusted_rand_score,
    davies_bouldin_score,
    pairwise_distances_chunked,
    silhouette_score,
)
from threadpoolctl import threadpool_limits

from reactivate.data.engine import give_back_memory
from reactivate.dormancy.features import CATALOGUE
from reactivate.errors import ConfigError, NotFittedError
from reactivate.segmentation.spec import MIN_SEGMENT_SIZE, FeatureSpec, SegmentSpec, parse_condition

#: tenure separates customers only when their first activities spread over at least this share of the
#: history the book shows (the longest tenure): a cohort that all joined within one quarter of a
#: year-and-a-half log is neither "New" nor "Long-standing"
MIN_TENURE_SPREAD = 0.25
#: silhouette is computed on a fixed-size sample: exact silhouette is O(n^2)
SILHOUETTE_SAMPLE = 4000
#: k is chosen on a smaller sample than the final fit
SELECTION_SAMPLE = 20_000
#: predict works through the customers in blocks of this many rows
PREDICT_CHUNK = 500_000
#: a Gaussian mixture is fitted on at most this many customers (EM is slower than k-means)
GMM_SAMPLE = 100_000
#: fewer customers than this (after the carve-outs) are one segment, not clustered
MIN_TO_CLUSTER = 20
#: bootstrap refits per k for the stability score
BOOTSTRAPS = 3
#: a k is stable when refits on bootstrap resamples agree this much (mean ARI)
STABLE_ARI = 0.9
#: ... and separated when its silhouette is within this of the best k's
SILHOUETTE_TOLERANCE = 0.05


class SegmenterNotFitted(NotFittedError, SkNotFittedError):
    """Our not-fitted error that scikit-learn's tools also recognise."""


class Segmenter(ClusterMixin, TransformerMixin, BaseEstimator):
    """K-means on transformed, capped, standardized and weighted features.

    Parameters
    ----------
    features : dict of name -> FeatureSpec, or None for the default spec's
    n_clusters : int, 0 to choose in ``k_range`` by silhouette
    k_range : (int, int); its upper end is lowered to one cluster per ``MIN_SEGMENT_SIZE`` rows fitted
        (with a note in ``k_reason_``)
    sample_size : int, fit on at most this many rows
    n_init : int
    random_state : int
    algorithm : "kmeans", or "gmm" (a Gaussian mixture started from the k-means centroids;
        k is chosen the same way)
    covariance_type : "diag" or "full", for "gmm"
    """

    def __init__(self, features=None, n_clusters=0, k_range=(3, 8), sample_size=200_000, n_init=4,
                 random_state=0, algorithm="kmeans", covariance_type="diag"):
        self.features = features
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.sample_size = sample_size
        self.n_init = n_init
        self.random_state = random_state
        self.algorithm = algorithm
        self.covariance_type = covariance_type

    # -- preparation -----------------------------------------------------------------
    def _specs(self, columns=None) -> dict[str, FeatureSpec]:
        """The feature specs; without ``features`` every column is used as it is (scikit-learn style)."""
        if self.features is not None:
            return self.features
        if columns is None:
            columns = self.columns_in_
        return {str(c): FeatureSpec(cap_quantile=1.0) for c in columns}

    def _raw(self, X, fitting: bool = False) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            F = X
        else:
            if hasattr(X, "toarray") or hasattr(X, "tocsr"):
                raise TypeError("sparse input is not supported; pass a dense array or a DataFrame")
            arr = np.asarray(X)
            if arr.dtype.kind == "c":
                raise ValueError("Complex data not supported")
            arr = arr.astype(float)
            if arr.ndim != 2:
                raise ValueError(f"Expected 2D array, got {arr.ndim}D array instead (shape {arr.shape}). "
                                 "Reshape your data: array.reshape(-1, 1) for a single feature.")
            if self.features is not None:
                names = [n for n, s in self.features.items() if s.weight > 0]
            elif fitting:
                names = [f"x{i}" for i in range(arr.shape[1])]
            else:
                names = list(self.columns_in_)
            if arr.shape[1] != len(names):
                raise ValueError(f"X has {arr.shape[1]} features, but Segmenter is expecting {len(names)} features "
                                 f"as input ({', '.join(names[:12])}).")
            if not np.isfinite(arr).all():
                raise ValueError("Input X contains infinity or NaN; pass a DataFrame to impute missing values")
            F = pd.DataFrame(arr, columns=names)
        if fitting:
            self.columns_in_ = [str(c) for c in F.columns]
        return F

    def _transform_raw(self, F: pd.DataFrame, cols) -> np.ndarray:
        """Impute, cap and transform each feature, in place, column by column (column-major)."""
        specs = self._specs()
        out = np.empty((len(F), len(cols)), order="F")
        for j, name in enumerate(cols):  # one pass per feature
            v = out[:, j]
            v[:] = F[name].to_numpy(dtype=float)
            np.copyto(v, self.medians_[j], where=np.isnan(v))
            np.minimum(v, self.caps_[j], out=v)
            t = specs[name].transform
            if t == "log":
                np.log1p(np.maximum(v, 0, out=v), out=v)
            elif t == "sqrt":
                np.sqrt(np.maximum(v, 0, out=v), out=v)
        return out

    def fit(self, X, y=None, label_rows: bool = True):
        """Fit on a sample of ``X``'s rows; ``label_rows``: also assign every row (``labels_``; else None, for a
        caller that assigns them elsewhere, e.g. on Spark's executors)."""
        # one thread: on 2 cores, OpenMP and BLAS threads fighting made k-means 10-20x slower
        with threadpool_limits(limits=1):
            return self._fit(X, label_rows)

    def _fit(self, X, label_rows: bool = True):
        F = self._raw(X, fitting=True)
        n = len(F)
        if n < 2:
            raise ValueError(f"n_samples={n} should be >= 2.")
        rng = np.random.default_rng(self.random_state)
        specs = self._specs()
        idx = np.sort(rng.choice(n, size=min(n, self.sample_size), replace=False))
        S = F.iloc[idx]
        # drop features that are missing or do not vary in the fitting sample: they cannot separate anyone
        present = [c for c, s in specs.items() if s.weight > 0 and c in F.columns]
        cols = []
        for c in present:  # one pass per feature
            v = S[c].to_numpy(dtype=float)
            if np.isfinite(v).any() and np.nanmin(v) < np.nanmax(v):
                cols.append(c)
        if not cols:
            cols = present[:1]
        self.feature_names_in_ = np.array(cols, dtype=object)
        self.n_features_in_ = len(cols)
        med = S[cols].median().fillna(0.0).to_numpy()
        self.medians_ = med
        caps = []
        for c in cols:
            q = specs[c].cap_quantile
            caps.append(np.inf if q >= 1 else float(np.nanquantile(S[c].to_numpy(dtype=float), q)))
        self.caps_ = np.array(caps)
        T = self._transform_raw(S, cols)
        self.mean_ = T.mean(axis=0)
        scale = T.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        self.weights_ = np.array([specs[c].weight for c in cols])
        Z = (T - self.mean_) / self.scale_ * self.weights_
        # at most one segment per MIN_SEGMENT_SIZE customers: a k_max beyond the data is lowered, with a note
        data_cap = max(2, len(Z) // MIN_SEGMENT_SIZE)
        k_hi = min(self.k_range[1], len(Z) - 1, data_cap)
        # k and the starting centroids come from a smaller sample (many restarts are cheap
        # there); one warm-started pass over the whole fitting sample then refines them
        sel = Z[np.sort(rng.choice(len(Z), size=min(len(Z), SELECTION_SAMPLE), replace=False))]
        n_distinct = len(np.unique(np.round(sel, 12), axis=0))
        if n_distinct < 3 or k_hi < 2:  # nothing to choose between: as many clusters as distinct points
            k = max(1, min(n_distinct, self.n_clusters or 2))
            self.k_scores_ = {}
            self.k_reason_ = f"k={k}: only {n_distinct} distinct customer profiles"
            start = KMeans(n_clusters=k, n_init=1, random_state=self.random_state).fit(sel)
        elif self.n_clusters:
            k = min(self.n_clusters, n_distinct)
            self.k_scores_ = {}
            self.k_reason_ = (f"k={k}: fixed in the spec" if k == self.n_clusters else
                              f"k={k}: the spec's k={self.n_clusters}, lowered to the {n_distinct} distinct profiles")
            start = KMeans(n_clusters=k, n_init=2 * self.n_init, random_state=self.random_state).fit(sel)
        else:
            k_hi = min(k_hi, n_distinct - 1)
            k, self.k_scores_, start = self._choose_k(sel, rng, max(2, min(self.k_range[0], k_hi)), max(2, k_hi))
            if self.k_range[1] > data_cap:
                self.k_reason_ += (f"; k_max={self.k_range[1]} lowered to {data_cap}: {len(Z):,} customers clustered, "
                                   f"at least {MIN_SEGMENT_SIZE} per segment")
        km = KMeans(n_clusters=k, init=start.cluster_centers_, n_init=1).fit(Z)
        centers, labels = km.cluster_centers_, km.labels_
        if self.algorithm == "gmm":
            from sklearn.mixture import GaussianMixture

            sub = Z[np.sort(rng.choice(len(Z), size=min(len(Z), GMM_SAMPLE), replace=False))]
            gm = GaussianMixture(n_components=k, covariance_type=self.covariance_type, means_init=centers,
                                 random_state=self.random_state, reg_covar=1e-4).fit(sub)
            centers, labels = gm.means_, gm.predict(Z)
        elif self.algorithm != "kmeans":
            raise ValueError(f"algorithm={self.algorithm!r} should be 'kmeans' or 'gmm'")
        # number clusters by size, largest first (ties by centroid coordinates)
        sizes = np.bincount(labels, minlength=k)
        order = np.lexsort((*centers.T[::-1], -sizes))
        self.cluster_centers_ = centers[order]
        if self.algorithm == "gmm":
            self.mixture_weights_ = gm.weights_[order]
            prec = gm.precisions_cholesky_
            self.precisions_cholesky_ = prec[order]
        self.n_clusters_ = k
        self.inertia_ = float(km.inertia_)
        self.labels_ = self.predict(F) if label_rows else None
        return self

    def _choose_k(self, Z, rng, k_lo, k_hi):
        """The largest k that is both stable and well separated.

        For each k, on the selection sample (at most ``SELECTION_SAMPLE`` customers):
        silhouette on a fixed-size subsample (exact silhouette is quadratic), stability
        as the mean adjusted Rand index between the fit and k-means refits on bootstrap
        resamples, Davies–Bouldin, inertia per customer and the smallest segment's
        share (the last three are reported, not used in the choice). The
        choice is the largest k whose stability is at least ``STABLE_ARI`` and
        whose silhouette is within ``SILHOUETTE_TOLERANCE`` of the best: silhouette
        alone favours a few coarse groups, while analysts need every stable
        distinction the data supports, but not a group split in two.
        """
        sub = Z
        sil_idx = np.sort(rng.choice(len(sub), size=min(len(sub), SILHOUETTE_SAMPLE), replace=False))
        probe = sub[sil_idx]
        # the probe's distances once, for every k (silhouette_score would compute them again per k); the
        # same chunks as silhouette_score's own, so the scores are the same to the last bit
        chunks = list(pairwise_distances_chunked(probe))
        dist = chunks[0] if len(chunks) == 1 else np.vstack(chunks)
        ks = range(k_lo, k_hi + 1)
        # the bootstrap resamples drawn first, in the order the k's use them, so that the k's can be
        # scored on two threads with the same draws as one after the other
        boots = {k: [rng.integers(0, len(sub), len(sub)) for _ in range(BOOTSTRAPS)] for k in ks}
        with ThreadPoolExecutor(2, thread_name_prefix="choose_k") as pool:
            done = list(pool.map(lambda k: self._score_k(k, sub, sil_idx, dist, boots[k]), ks))
        scores = {k: sc for k, (sc, _) in zip(ks, done, strict=True)}
        fits = {k: km for k, (_, km) in zip(ks, done, strict=True)}
        best_sil = max(v["silhouette"] for v in scores.values())
        good = [k for k, v in scores.items()
                if v["stability"] >= STABLE_ARI and v["silhouette"] >= best_sil - SILHOUETTE_TOLERANCE]
        if good:
            k = max(good)
            self.k_reason_ = (f"k={k}: the largest k with stability >= {STABLE_ARI} (bootstrap ARI "
                              f"{scores[k]['stability']:.2f}) and a silhouette ({scores[k]['silhouette']:.2f}) "
                              f"within {SILHOUETTE_TOLERANCE} of the best ({best_sil:.2f})")
        else:
            k = max(scores, key=lambda kk: (scores[kk]["silhouette"], -kk))
            self.k_reason_ = f"k={k}: no k was stable; the best silhouette ({best_sil:.2f})"
        give_back_memory()  # the k-scoring threads' heaps (the distances): the final fit needs the room
        return k, scores, fits[k]

    def _score_k(self, k, sub, sil_idx, dist, boots):
        """The scores of one k (see :meth:`_choose_k`) and its fit; ``dist`` holds the distances between
        the silhouette probe's rows, ``boots`` the bootstrap resamples (rows of ``sub``)."""
        with threadpool_limits(limits=1):  # per thread: OpenMP's limit is the calling thread's
            km = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state).fit(sub)
            lab = km.labels_[sil_idx]
            sil = float(silhouette_score(dist, lab, metric="precomputed")) if 1 < len(set(lab)) < len(dist) else -1.0
            # refits on bootstrap resamples, started from this fit's centroids: what moves is
            # due to the data, not to k-means landing in another local optimum
            aris = []
            for rows in boots:
                refit = KMeans(n_clusters=k, init=km.cluster_centers_, n_init=1).fit(sub[rows])
                aris.append(adjusted_rand_score(lab, refit.predict(sub[sil_idx])))
            return {
                "silhouette": round(sil, 4),
                "stability": round(float(np.mean(aris)), 4),
                "davies_bouldin": round(float(davies_bouldin_score(sub, km.labels_)), 4)
                if len(set(km.labels_)) > 1 else float("nan"),
                "inertia_per_customer": round(float(km.inertia_) / len(sub), 4),
                "smallest_share": round(float(np.bincount(km.labels_, minlength=k).min()) / len(sub), 4),
            }, km

    def transform(self, X) -> np.ndarray:
        """Scaled, weighted feature matrix (the space the centroids live in)."""
        self.check_fitted()
        F = self._raw(X)
        cols = list(self.feature_names_in_)
        missing = [c for c in cols if c not in F.columns]
        if missing:
            raise ValueError(f"X lacks the fitted features: {', '.join(missing)}")
        Z = self._transform_raw(F, cols)  # a new array: scaled in place, without a temporary per step
        Z -= self.mean_
        Z /= self.scale_
        Z *= self.weights_
        return Z

    def predict(self, X) -> np.ndarray:
        self.check_fitted()
        F = self._raw(X)
        if len(F) > PREDICT_CHUNK:  # in blocks: bounded memory, warm caches
            return np.concatenate([self._predict(F.iloc[a:a + PREDICT_CHUNK])
                                   for a in range(0, len(F), PREDICT_CHUNK)])
        return self._predict(F)

    def _predict(self, X) -> np.ndarray:
        if self.algorithm == "gmm":
            return self._mixture_log_density(self.transform(X)).argmax(axis=1)
        self.check_fitted()
        F = self._raw(X)
        T = self._transform_raw(F, list(self.feature_names_in_))
        # nearest centroid c of z = (t - mean) / scale * weight: the largest z.c - |c|^2 / 2, which is
        # affine in t, so one matrix product on the transformed features does it
        a = self.weights_ / self.scale_
        C = self.cluster_centers_
        W = a[:, None] * C.T
        const = -(self.mean_ * a) @ C.T - 0.5 * (C**2).sum(axis=1)
        return (T @ W + const).argmax(axis=1)

    def _mixture_log_density(self, Z: np.ndarray) -> np.ndarray:
        """log(weight) + log N(z | mean, covariance) per component, up to a shared constant."""
        w, mu, pc = self.mixture_weights_, self.cluster_centers_, self.precisions_cholesky_
        out = np.empty((len(Z), len(w)))
        for j in range(len(w)):  # one pass per component, vectorised over customers
            if pc.ndim == 2:  # diag: pc[j] holds 1/sigma per feature
                y = (Z - mu[j]) * pc[j]
                logdet = np.log(pc[j]).sum()
            else:  # full: pc[j] is the Cholesky factor of the precision matrix
                y = (Z - mu[j]) @ pc[j]
                logdet = np.log(np.diag(pc[j])).sum()
            out[:, j] = np.log(w[j]) + logdet - 0.5 * (y**2).sum(axis=1)
        return out

    def check_fitted(self) -> None:
        """Raise :class:`SegmenterNotFitted` unless :meth:`fit` has run."""
        if not hasattr(self, "cluster_centers_"):
            raise SegmenterNotFitted("this Segmenter is not fitted yet; call fit first")

    def standardized_centroids(self, X, labels) -> pd.DataFrame:
        """Per-cluster mean of the standardized (unweighted) features: the z-scores names use."""
        Z = self.transform(X)
        Z /= self.weights_  # in place: one (n, features) array
        df = pd.DataFrame(Z, columns=self.feature_names_in_, copy=False)
        return df.groupby(labels, observed=True).mean()


# --------------------------------------------------------------------------- carve-outs


def carve_out_mask(customers: pd.DataFrame, when: str, where: str) -> np.ndarray:
    """Boolean mask of the customers a carve-out condition selects."""
    mask = np.ones(len(customers), dtype=bool)
    for neg, col, op, val in parse_condition(when, where):
        if col not in customers.columns:
            raise ConfigError(f"{where}: unknown column {col!r} in the condition")
        s = customers[col]
        if op is None:
            m = s.fillna(False).astype(bool).to_numpy()
        else:
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                m = {"<": x < val, "<=": x <= val, ">": x > val, ">=": x >= val, "==": x == val,
                     "!=": x != val}[op]
            m = np.where(np.isnan(x), False, m)
        mask &= ~m if neg else m
    return mask


def usable_features(features: pd.DataFrame, spec: SegmentSpec) -> tuple[dict[str, FeatureSpec], dict[str, str]]:
    """The spec's features that can tell ``features``' customers apart, and why each other one is left out.

    Left out (before clustering, so that no segment is named after them): a feature the book does not
    have (absent, or missing for every customer: no birth dates, no balances...), one with the same
    value for everyone (reach when the book has no channel or consent columns, no RM column...), and
    tenure when the customers' first activities (5th to 95th percentile) lie closer together than
    :data:`MIN_TENURE_SPREAD` of the longest tenure among them. Features of weight 0 are not used and
    not reported.

    Returns
    -------
    usable : feature name -> FeatureSpec, in the spec's order
    left_out : feature name -> why (a few words)
    """
    usable, left_out = {}, {}
    for name, fs in spec.features.items():  # a dozen features
        if fs.weight <= 0:
            continue
        v = features[name].to_numpy(dtype=float) if name in features.columns else np.full(len(features), np.nan)
        v = v[np.isfinite(v)]
        if len(v) == 0:
            left_out[name] = "not in the book"
        elif v.min() == v.max():
            left_out[name] = "the same for every customer"
        elif name == "tenure_years" and np.subtract(*np.quantile(v, [0.95, 0.05])) < MIN_TENURE_SPREAD * v.max():
            days = np.subtract(*np.quantile(v, [0.95, 0.05])) * 365.25
            left_out[name] = (f"first activities within {days:.0f} days of each other, under "
                              f"{MIN_TENURE_SPREAD:.0%} of the {v.max() * 365.25:.0f} days the book shows")
        else:
            usable[name] = fs
    return usable, left_out


def left_out_note(left_out: dict[str, str]) -> list[str]:
    """The run's note on the features left out of the segmentation (:func:`usable_features`), or none."""
    if not left_out:
        return []
    by_why: dict[str, list[str]] = {}
    for name, why in left_out.items():
        by_why.setdefault(why, []).append(name)
    return ["segments: not clustered on " + "; ".join(f"{', '.join(names)} ({why})" for why, names in by_why.items())]


def segment_customers(customers: pd.DataFrame, features: pd.DataFrame, spec: SegmentSpec, assign=None, draw=None):
    """Assign every customer to exactly one segment.

    ``assign(model, segment_ids)``, when given, assigns every customer by the fitted model instead of the fit
    (:func:`assign_segments`' answer: :meth:`~reactivate.segmentation.assign_spark.SegmentsOnSpark.assign` on
    Spark's executors); the model is then fitted on its sample only. ``draw(free, size, seed)``, when given,
    draws that sample where the rows lie (the positions of ``size`` of the ``free`` rows:
    :meth:`~reactivate.segmentation.assign_spark.SegmentsOnSpark.draw` on Spark) whenever more than
    ``algorithm.sample_size`` customers are clustered; the features that can tell customers apart are then
    judged on the sample, the one set of rows the fit sees.

    Carve-outs are applied first, in spec order (a customer goes to the first
    that selects it); the rest are clustered on the features that can tell them
    apart (:func:`usable_features`; the model's ``left_out_`` says why the others
    were left out).

    Returns
    -------
    segment_id : pd.Categorical, one per customer; categories are the carve-out ids
        in spec order, then S01, S02, ... by cluster size
    model : the fitted Segmenter (None when every customer was carved out, or no feature varies)
    """
    if draw is not None and assign is None:
        raise ValueError("segment_customers: a sample drawn elsewhere (draw) needs the assignment made there "
                         "too (assign)")
    codes, free = _carve(customers, spec)
    names = [co.id for co in spec.carve_outs]
    model = None
    n_free = int(free.sum())
    a = spec.algorithm
    if draw is not None and n_free > a.sample_size:  # the rows the fit sees, drawn where they lie
        clustered = features.iloc[draw(free, a.sample_size, a.random_state)]
    else:
        clustered = features[free]  # one copy of the rows clustered, not one per use
    usable, left_out = usable_features(clustered, spec) if n_free >= MIN_TO_CLUSTER else ({}, {})
    if usable:
        check_k(a.k, n_free, spec.source)
        model = Segmenter(
            features=usable,
            n_clusters=a.k,
            k_range=(a.k_min, a.k_max),
            sample_size=a.sample_size,
            n_init=a.n_init,
            random_state=a.random_state,
            algorithm=a.name,
            covariance_type=a.covariance_type,
        ).fit(clustered, label_rows=assign is None)
        model.left_out_ = left_out
        width = max(2, len(str(model.n_clusters_)))
        first = len(names)
        names += [f"S{i + 1:0{width}d}" for i in range(model.n_clusters_)]
        if assign is not None:
            return assign(model, names), model
        codes[free] = first + model.labels_
    elif free.any():
        codes[free] = len(names)
        names.append("S01")
    return pd.Categorical.from_codes(codes, categories=names), model


def check_k(k: int, n_clustered: int, where: str) -> None:
    """A fixed number of segments ``k`` (``algorithm.k``) must leave at least ``MIN_SEGMENT_SIZE`` customers
    per segment on average; otherwise a :class:`ConfigError` naming the key, the value and the bound."""
    most = n_clustered // MIN_SEGMENT_SIZE
    if k > most:
        raise ConfigError(f"{where}: algorithm.k={k} is more segments than the {n_clustered:,} customers left to "
                          f"cluster after the carve-outs allow (at most {most}: {MIN_SEGMENT_SIZE} customers "
                          "per segment); lower k, or set k = 0 to choose it")


def carve_out_free(customers: pd.DataFrame, spec: SegmentSpec) -> np.ndarray:
    """True for the customers no carve-out takes: the ones that are clustered."""
    return _carve(customers, spec)[1]


def _carve(customers: pd.DataFrame, spec: SegmentSpec) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the carve-outs (in spec order, first match wins; -1 elsewhere) and the mask of the rest."""
    n = len(customers)
    codes = np.full(n, -1, dtype=np.int64)
    free = np.ones(n, dtype=bool)
    for j, co in enumerate(spec.carve_outs):
        m = carve_out_mask(customers, co.when, f"{spec.source}: carve_outs.{co.id}.when") & free
        codes[m] = j
        free &= ~m
    return codes, free


def assign_segments(customers: pd.DataFrame, features: pd.DataFrame, spec: SegmentSpec, model: Segmenter,
                    segment_ids: list[str]) -> pd.Categorical:
    """Assign customers to the segments of an already fitted model (e.g. a saved one).

    Carve-outs of ``spec`` first, then ``model.predict`` for the rest, so the
    ids mean the same as when the model was fitted.

    Parameters
    ----------
    segment_ids : the carve-out ids in spec order, then one id per cluster
        (as :func:`segment_customers` made them)
    """
    codes, free = _carve(customers, spec)
    if free.any():
        codes[free] = len(spec.carve_outs) + model.predict(features[free])
    return pd.Categorical.from_codes(codes, categories=list(segment_ids))


def describe_segments(seg: pd.Categorical, features: pd.DataFrame, model: Segmenter | None,
                      spec: SegmentSpec) -> dict[str, dict]:
    """Name and profile text per segment id, from what sets each segment apart."""
    out: dict[str, dict] = {}
    for co in spec.carve_outs:
        out[co.id] = {"name": co.name or co.id, "apart": f"rule: {co.when}", "note": co.note, "kind": "carve-out"}
    carved = {co.id for co in spec.carve_outs}
    clustered = ~np.isin(np.asarray(seg.categories, dtype=object), list(carved))[seg.codes]
    if model is not None and clustered.any():
        Fz = features[clustered]
        # the segment ids as a categorical of the clustered ids in text order (the order a group-by on the
        # texts gives), not a text per customer
        ids = np.asarray(seg.categories, dtype=object)
        present = np.unique(seg.codes[clustered])
        by_text = present[np.argsort(ids[present].astype(str), kind="stable")]
        remap = np.full(len(ids), -1, dtype=np.int64)
        remap[by_text] = np.arange(len(by_text))
        labels = pd.Categorical.from_codes(remap[seg.codes[clustered]], categories=ids[by_text])
        cent = model.standardized_centroids(Fz, labels)
        used: dict[str, int] = {}
        for sid, row in cent.iterrows():  # one row per segment, not per customer
            top = row.reindex(row.abs().sort_values(ascending=False).index)
            words, apart = [], []
            for feat, z in top.items():
                if abs(z) < 0.5 or len(words) == 3:
                    break
                cat = CATALOGUE[feat]
                words.append(cat.high if z > 0 else cat.low)
                apart.append(f"{feat} {z:+.1f}σ")
            name = " · ".join(words) if words else "Typical dormant"
            used[name] = used.get(name, 0) + 1
            if used[name] > 1:
                name = f"{name} ({used[name]})"
            out[sid] = {"name": name, "apart": ", ".join(apart) or "close to the average", "note": "",
                        "kind": "cluster"}
    elif clustered.any():
        apart = (f"too few customers to cluster (under {MIN_TO_CLUSTER})" if clustered.sum() < MIN_TO_CLUSTER
                 else "no feature tells them apart")
        out["S01"] = {"name": "All dormant", "apart": apart, "note": "", "kind": "cluster"}
    for sid, ov in spec.overrides.items():
        if sid in out:
            if ov.name:
                out[sid]["name"] = ov.name
            if ov.note:
                out[sid]["note"] = ov.note
    return out
