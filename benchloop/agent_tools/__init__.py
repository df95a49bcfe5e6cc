"""Deterministic local tools for the agent suite, and the state they work on.

Why local and stateful: an agent benchmark has to grade what the agent *did*, not what
it said it did, so every tool here acts on a per-task state dict (a small file store, a
calendar, an inventory with orders, weather and stock tables) that the task's YAML
``state:`` seeds and the checker inspects afterwards. Nothing touches the network, the
disk or the clock, so the same calls always give the same results and the same state.

Each tool is an OpenAI function schema plus a pure implementation ``fn(state, args)``
that may change ``state`` in place and returns a JSON-able dict. :func:`execute` is the
only entry point the loop uses: it checks the tool is offered and the arguments fit the
schema, and turns every failure — unknown tool, missing or mistyped argument, a missing
file, an overlapping meeting — into an ``{"error": ...}`` result for the model to read,
never an exception. Model output is hostile input: strings, paths, file contents, the
number of files and the calculator's expressions are all bounded.

Every tool that changes state has required arguments, so a model calling every offered
tool with empty arguments cannot change anything (the suite's tests rely on it).

Layout (split by role to keep each module small; import everything from here):
:mod:`.state` holds the state, the input bounds, :class:`ToolError` and the value
normalizers; :mod:`.operations` holds what each tool does to the state (and the
calculator's safe evaluator); :mod:`.registry` holds the schemas, the argument checking,
:data:`TOOLS`, :func:`specs` and :func:`execute`. Nothing here imports providers,
harnesses, drivers, the CLI or the plugin: the agent checker imports this package.
"""
from __future__ import annotations

from .operations import LIMIT, safe_eval
from .registry import TOOLS, Param, Tool, coerce_args, execute, specs
from .state import (
    MAX_CONTENT,
    MAX_EVENTS,
    MAX_EXPRESSION,
    MAX_FILES,
    MAX_ORDERS,
    MAX_QUANTITY,
    MAX_RESULT_ITEMS,
    MAX_TEXT,
    NORMALIZERS,
    SECTIONS,
    ToolError,
    fold,
    jsonable,
    new_state,
    norm_date,
    norm_path,
    norm_time,
)

__all__ = [
    "LIMIT",
    "MAX_CONTENT",
    "MAX_EVENTS",
    "MAX_EXPRESSION",
    "MAX_FILES",
    "MAX_ORDERS",
    "MAX_QUANTITY",
    "MAX_RESULT_ITEMS",
    "MAX_TEXT",
    "NORMALIZERS",
    "SECTIONS",
    "TOOLS",
    "Param",
    "Tool",
    "ToolError",
    "coerce_args",
    "execute",
    "fold",
    "jsonable",
    "new_state",
    "norm_date",
    "norm_path",
    "norm_time",
    "safe_eval",
    "specs",
]
