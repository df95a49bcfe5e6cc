"""Where the shipped suites, tasks and dashboard live.

In a checkout they are the top-level ``suites/``, ``tasks/`` and ``dashboard/``; in a
wheel they are ``benchloop/suites`` etc. (see pyproject's package-dir). Both resolve
through the import system, so one lookup serves both.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

_ROOT = Path(__file__).resolve().parent


def _pkg_dir(name: str, installed: str | None = None) -> Path:
    checkout = _ROOT.parent / name
    if (checkout / "__init__.py").exists():
        return checkout
    spec = importlib.util.find_spec(f"benchloop.{installed or name}")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"benchloop is installed without its {name}/ folder; reinstall benchloop-cli")
    return Path(list(spec.submodule_search_locations)[0])


def home() -> str:
    """BenchLoop's own folder (runs, the machine id, caches): ``BENCHLOOP_HOME`` or ~/.bench-loop."""
    import os

    return os.environ.get("BENCHLOOP_HOME") or os.path.join(os.path.expanduser("~"), ".bench-loop")


def tasks_dir() -> Path:
    """BENCHLOOP_TASKS_DIR points at a folder of your own task files (same format)."""
    import os

    own = os.environ.get("BENCHLOOP_TASKS_DIR")
    return Path(own) if own else _pkg_dir("tasks", "task_data")


def suites_dir() -> Path:
    return _pkg_dir("suites")


def dashboard_dir() -> Path:
    return _pkg_dir("dashboard")
