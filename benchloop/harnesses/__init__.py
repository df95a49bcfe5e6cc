"""Harnesses: how a task's prompt and tools are put to a model, and how its reply is read.

The same model can look good or bad depending on the tool-call format it is taught,
so the format is a benchmark dimension of its own (``--harness``).
"""
from __future__ import annotations

import importlib
import importlib.util

from benchloop.catalog import HARNESSES  # noqa: F401 - the one table of harness names and classes


def available() -> list[str]:
    out = []
    for name, target in HARNESSES.items():
        mod = target.split(":")[0]
        if importlib.util.find_spec(mod) is not None:
            out.append(name)
    return out


def get_harness(name: str):
    target = HARNESSES.get(name)
    if target is None:
        raise ValueError(f"unknown harness {name!r}; use one of: {', '.join(available())}")
    mod, cls = target.split(":")
    try:
        return getattr(importlib.import_module(mod), cls)()
    except ModuleNotFoundError as exc:
        raise ValueError(f"harness {name!r} is not available in this build; use one of: {', '.join(available())}") from exc
