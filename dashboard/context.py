"""What every router of one dashboard shares: the run store and its index, the
benchmark jobs, the chat engine, a few parsed artifacts, and the rules for reading a
run id from a URL. ``create_app`` builds one :class:`Dashboard` and hands it to each
router factory; the routers hold no state of their own.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

from fastapi import HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel

from benchloop.artifact import valid_run_id
from benchloop.dashboard import views
from benchloop.dashboard.index import RunIndex, read_run_dir, signature
from benchloop.dashboard.jobs import JobManager


# ``valid_run_id`` as a JSON-Schema pattern (plus ``maxLength`` 128), so the OpenAPI
# document says which run ids exist and a client learns it from a 422, not a 400. No
# look-arounds: pydantic's regex engine has none. A letter or digit first, then runs of
# letters, digits, '_' and '-', each '.' followed by one of those or by the end, so no
# '..'. ``tests/test_dashboard_schema.py`` checks it agrees with ``valid_run_id``.
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.?$"
RUN_ID_MAX = 128
RunId = Annotated[str, PathParam(pattern=RUN_ID_PATTERN, min_length=1, max_length=RUN_ID_MAX, description="a run id: letters, digits, '.', '_' and '-', no '..'", examples=["20260101-000000-qwen3-8b-raw"])]
# A suite or task id in a URL: same alphabet as a run id (fixed-width ids like tc-001)
NamePart = Annotated[str, PathParam(pattern=RUN_ID_PATTERN, min_length=1, max_length=RUN_ID_MAX)]


class Problem(BaseModel):
    """The body of every refusal except a 422 from validation: one line saying why."""

    detail: str


WHY = {
    400: "a request the schema allows but this server cannot serve as asked",
    403: "refused: missing or wrong page token, another origin, or the dashboard listens beyond this machine",
    404: "no such run, task or benchmark",
    409: "the run is running (cancel it first) or broken (cannot be compared)",
}


def answers(*codes: int) -> dict:
    """``responses=`` for a route: each status it can answer besides 200 and 422."""
    return {c: {"model": Problem, "description": WHY[c]} for c in codes}


def bad(detail: str, status: int = 400):
    """Answer the request with ``status`` and a one-line ``detail`` (raises)."""
    raise HTTPException(status_code=status, detail=detail)


def check_run_id(run_id: str) -> str:
    if not valid_run_id(run_id):
        bad("invalid run id: letters, digits, '.', '_' and '-' only, no '..'")
    return run_id


class RunCache:
    """A few parsed artifacts, keyed by their directory signature (run pages re-read
    the same run.json for every task they open)."""

    def __init__(self, size: int = 8):
        self.size = size
        self._d: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, run_dir: Path) -> dict:
        sig = signature(run_dir)
        key = str(run_dir)
        with self._lock:
            hit = self._d.get(key)
            if hit and hit[0] == sig:
                self._d.move_to_end(key)
                return hit[1]
        run = read_run_dir(run_dir)
        with self._lock:
            self._d[key] = (sig, run)
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return run

    def drop(self, run_dir: Path) -> None:
        with self._lock:
            self._d.pop(str(run_dir), None)


class Engines:
    """The embedded llama.cpp engine for chat, started on first use, one model at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._engine = None

    def url_for(self, model: str) -> str:
        with self._lock:
            if self._engine is not None and self._engine.model == model and self._engine.url:
                return self._engine.url
            self._stop()
            from benchloop.engine import Engine

            self._engine = Engine(model, parallel=1, ctx_per_slot=4096, quiet=True).start()
            return self._engine.url

    def _stop(self):
        if self._engine is not None:
            self._engine.stop()
            self._engine = None

    def stop(self):
        with self._lock:
            self._stop()


class Dashboard:
    """One dashboard's shared objects and the checks its routes have in common.

    ``state`` is the app's ``app.state``: what the :class:`~benchloop.dashboard.guard.Guard`
    middleware and the page read (page token, loopback-only, submission routes)."""

    def __init__(self, runs_dir: Path, state, *, refresh_interval: float = 1.0):
        self.runs_dir = runs_dir
        self.state = state
        self.index = RunIndex(runs_dir, min_interval=refresh_interval, full_interval=30 * refresh_interval)
        self.jobs = JobManager(runs_dir)
        self.engines = Engines()
        self.cache = RunCache()
        self._board = {"generation": None, "data": None}

    def need_control(self) -> None:
        """Refuse what changes the machine (benchmarks, chat, deletions) when bound beyond loopback."""
        if not self.state.allow_control:
            bad("disabled: this dashboard listens beyond this machine (bind 127.0.0.1 to start benchmarks, chat or delete runs)", 403)

    def run_dir_of(self, run_id: str) -> Path:
        check_run_id(run_id)
        d = self.runs_dir / run_id
        if d.is_symlink() or not d.is_dir():
            bad(f"no run {run_id}", 404)
        return d

    def load(self, run_id: str) -> dict:
        """One run's artifact; a broken one is a ``status: broken`` stub, never a 500."""
        d = self.run_dir_of(run_id)
        try:
            run = self.cache.load(d)
        except Exception as exc:  # broken artifact: say so, never a 500
            return {"run_id": run_id, "status": "broken", "error": f"{type(exc).__name__}: {exc}"[:300], "tasks": []}
        if run.get("status") != "complete" and run_id in self.jobs.active_ids():
            run = dict(run, status="running")
        return run

    def leaderboard_data(self) -> dict:
        """Cached until a complete run changes (1,000 rows take tens of ms to regroup);
        runs in progress are not on the board, so their writes do not count."""
        self.index.refresh()
        gen = self.index.board_generation
        if self._board["generation"] != gen or self._board["data"] is None:
            self._board["data"] = views.leaderboard(self.index.complete_rows())
            self._board["generation"] = gen
        return self._board["data"]
