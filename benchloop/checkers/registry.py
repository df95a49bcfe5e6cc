"""A suite's checker module, imported lazily from the one table in :mod:`benchloop.catalog`.

A checker module exposes ``CHECKER_VERSION`` (hashed into the run manifest: bump it
whenever a verdict could change), ``check(task, answer) -> Verdict`` (pure: no I/O, no
model) and optionally ``validate(task) -> None | (field, why)``, which the task loader
calls once per task so a broken task file fails before anything runs.
"""
from __future__ import annotations

import importlib

from benchloop.catalog import SUITES


def get(suite: str):
    entry = SUITES.get(suite)
    name = entry[1] if entry else None
    if name is None:
        return None
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def version(suite: str) -> str:
    mod = get(suite)
    return str(getattr(mod, "CHECKER_VERSION", "none")) if mod else "none"
