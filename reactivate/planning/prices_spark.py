"""The optimizer's price iteration on Spark: each pass over the candidates made where Spark runs.

The Lagrangian method of :func:`~reactivate.planning.optimizer.allocate` learns a price for every capacity
(channel x week, RM x week); each of its iterations is one pass over the candidates at the current prices,
:func:`~reactivate.planning.optimizer.price_step`. :class:`SparkPrices` makes that pass a Spark job:

- the candidates (their values per channel, release week and RM) become a cached DataFrame, once per
  allocation;
- each pass broadcasts the prices, runs ``price_step`` (the driver's own function, a numpy pass) on each
  partition's pandas batches (``mapInPandas``), and sums the loads with ``groupBy`` per (channel, week)
  and (RM, week): counts, the same whatever the partitions;
- the driver moves the prices by the optimizer's own rule
  (:func:`~reactivate.planning.optimizer.dual_prices`) and, at the end, takes the dual bound from one more
  pass in double precision.

The feasibility repair, the greedy fill and the improvement stay on the driver
(:func:`~reactivate.planning.optimizer.allocate`), so every hard rule (consent, holdout, contact caps,
channel and RM capacities) holds exactly as on one machine. Only the prices (a few thousand numbers) go
out and the loads come back.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reactivate.config.campaign import SparkSettings
from reactivate.data.spark_engine import spark_session
from reactivate.planning.optimizer import Loads, price_step, shifted_values, stable_argsort

#: the rows a pass returns: kind 0 = channel ``a`` in week ``b``, 1 = RM ``a`` in week ``b`` (``n`` asked);
#: kind 2 = the score of partition ``a``
LOAD_SCHEMA = "kind int, a int, b int, n long, score double"
#: candidates per partition of the cached frame (with at least the session's default parallelism)
ROWS_PER_PARTITION = 250_000


class SparkPrices:
    """The ``price_pass`` of :func:`~reactivate.planning.optimizer.allocate` with the passes on Spark.

    Parameters
    ----------
    settings : the ``[engine.spark]`` settings of the session (:func:`~reactivate.data.spark_engine.spark_session`).
    spark : a session to use instead (tests).

    Each allocation that runs the price iteration calls it with the candidates' rows and gets a
    :class:`SparkPass`; :attr:`passes` counts the passes made on Spark.
    """

    def __init__(self, settings: SparkSettings | None = None, spark=None):
        self.settings = settings
        self.spark = spark
        self.passes = 0

    def __call__(self, u: np.ndarray, lo: np.ndarray, rm: np.ndarray, phone: int, delay_cost: float) -> SparkPass:
        if self.spark is None:
            self.spark = spark_session(self.settings)
        return SparkPass(self, u, lo, rm, phone, delay_cost)


class SparkPass:
    """The passes of one allocation: its candidates cached on Spark, a Spark job per pass.

    Called with the prices ``pc`` (C, H) and ``pr`` (R, H) (and ``exact=True`` for the double-precision
    bound), returns the :class:`~reactivate.planning.optimizer.Loads` of every candidate; :meth:`close`
    drops the cached candidates.
    """

    def __init__(self, owner: SparkPrices, u: np.ndarray, lo: np.ndarray, rm: np.ndarray, phone: int,
                 delay_cost: float):
        self.owner, self.phone, self.delay_cost = owner, phone, delay_cost
        self.channels = u.shape[1]
        self.frame = candidates_frame(owner.spark, u, lo, rm).cache()
        self.frame.count()  # cached now, once: every pass reads the cache

    def __call__(self, pc: np.ndarray, pr: np.ndarray, exact: bool = False) -> Loads:
        from pyspark.sql import functions as F

        pc, pr = np.asarray(pc, dtype=np.float64), np.asarray(pr, dtype=np.float64)
        prices = self.owner.spark.sparkContext.broadcast((pc, pr))
        try:
            rows = (self.frame.mapInPandas(partition_pass(prices, self.channels, self.phone, self.delay_cost, exact),
                                           schema=LOAD_SCHEMA)
                    .groupBy("kind", "a", "b").agg(F.sum("n").alias("n"), F.sum("score").alias("score"))
                    .toPandas())
        finally:
            prices.destroy()
        self.owner.passes += 1
        return loads_from_rows(rows, pc.shape, pr.shape)

    def close(self) -> None:
        self.frame.unpersist()


def candidates_frame(spark, u: np.ndarray, lo: np.ndarray, rm: np.ndarray, partitions: int | None = None):
    """The candidates as a Spark DataFrame: columns ``u0``.. (value per channel, ``-inf``: no option),
    ``lo`` (release week) and ``rm`` (RM code), in the given row order (release weeks ascending), in
    ``partitions`` contiguous partitions (default: a partition per :data:`ROWS_PER_PARTITION` candidates,
    at least the session's default parallelism)."""
    n, C = u.shape
    pdf = pd.DataFrame({f"u{j}": np.ascontiguousarray(u[:, j], dtype=np.float64) for j in range(C)})
    pdf["lo"] = np.asarray(lo, dtype=np.int32)
    pdf["rm"] = np.asarray(rm, dtype=np.int32)
    frame = spark.createDataFrame(pdf)  # one partition per Arrow batch, in order
    k = partitions or max(spark.sparkContext.defaultParallelism, -(-n // ROWS_PER_PARTITION))
    if frame.rdd.getNumPartitions() > k:
        frame = frame.coalesce(k)  # neighbouring partitions merged: no shuffle, the same rows every run
    return frame


def partition_pass(prices, channels: int, phone: int, delay_cost: float, exact: bool):
    """The function ``mapInPandas`` runs on each partition: its batches, joined, through
    :func:`partition_loads` at the broadcast ``prices`` (pc, pr)."""

    def run(batches):
        from pyspark import TaskContext

        parts = [b for b in batches if len(b)]
        if not parts:
            return
        pdf = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        pc, pr = prices.value
        ctx = TaskContext.get()
        yield partition_loads(pdf, pc, pr, channels, phone, delay_cost, exact,
                              0 if ctx is None else ctx.partitionId())

    return run


def partition_loads(pdf: pd.DataFrame, pc: np.ndarray, pr: np.ndarray, channels: int, phone: int,
                    delay_cost: float, exact: bool, part: int = 0) -> pd.DataFrame:
    """One partition's pass (:func:`~reactivate.planning.optimizer.price_step`) as rows of
    :data:`LOAD_SCHEMA`: its non-zero loads and its score (kind 2, ``a`` = ``part``)."""
    u = pdf[[f"u{j}" for j in range(channels)]].to_numpy(dtype=np.float64)
    lo = pdf["lo"].to_numpy(dtype=np.int64)
    rm = pdf["rm"].to_numpy(dtype=np.int64)
    if len(lo) > 1 and np.any(lo[1:] < lo[:-1]):  # the pass takes release weeks ascending
        o = stable_argsort(lo)
        u, lo, rm = u[o], lo[o], rm[o]
    ua = shifted_values(u, lo, delay_cost, np.float64 if exact else np.float32)
    loads = price_step(ua, lo, rm, pc, pr, phone, delay_cost)
    kinds, a, b, n = [], [], [], []
    for kind, load in ((0, loads.channel), (1, loads.rm)):
        at = np.flatnonzero(load.ravel())
        kinds.append(np.full(len(at), kind, dtype=np.int32))
        a.append((at // load.shape[1]).astype(np.int32))
        b.append((at % load.shape[1]).astype(np.int32))
        n.append(load.ravel()[at].astype(np.int64))
    kinds.append(np.array([2], dtype=np.int32))
    a.append(np.array([part], dtype=np.int32))
    b.append(np.zeros(1, dtype=np.int32))
    n.append(np.zeros(1, dtype=np.int64))
    score = np.zeros(sum(len(k) for k in kinds))
    score[-1] = loads.score
    return pd.DataFrame({"kind": np.concatenate(kinds), "a": np.concatenate(a), "b": np.concatenate(b),
                         "n": np.concatenate(n), "score": score})


def loads_from_rows(rows: pd.DataFrame, ch_shape: tuple[int, int], rm_shape: tuple[int, int]) -> Loads:
    """The :class:`~reactivate.planning.optimizer.Loads` of the rows of every partition (summed per key):
    the counts placed, the partitions' scores added exactly rounded (``math.fsum``: in any order, the
    same sum)."""
    kind = rows["kind"].to_numpy(dtype=np.int64)
    a = rows["a"].to_numpy(dtype=np.int64)
    b = rows["b"].to_numpy(dtype=np.int64)
    n = rows["n"].to_numpy(dtype=np.int64)
    channel = np.zeros(ch_shape, dtype=np.int64)
    rm = np.zeros(rm_shape, dtype=np.int64)
    for k, out in ((0, channel), (1, rm)):
        sel = kind == k
        np.add.at(out, (a[sel], b[sel]), n[sel])
    return Loads(math.fsum(rows["score"].to_numpy(dtype=np.float64)[kind == 2].tolist()), channel, rm)
