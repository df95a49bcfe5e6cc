"""The one error a user sees: a line that names the fix.

Library code (options, resume, export/import, compare, publish, the dashboard) raises
:class:`BenchLoopError` or a subclass when the person at the keyboard has to change
something; the ``benchloop`` command prints ``benchloop: <message>`` and exits 2, the
dashboard answers it as a 4xx with the same text. It lives here, below every user of it,
so nothing in the library has to import the CLI to say "you asked for something wrong".
"""
from __future__ import annotations


class BenchLoopError(Exception):
    """A failure the user can fix; ``str()`` is one line that says how (exit status 2)."""


# The name the CLI has always caught; kept so callers (the dashboard) can say CliError.
CliError = BenchLoopError
