"""Suite name -> checker module, imported lazily.

A checker module exposes ``CHECKER_VERSION`` (hashed into the run manifest, bump it
whenever a verdict could change), ``check(task, reply) -> verdict`` and optionally
``validate(task) -> None | (field, why)``. A verdict is plain data:
``{"score": 0..100, "passed": bool, "reason": str, "checks": [...]}``.
"""
from __future__ import annotations

import importlib

CHECKERS = {
    "reasonmath": "benchloop.checkers.reasonmath",
    "toolcall": "benchloop.checkers.toolcall",
    "coding": "benchloop.checkers.coding",
    "dataextract": "benchloop.checkers.dataextract",
    "instructfollow": "benchloop.checkers.instructfollow",
    "agent": "benchloop.checkers.agent",
    "speed": "benchloop.checkers.speed",
}


def get(suite: str):
    name = CHECKERS.get(suite)
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
