"""Today's scores as a pure function: a frame of plain columns in, each target's z and p_reactivate out.

A fitted propensity source (:mod:`reactivate.scoring.sources`) is split in two: the columns it reads of a
(customer, day) pair, built from the run's context (:meth:`reactivate.scoring.sources.Context.frame`), and a
model here that holds only the fit's numbers and turns those columns into the source's score ``z``. A
:class:`Scorer` holds the models of the sources used today, the blend's weights and the calibration: every
engine applies it, the default one to slices of the targets on this machine
(:func:`reactivate.scoring.propensity.score_today`), Spark to pandas batches on its executors
(:mod:`reactivate.scoring.apply_spark`). It reads nothing but its frame and is picklable, so the same numbers
come out wherever it runs.

The columns (:data:`COLUMNS` for those not among the learned sources' features,
:data:`reactivate.scoring.occasions.LOG_FEATURES` and the static attributes for the others):

``recency_days``   days dormant at the end of the day, as known then (NaN when unknown)
``n_occasions``    purchase occasions on or before the day
``prior_logit``    the documented prior's log-odds, as known that day
``rfm_x``, ``rfm_t_x``, ``rfm_T``, ``rfm_seen``   BG/NBD's inputs (weeks) and whether the customer had an
                   occasion by then
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reactivate.scoring.calibration import logit, sigmoid

RFM = ("rfm_x", "rfm_t_x", "rfm_T", "rfm_seen")
#: the columns a source reads that are not among the learned sources' features (what each is: the module's doc)
COLUMNS = ("recency_days", "n_occasions", "prior_logit", *RFM)
#: days dormant counted when unknown (ten years)
UNKNOWN_RECENCY = 3650.0


def _column(frame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float)


class RecencyModel:
    """``recency``: minus the log of the days dormant."""

    reads = ("recency_days",)

    def z(self, frame) -> np.ndarray:
        return -np.log1p(np.nan_to_num(_column(frame, "recency_days"), nan=UNKNOWN_RECENCY))


class FreqRecencyModel:
    """``freq/recency``: log of occasions / (1 + days dormant / 30)."""

    reads = ("n_occasions", "recency_days")

    def z(self, frame) -> np.ndarray:
        rec = np.nan_to_num(_column(frame, "recency_days"), nan=UNKNOWN_RECENCY)
        return np.log(np.maximum(_column(frame, "n_occasions"), 0.1)) - np.log1p(rec / 30.0)


class PriorModel:
    """``prior``: the documented prior's log-odds as known that day (its own numbers are the context's)."""

    reads = ("prior_logit",)

    def z(self, frame) -> np.ndarray:
        return _column(frame, "prior_logit")


class BGNBDModel:
    """``bgnbd``: the log-odds of an occasion within ``weeks`` under the fitted BG/NBD ``model``
    (:class:`reactivate.scoring.bgnbd.BGNBD`); ``logit(1e-4)`` for a customer without any occasion yet."""

    reads = RFM

    def __init__(self, model, weeks: float):
        self.model, self.weeks = model, weeks

    def z(self, frame) -> np.ndarray:
        x, t_x, T = (_column(frame, c) for c in RFM[:3])
        seen = frame["rfm_seen"].to_numpy(dtype=bool)
        return np.where(seen, logit(self.model.p_active(self.weeks, x, t_x, T)), logit(1e-4))


class LearnedModel:
    """``backtest`` and ``campaigns``: the log-odds of the fitted :class:`reactivate.scoring.learners.Learner`
    (it reads the columns its fit kept, and its offset, by name)."""

    def __init__(self, learner):
        self.learner = learner
        if learner.constant_ is not None:  # nothing was learned: the same number for everyone
            self.reads = ()
        else:
            self.reads = tuple(learner.columns_) + ((learner.offset_,) if learner.offset_ else ())

    def z(self, frame) -> np.ndarray:
        return self.learner.z(frame)


@dataclass(frozen=True)
class Scorer:
    """Today's pass: the sources' scores, their blend (or the one chosen) and its calibration into a probability.

    ``sources`` maps each source scored today to its model (in the order the blend reads them); ``chosen`` is
    one of them or ``"blend"`` (then ``blend.decision_function`` of their scores' columns); ``calibrator``
    maps the chosen score to a probability (None: the logistic function, for a source not validated);
    ``each`` maps a source to its own calibrator (``reactivate backtest`` shows every source's probabilities).
    """

    sources: dict
    chosen: str
    blend: object = None
    calibrator: object = None
    each: dict = field(default_factory=dict)

    @property
    def reads(self) -> tuple[str, ...]:
        """The frame's columns the sources read, each once, in the sources' order."""
        return tuple(dict.fromkeys(c for m in self.sources.values() for c in m.reads))

    def outputs(self) -> tuple[str, ...]:
        """The keys of :meth:`__call__`'s answer."""
        return ("z", "p", *(f"z:{k}" for k in self.sources), *(f"p:{k}" for k in self.each))

    def __call__(self, frame) -> dict[str, np.ndarray]:
        """``z`` (the chosen score, or the blend's), ``p`` (its probability), each source's score
        (``z:<source>``) and, for the sources in ``each``, its own probability (``p:<source>``), one value
        per row of ``frame``."""
        z = {k: np.asarray(m.z(frame), dtype=float) for k, m in self.sources.items()}
        if self.chosen == "blend":
            chosen = self.blend.decision_function(np.column_stack([z[k] for k in self.sources]))
        else:
            chosen = z[self.chosen]
        p = sigmoid(chosen) if self.calibrator is None else self.calibrator(chosen)
        return {"z": chosen, "p": p, **{f"z:{k}": v for k, v in z.items()},
                **{f"p:{k}": cal(z[k]) for k, cal in self.each.items()}}


__all__ = ["COLUMNS", "RFM", "BGNBDModel", "FreqRecencyModel", "LearnedModel", "PriorModel", "RecencyModel",
           "Scorer"]
