"""``ast.parse`` behind one lock.

CPython 3.11 keeps the AST converter's recursion counter per interpreter, not per
thread, so two threads parsing at once can fail with ``SystemError: AST constructor
recursion depth mismatch`` (CPython gh-106905). Checkers run in threads (the dashboard's
thread pool, a test's executor), and a checker must never fail for a reason that is not
the model's: every parse of untrusted code goes through :func:`parse`. Parses are short
(bounded by the callers' budgets), so serializing them costs nothing measurable.
"""
from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source, mode: str = "exec"):
    """``ast.parse(source, mode=mode)``, one thread at a time; raises what it raises."""
    with _LOCK:
        return ast.parse(source, mode=mode)
