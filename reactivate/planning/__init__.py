"""The staged plan: who is contacted, in which week, by which channel, under every hard rule.

``steps`` are the named planning steps (suppression, holdout, capacity, policy, waves, journeys),
``plan`` composes them (:func:`~reactivate.planning.plan.build_plan`), ``optimizer`` allocates touches
to weeks and channels under capacities.
"""
