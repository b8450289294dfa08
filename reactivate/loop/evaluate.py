"""Measuring a campaign: did contacting customers cause reactivation? Against the holdout.

The building block is :func:`compare_rates`: for groups of treated and control
customers, the two rates, their difference (the uplift) and a 95% confidence
interval of the difference (Newcombe's hybrid score interval, from
statsmodels), with Wilson intervals for each rate. :func:`compare_arms` runs it
on any randomized test with arms (the Hillstrom e-mail test in
``examples/hillstrom_uplift.py``); :func:`evaluate_campaign` on a campaign's
ledger.

Campaign evaluation
-------------------
* **Reactivated** = any customer-initiated activity within ``[learning]
  window_days`` after the start of the week the customer was first contacted
  (for the holdout: the week they were first held out), from the latest
  transactions (and the accounts' ``last_activity_date``). Customers whose
  window is not over yet on the as-of date are left out (and counted).
* **Contacted** = every customer a run issued a touch to in its own week
  (intention to treat: a touch not delivered still counts; delivery is not
  random, so dropping the undelivered would bias the comparison).
* **Overall and per segment**: the contacted against the holdout of the same
  segments. The holdout is a random draw of each segment's contactable
  customers, but the contacted are chosen by priority, so within a segment
  they are the better prospects: read these as upper bounds.
* **Uplift@k**: the top-ranked k share of the contacted against the top k
  share of the holdout, both by priority rank -- like against like, the
  fairest comparison the holdout allows.
* **Per channel, wave and theme**: the contacted with that channel (wave,
  theme) against the holdout re-weighted to their segment mix (the control
  rate is the holdout rate of each segment weighted by the group's share in
  it; a Wald interval with the re-weighted variance). Channels are chosen by
  segment, so this removes the segment mix but not the choice within it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from reactivate.data.load import load_book
from reactivate.dormancy.ids import codes_for
from reactivate.errors import InputDataError
from reactivate.outputs.charts import figure_bytes, uplift_at_k_chart, uplift_chart
from reactivate.outputs.files import csv_bytes, json_bytes, staged

Z95 = float(stats.norm.ppf(0.975))
UPLIFT_COLUMNS = ["dimension", "value", "n_treated", "n_control", "reactivated_treated", "reactivated_control",
                  "rate_treated", "rate_control", "uplift", "ci_low", "ci_high", "treated_ci_low", "treated_ci_high",
                  "control_ci_low", "control_ci_high"]
TOP_SHARES = (0.1, 0.2, 0.3, 0.5, 1.0)


def compare_rates(k_t, n_t, k_c, n_c) -> pd.DataFrame:
    """Rates, uplift (treated − control) and 95% intervals for arrays of counts.

    Returns n/k of both groups, rate_treated, rate_control, uplift, ci_low, ci_high (Newcombe),
    and Wilson intervals of each rate. Groups with no customers get NaN.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

    k_t, n_t, k_c, n_c = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (k_t, n_t, k_c, n_c))
    ok = (n_t > 0) & (n_c > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rt = np.where(n_t > 0, k_t / np.maximum(n_t, 1), np.nan)
        rc = np.where(n_c > 0, k_c / np.maximum(n_c, 1), np.nan)
    lo = np.full(len(k_t), np.nan)
    hi = np.full(len(k_t), np.nan)
    if ok.any():
        lo[ok], hi[ok] = confint_proportions_2indep(k_t[ok], n_t[ok], k_c[ok], n_c[ok], method="newcomb",
                                                     compare="diff")
    wt = _wilson(k_t, n_t, proportion_confint)
    wc = _wilson(k_c, n_c, proportion_confint)
    return pd.DataFrame({"n_treated": n_t.astype(int), "n_control": n_c.astype(int),
                         "reactivated_treated": k_t.astype(int), "reactivated_control": k_c.astype(int),
                         "rate_treated": rt, "rate_control": rc, "uplift": rt - rc, "ci_low": lo, "ci_high": hi,
                         "treated_ci_low": wt[0], "treated_ci_high": wt[1],
                         "control_ci_low": wc[0], "control_ci_high": wc[1]})


def _wilson(k, n, proportion_confint):
    lo = np.full(len(k), np.nan)
    hi = np.full(len(k), np.nan)
    ok = n > 0
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(k[ok], n[ok], method="wilson")
    return lo, hi


def compare_arms(df: pd.DataFrame, arm: str, control: str, outcomes: list[str], means: tuple[str, ...] = ()
                 ) -> pd.DataFrame:
    """Each arm of a randomized test against the control arm, for each 0/1 outcome column.

    ``means`` are numeric outcome columns (e.g. spend) compared as means, with a Welch 95% interval
    of the difference. Returns one row per arm × outcome: arm, outcome, the rates (or means) and the
    uplift with its interval (see :func:`compare_rates`).

    Raises
    ------
    InputDataError
        The arm column or an outcome column is missing, or the control arm is absent.
    """
    missing = [c for c in [arm, *outcomes, *means] if c not in df.columns]
    if missing:
        raise InputDataError(f"columns missing: {', '.join(missing)}")
    if not (df[arm] == control).any():
        raise InputDataError(f"column {arm!r}: no row has the control arm {control!r}")
    arms = sorted(a for a in df[arm].unique() if a != control)
    g = df.groupby(arm, sort=True)
    n = g.size()
    rows = []
    for y in outcomes:
        k = g[y].sum()
        res = compare_rates(k.reindex(arms).to_numpy(), n.reindex(arms).to_numpy(), np.full(len(arms), k[control]),
                            np.full(len(arms), n[control]))
        rows.append(res.assign(arm=arms, outcome=y))
    for y in means:
        ctrl = df.loc[df[arm] == control, y].to_numpy(dtype=float)
        for a in arms:  # one per arm
            t = df.loc[df[arm] == a, y].to_numpy(dtype=float)
            ci = stats.ttest_ind(t, ctrl, equal_var=False).confidence_interval(0.95)
            rows.append(pd.DataFrame({"arm": [a], "outcome": [y], "n_treated": [len(t)], "n_control": [len(ctrl)],
                                      "rate_treated": [t.mean()], "rate_control": [ctrl.mean()],
                                      "uplift": [t.mean() - ctrl.mean()], "ci_low": [ci.low], "ci_high": [ci.high]}))
    out = pd.concat(rows, ignore_index=True)
    lead = ["arm", "outcome"]
    return out[lead + [c for c in out.columns if c not in lead]]


# --------------------------------------------------------------------------- campaigns


@dataclass
class Evaluation:
    campaign_id: str
    as_of: dt.date
    window_days: int
    uplift: pd.DataFrame
    at_k: pd.DataFrame
    summary: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        s = self.summary
        o = s["overall"]
        out = [f"evaluate {self.campaign_id} on {self.as_of.isoformat()} (window {self.window_days} days): "
               f"{o['n_treated']:,} contacted, {o['n_control']:,} holdout"]
        if o["n_treated"] and o["n_control"]:
            out.append(f"  reactivated: contacted {o['rate_treated']:.2%}, holdout {o['rate_control']:.2%}, "
                       f"uplift {o['uplift'] * 100:+.2f} pp (95% CI {o['ci_low'] * 100:+.2f} to "
                       f"{o['ci_high'] * 100:+.2f})")
        if s["window_open"]:
            out.append(f"  {s['window_open']:,} customers left out: their window is not over yet")
        return out


def reactivation_flags(t0: pd.Series, book, window_days: int) -> np.ndarray:
    """Per customer (index of ``t0``, the window start), whether they were active within the window."""

    index = pd.Index(t0.index.astype(str), dtype=object)
    start = t0.to_numpy(dtype="datetime64[s]")
    end = start + np.timedelta64(window_days, "D")
    hit = np.zeros(len(index), dtype=bool)
    log = book.log
    if log is not None and log.check().rows:  # asked of the log's engine where it lies (on Spark: there)
        day = start.astype("datetime64[D]")
        if (day != start).any():
            raise ValueError("reactivation windows start at midnight (a week's first day)")
        hit |= log.active_within(index, day.astype(np.int64), window_days)
    acc = book.accounts
    if acc is not None and "last_activity_date" in acc.columns:
        c = codes_for(acc["customer_id"], index)
        la = acc["last_activity_date"].to_numpy(dtype="datetime64[s]")
        keep = (c >= 0) & ~np.isnat(la)
        c, la = c[keep], la[keep]
        inside = (la >= start[c]) & (la < end[c])
        hit[c[inside]] = True
    return hit


def evaluate_campaign(ledger, spec, *, accounts=None, transactions=None, as_of: dt.date | None = None,
                      book=None) -> Evaluation:
    """Uplift of a campaign recorded in ``ledger`` (see the module doc); ``book``: a book already loaded
    (the weekly run's) instead of the ``accounts`` and ``transactions`` files.

    Raises
    ------
    InputDataError
        No data given, invalid data, or the ledger holds no assignment of the campaign.
    """

    camp = spec.campaign.id
    a = ledger.assignments(camp)
    if len(a) == 0:
        raise InputDataError(f"the ledger holds no contacted or holdout customers of campaign {camp!r} "
                             "(run reactivate run first)")
    if book is None and accounts is None and transactions is None:
        raise InputDataError("no activity data: give --transactions (and/or --accounts) or [inputs]")
    day = as_of or dt.date.today()
    if book is None:
        book = load_book(accounts=accounts, transactions=transactions, contacts=None, spec=spec, as_of=day)
    last = book.log.check().last_second if book.log is not None else None
    if as_of is None and last is not None:  # the log's last day
        day = dt.date(1970, 1, 1) + dt.timedelta(seconds=int(last))
    window = spec.learning.window_days
    first = a.sort_values(["week_start", "grp"], kind="stable").drop_duplicates("customer_id")
    first = first.set_index("customer_id")
    issued = ledger.issued(camp)
    touch = issued[issued["kind"] == "plan"].drop_duplicates("customer_id").set_index("customer_id")
    for col in ("channel", "wave", "theme"):
        first[col] = touch[col].reindex(first.index).astype(object)
    done = (first["week_start"] + pd.Timedelta(days=window)) <= pd.Timestamp(day) + pd.Timedelta(days=1)
    open_ = int((~done).sum())
    f = first[done].copy()
    f["y"] = reactivation_flags(f["week_start"], book, window)
    treated = f["grp"] == "contacted"
    ctrl = f[~treated]
    t = f[treated]

    rows = [_row("overall", "all", t["y"], ctrl["y"])]
    for s in sorted(f["segment_id"].astype(str).unique()):
        rows.append(_row("segment", s, t.loc[t["segment_id"] == s, "y"], ctrl.loc[ctrl["segment_id"] == s, "y"]))
    seg_rate = ctrl.groupby("segment_id")["y"].agg(["mean", "count"])
    for dim in ("channel", "wave", "theme"):
        for v, g in t.groupby(dim, sort=True):  # one per channel / wave / theme
            rows.append(_standardized(dim, str(v), g, seg_rate))
    up = pd.concat(rows, ignore_index=True)[UPLIFT_COLUMNS]

    at_k = []
    tr = t.sort_values("priority_rank", kind="stable")["y"].to_numpy()
    cr = ctrl.sort_values("priority_rank", kind="stable")["y"].to_numpy()
    for k in TOP_SHARES:
        nt, nc = int(np.ceil(k * len(tr))), int(np.ceil(k * len(cr)))
        r = compare_rates(tr[:nt].sum(), nt, cr[:nc].sum(), nc).assign(top_share=k)
        at_k.append(r)
    at_k = pd.concat(at_k, ignore_index=True)
    at_k = at_k[["top_share", *[c for c in at_k.columns if c != "top_share"]]]

    overall = up.iloc[0]
    summary = {
        "campaign": camp, "as_of": day.isoformat(), "window_days": window, "window_open": open_,
        "overall": {k: _plain(overall[k]) for k in UPLIFT_COLUMNS[2:11]},
        "uplift_at_k": [{k: _plain(v) for k, v in r.items()} for r in at_k[
            ["top_share", "n_treated", "n_control", "rate_treated", "rate_control", "uplift", "ci_low", "ci_high"]
        ].to_dict("records")],
        "method": "contacted (intention to treat) vs holdout; Newcombe 95% intervals; channel, wave and "
                  "theme against the holdout re-weighted to their segment mix",
    }
    return Evaluation(camp, day, window, up, at_k, summary)


def _row(dim: str, value: str, yt: pd.Series, yc: pd.Series) -> pd.DataFrame:
    r = compare_rates(yt.sum(), len(yt), yc.sum(), len(yc))
    return r.assign(dimension=dim, value=value)


def _standardized(dim: str, value: str, g: pd.DataFrame, seg_rate: pd.DataFrame) -> pd.DataFrame:
    """The group against the holdout re-weighted to the group's segment mix (Wald interval)."""
    w = g["segment_id"].value_counts(normalize=True)
    rc = seg_rate["mean"].reindex(w.index)
    nc = seg_rate["count"].reindex(w.index)
    known = rc.notna().to_numpy()
    w = w[known] / w[known].sum() if known.any() else w[known]
    rc, nc = rc[known], nc[known]
    n_t, k_t = len(g), int(g["y"].sum())
    p_t = k_t / n_t if n_t else np.nan
    p_c = float((w * rc).sum()) if len(w) else np.nan
    var = p_t * (1 - p_t) / n_t + float((w**2 * rc * (1 - rc) / nc).sum()) if len(w) and n_t else np.nan
    half = Z95 * np.sqrt(var) if np.isfinite(var) else np.nan
    return pd.DataFrame({"dimension": [dim], "value": [value], "n_treated": [n_t], "n_control": [int(nc.sum())],
                         "reactivated_treated": [k_t], "reactivated_control": [round(float((rc * nc).sum()))],
                         "rate_treated": [p_t], "rate_control": [p_c], "uplift": [p_t - p_c],
                         "ci_low": [p_t - p_c - half], "ci_high": [p_t - p_c + half],
                         "treated_ci_low": [np.nan], "treated_ci_high": [np.nan],
                         "control_ci_low": [np.nan], "control_ci_high": [np.nan]})


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else round(float(v), 6)
    return v


def write_evaluation(ev: Evaluation, out: str | Path, inputs: dict | None = None) -> None:
    """uplift.csv, uplift_at_k.csv, evaluation.json, uplift.png and uplift_at_k.png into ``out``, all or nothing.

    ``inputs`` (how each was given → path) may not lie inside ``out`` (:func:`~reactivate.outputs.files.check_out`).
    """

    with staged(out, inputs) as stage:
        stage.write("uplift.csv", csv_bytes(ev.uplift.round(6)))
        stage.write("uplift_at_k.csv", csv_bytes(ev.at_k.round(6)))
        stage.write("evaluation.json", json_bytes(ev.summary))
        stage.write("uplift.png", figure_bytes(uplift_chart, ev.uplift))
        stage.write("uplift_at_k.png", figure_bytes(uplift_at_k_chart, ev.at_k))
        stage.write("run.json", json_bytes({"command": "evaluate", "campaign": ev.campaign_id,
                                            "as_of": ev.as_of.isoformat()}))
