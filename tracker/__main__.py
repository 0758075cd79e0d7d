"""``python -m tracker``: the same as the ``tracker`` script."""

from tracker.main import cli

cli()
