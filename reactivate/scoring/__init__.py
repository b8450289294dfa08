"""Ranking for reactivation: how likely, how valuable and when.

``priors`` (documented prior, value, channel fit), ``propensity`` (the sources and the choice between
them), ``backtest`` and ``bgnbd`` (two of those sources), ``timing`` (the right week), ``learn``
(response rates learned from earlier waves) and ``rank`` (the per-customer scores and the segment table).
"""
