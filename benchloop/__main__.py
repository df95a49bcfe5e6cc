"""``python -m benchloop`` is the same as the ``benchloop`` command."""
from benchloop.cli import entry

entry()
