"""The jobs a command runs, composed from the stages: orchestration only, no rules of their own.

``pipeline`` (the plan job: load, dormancy, segments, scores, plan), ``segments`` (fit, describe, tune),
``weekly`` (the weekly batch: record, learn, plan the week, follow-ups, ledger).
"""
