"""Who is dormant: the per-customer fold of the book, dormancy stages and the features built from it.

``ids`` maps customer ids to integer codes, ``customers`` folds accounts, transactions and contacts into
one row per customer, ``features`` names the features segments and models may use.
"""
