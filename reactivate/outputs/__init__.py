"""Everything written for people and machines: files, staging, charts, the RM lists and the report.

``files`` (CSV/JSON bytes, the staged writer, safe file names, formula neutralising), ``writer``
(a run's outputs), ``workbooks`` (RM workbooks), ``charts``, ``i18n`` (English and Chinese text),
``report`` (the HTML report).
"""
