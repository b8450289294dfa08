"""The staged plan: who is contacted, in which week, by which channel, under every hard rule.

``plan`` composes the planning steps (:func:`~reactivate.planning.plan.build_plan`), one module each:
``suppression``, ``holdout`` and ``audience`` (who may be contacted), ``waves``, ``policy``, ``capacity``,
``values``, ``themes``, ``journeys``, ``allocation`` (by ``optimizer``, which allocates touches to weeks
and channels under capacities) and ``result`` (the tables and stats). ``followups`` holds the weekly
loop's rules (rest, touch limit, follow-ups); ``summary`` summarises a plan for summary.json.
"""
