"""``python -m benchloop`` is the same as the ``benchloop`` command."""
from benchloop.cli import main

raise SystemExit(main())
