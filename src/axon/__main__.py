"""``python -m axon`` runs the command line, as the ``axon`` script does."""

from axon.cli import entry_point

entry_point()
