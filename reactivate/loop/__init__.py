"""Closing the loop: the contact ledger, recording outcomes and measuring uplift against the holdout.

``ledger`` (the database and its migrations), ``record`` (outcome files into the ledger), ``evaluate``
(uplift with confidence intervals).
"""
