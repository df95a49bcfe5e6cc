"""Sweeps over HTTP: the list of sweeps in ``<runs dir>/.sweeps/`` and one sweep's
``sweep.json`` with its answer (the matrix the sweep page draws as a heatmap), each
cell linked to its run. Starting a sweep is a benchmark job (``POST /api/jobs`` with
``"kind": "sweep"``, see ``bench_api.py``): one job at a time, sweep or run.

The answer is recomputed from the cells' runs (:func:`benchloop.sweep_stats.analyze`)
whenever ``sweep.json`` or one of its runs changed, so a sweep that is still running, or
a cell finished later with ``benchloop run --resume``, shows what its runs hold now.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from benchloop.artifact import valid_run_id
from benchloop.dashboard.context import RUN_ID_MAX, RUN_ID_PATTERN, Dashboard, Problem, bad

SWEEPS = ".sweeps"  # benchloop.sweep_run.SWEEPS (kept literal: listing sweeps needs no sweep code)
SweepId = Annotated[str, PathParam(pattern=RUN_ID_PATTERN, min_length=1, max_length=RUN_ID_MAX, description="a sweep id (the name of its directory in <runs>/.sweeps)", examples=["sweep-20260101-000000-abcdef"])]
NO_SWEEP = {404: {"model": Problem, "description": "no such sweep, or its sweep.json cannot be read"}}


def _read(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("cells"), list) else None


def summary(doc: dict) -> dict:
    """One line of the sweep list: what was crossed, how far it got, what won."""
    cells = [c for c in doc["cells"] if isinstance(c, dict)]
    done = sum(1 for c in cells if c.get("status") == "complete")
    result = doc.get("result") if isinstance(doc.get("result"), dict) else {}
    axes = doc.get("axes") if isinstance(doc.get("axes"), dict) else {}
    return {
        "sweep_id": str(doc.get("sweep_id") or ""),
        "created_at": doc.get("created_at"),
        "finished_at": doc.get("finished_at"),
        "status": str(doc.get("status") or "planned"),
        "axes": {str(k): [str(x) for x in v] for k, v in axes.items() if isinstance(v, list)},
        "suites": doc.get("suites"),
        "profile": (doc.get("settings") or {}).get("profile") if isinstance(doc.get("settings"), dict) else None,
        "cells": len(cells),
        "complete": done,
        "best": result.get("best"),
    }


class Answers:
    """The analysed answer of a few sweeps, keyed by the signature of ``sweep.json`` and
    of every cell's run files (so it is recomputed only when something changed)."""

    def __init__(self, size: int = 8):
        self.size = size
        self._d: OrderedDict[str, tuple] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def signature(directory: Path, doc: dict, runs_dir: Path) -> tuple:
        def stamp(p: Path):
            try:
                s = p.stat()
                return (s.st_mtime_ns, s.st_size)
            except OSError:
                return None

        parts = [stamp(directory / "sweep.json")]
        for c in doc["cells"]:
            rid = c.get("run_id") if isinstance(c, dict) else None
            if isinstance(rid, str) and valid_run_id(rid):
                parts += [stamp(runs_dir / rid / "run.json"), stamp(runs_dir / rid / "tasks.jsonl")]
        return tuple(parts)

    def get(self, directory: Path, doc: dict, runs_dir: Path) -> dict:
        from benchloop.sweep_run import load_cell_runs
        from benchloop.sweep_stats import analyze

        key, sig = str(directory), self.signature(directory, doc, runs_dir)
        with self._lock:
            hit = self._d.get(key)
            if hit and hit[0] == sig:
                self._d.move_to_end(key)
                return hit[1]
        try:
            result = analyze(doc, load_cell_runs(doc, str(runs_dir)))
        except Exception:  # an odd or half-written cell run: the stored answer, if any
            result = doc.get("result") if isinstance(doc.get("result"), dict) else None
        with self._lock:
            self._d[key] = (sig, result)
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return result


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()
    root = dash.runs_dir / SWEEPS
    answers = Answers()

    def sweep_dir(sweep_id: str) -> Path:
        if not valid_run_id(sweep_id):
            bad("invalid sweep id: letters, digits, '.', '_' and '-' only, no '..'")
        d = root / sweep_id
        if d.is_symlink() or not (d / "sweep.json").is_file():
            bad(f"no sweep {sweep_id}", 404)
        return d

    @r.get("/api/sweeps", tags=["sweeps"], summary="Sweeps in the run store, newest first")
    def list_sweeps():
        out = []
        if root.is_dir():
            for d in root.iterdir():
                if d.is_symlink() or not valid_run_id(d.name):
                    continue
                doc = _read(d / "sweep.json")
                if doc is not None:
                    out.append(dict(summary(doc), sweep_id=d.name))
        out.sort(key=lambda s: str(s.get("created_at") or ""), reverse=True)
        running = dash.jobs.busy()
        for s in out:
            s["running"] = s["sweep_id"] == running
        return JSONResponse({"sweeps": out})

    @r.get("/api/sweeps/{sweep_id}", tags=["sweeps"], summary="One sweep: its sweep.json and the matrix, each cell linked to its run", responses=NO_SWEEP)
    def get_sweep(sweep_id: SweepId):
        job = dash.jobs.get(sweep_id) if valid_run_id(sweep_id) else None
        if job is not None and job.kind == "sweep" and not (root / sweep_id / "sweep.json").is_file():
            # started here a moment ago (sweep.json comes once its checks pass), or refused
            return JSONResponse({"sweep_id": sweep_id, "status": "starting" if job.state == "running" else job.state, "axes": {}, "settings": {}, "cells": [], "result": None,
                                 "running": job.state == "running", "job": job.public()})
        d = sweep_dir(sweep_id)
        doc = _read(d / "sweep.json")
        if doc is None:
            bad(f"sweep {sweep_id}: sweep.json is missing or corrupt", 404)
        result = answers.get(d, doc, dash.runs_dir)
        cells = []
        for c in doc["cells"]:
            if isinstance(c, dict):
                c = {k: v for k, v in c.items() if k != "command"}  # a local command line: nothing the page shows
                rid = c.get("run_id")
                c["run_exists"] = isinstance(rid, str) and valid_run_id(rid) and (dash.runs_dir / rid).is_dir()
                cells.append(c)
        if result:
            exists = {c.get("name"): c["run_exists"] for c in cells}
            result = dict(result, cells=[dict(rc, run_exists=bool(exists.get(rc.get("name")))) for rc in result.get("cells") or []])
        running = job is not None and job.state == "running"
        return JSONResponse({**{k: v for k, v in doc.items() if k not in ("cells", "result")}, "sweep_id": sweep_id, "cells": cells, "result": result,
                             "running": running, "job": job.public() if job is not None else None})

    return r
