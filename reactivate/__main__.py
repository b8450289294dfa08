"""``python -m reactivate``: the command line (the same as the ``reactivate`` command)."""

from reactivate.cli import main

main()
