"""The first touch of every customer: which week and channel, by :mod:`reactivate.planning.optimizer`.

The optimizer maximizes value minus contact cost (and a small cost per week of waiting) under every
channel's and every RM's weekly capacity. Care first: customers in hardship are placed first; then
the pilot; then everyone else by priority (:func:`priority_order`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reactivate.config.campaign import CampaignSpec
from reactivate.planning.capacity import Capacity
from reactivate.planning.optimizer import Allocation, allocate, lexsort_ints
from reactivate.planning.prices_spark import SparkPrices


@dataclass(frozen=True)
class Touches:
    """Touches as parallel arrays: the customer's row, the week, the channel and the journey step (0-based)."""

    rows: np.ndarray
    week: np.ndarray
    channel: np.ndarray
    step: np.ndarray

    @classmethod
    def concat(cls, parts: list[Touches]) -> Touches:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("rows", "week", "channel", "step")))

    def ordered(self, priority: np.ndarray) -> Touches:
        """By week, then the customer's priority, then step (a stable sort: ties keep their order)."""
        o = lexsort_ints((self.step, priority[self.rows], self.week))
        return Touches(self.rows[o], self.week[o], self.channel[o], self.step[o])


def priority_order(priority: np.ndarray, pilot: np.ndarray, hardship: np.ndarray) -> np.ndarray:
    """The order in which customers are served: care (hardship) first, then the pilot, then by priority.

    Parameters
    ----------
    priority : (n,) the customers' priority rank (1 = first).
    pilot, hardship : (n,) bool.

    Returns
    -------
    (n,) float, lower first: the rank plus an offset of n (not in the pilot) and 2n (not in hardship),
    so the tiers order the customers whose ranks are below n.
    """
    n = len(priority)
    return priority + n * (~pilot) + 2.0 * n * (~hardship)


def allocate_first_touches(util: np.ndarray, release: np.ndarray, pool: np.ndarray, order: np.ndarray,
                           hardship: np.ndarray, capacity: Capacity, spec: CampaignSpec,
                           method: str | None = None) -> Allocation:
    """A week and a channel for each customer's first touch (``week``/``channel`` -1: none).

    Parameters
    ----------
    util : (n, channels) value of a touch on each channel (``-inf``: not allowed).
    release : (n,) int, the first week each customer may be contacted in (waves and contact policy).
    pool : (n,) bool, the customers to place (neither suppressed nor held out).
    order : (n,) float, lower is more urgent (:func:`priority_order`).
    hardship : (n,) bool, placed first (care).
    capacity : the channels' and the RMs' weekly capacities.
    spec : the campaign (``optimizer``: delay cost, method and iterations; with ``[engine] name = "spark"``
        the price iteration's passes over the candidates run on Spark: :mod:`~reactivate.planning.prices_spark`).
    method : overrides ``optimizer.method``.

    Returns
    -------
    reactivate.planning.optimizer.Allocation
    """
    n_weeks = capacity.channel.shape[1]
    workable = pool & (release < n_weeks)
    opt = spec.optimizer
    on_spark = SparkPrices(spec.engine.spark) if spec.engine.name == "spark" else None
    return allocate(util, np.where(workable, release, n_weeks), capacity.rm_codes, capacity.channel, capacity.rm,
                    capacity.phone, delay_cost=opt.delay_cost, priority=order, method=method or opt.method,
                    iterations=opt.iterations, first=hardship & workable, candidates=workable, price_pass=on_spark)


def first_touches(alloc: Allocation, first_step: np.ndarray) -> Touches:
    """The first touches the allocation placed.

    Parameters
    ----------
    alloc : from :func:`allocate_first_touches`.
    first_step : (n,) each customer's first journey step (0 without a journey).

    Returns
    -------
    Touches, in customer order.
    """
    rows = np.flatnonzero(alloc.week >= 0)
    return Touches(rows, alloc.week[rows], alloc.channel[rows], first_step[rows])
