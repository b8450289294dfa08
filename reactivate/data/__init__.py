"""Reading and checking the input tables (accounts, transactions, contacts) against the data contract.

``io`` reads CSV/Parquet into raw columns, ``validate`` collects every problem at once,
``load`` ties them together into a :class:`~reactivate.data.load.Book`.
"""
