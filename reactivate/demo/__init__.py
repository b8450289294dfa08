"""The demo bank: a synthetic book with a ground truth, the check against it, and the demo job.

``book`` generates the book, ``truth`` compares scores with the ground truth, ``job`` runs the whole
demo (book, plan, truth check).
"""
