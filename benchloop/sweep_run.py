"""``sweep.json`` and running a sweep's cells.

``sweep.json`` (in ``<runs dir>/.sweeps/<sweep id>/``) ties the cells together: the axes,
each cell's settings, which run is which cell, its status, attempts and wall time; at
the end also the answer (:mod:`benchloop.sweep_stats`), so the dashboard reads one file.
It is rewritten before and after each cell, so a sweep killed at any moment still says
which run is which cell, and ``--resume`` continues each unfinished run where it stopped.

Scheduling: cells on different endpoints run at the same time; cells on one endpoint,
and every embedded (llamacpp) cell, run one after another, so they neither slow each
other nor spoil each other's speed numbers, and GGUF files load one at a time (each
load time is recorded). *How* a cell runs (a pytest process) is the caller's:
:func:`run_cells` takes a ``launch`` function.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from benchloop.sweep import SweepError

SCHEMA_VERSION = 1
SWEEPS = ".sweeps"  # <runs dir>/.sweeps/<sweep id>/sweep.json: a dot name is never a run id, so the run listings pass it by


def new_sweep_id() -> str:
    import secrets
    from datetime import datetime, timezone

    return f"sweep-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def sweep_dir(runs_root: str | os.PathLike, sweep_id: str) -> Path:
    return Path(runs_root) / SWEEPS / sweep_id


def new_sweep(plan: dict, cells: list[dict], *, sweep_id: str, rows: str | None, cols: str | None) -> dict:
    """The sweep's document before any cell runs. No secrets: option values are the
    cells' own (the API key is never among them; endpoints lose their credentials)."""
    from benchloop import __version__
    from benchloop.artifact import utcnow
    from benchloop.providers.base import safe_endpoint

    def public(values: dict) -> dict:
        return {k: (safe_endpoint(v) if k == "endpoint" and isinstance(v, str) else v) for k, v in values.items()}

    def public_axes(axes: dict) -> dict:  # an endpoint axis holds URLs as typed, keys included
        return {a: ([safe_endpoint(v) if isinstance(v, str) else v for v in vs] if a == "endpoint" else vs) for a, vs in axes.items()}

    return {
        "schema_version": SCHEMA_VERSION,
        "sweep_id": sweep_id,
        "created_at": utcnow(),
        "benchloop_version": __version__,
        "status": "planned",
        "axes": public_axes(plan["axes"]),
        "settings": public(plan["settings"]),
        "suites": plan["settings"].get("suites"),
        "rows": rows,
        "cols": cols,
        "cells": [
            {"name": c["name"], "slug": c["slug"], "axes": public(c["axes"]), "values": public(c["values"]), "group": c.get("group"),
             "run_id": None, "status": "pending", "attempts": [], "wall_s": 0.0, "load_ms": None, "abandoned_runs": []}
            for c in cells
        ],
        "invocations": [],
    }


def write_sweep(doc: dict, directory: Path) -> None:
    from benchloop.artifact import write_json_atomic

    directory.mkdir(parents=True, exist_ok=True)
    write_json_atomic(directory / "sweep.json", doc)


def find_sweep(ref: str, runs_root: str | os.PathLike) -> Path:
    """A sweep directory from its id, a unique id prefix, its directory or sweep.json."""
    from benchloop.artifact import valid_run_id

    p = Path(ref)
    if p.is_file() and p.name == "sweep.json":
        return p.parent
    if p.is_dir() and (p / "sweep.json").is_file():
        return p
    if not valid_run_id(ref):
        raise SweepError(f"{ref!r} is not a sweep id; sweeps live in {Path(runs_root) / SWEEPS}")
    root = Path(runs_root) / SWEEPS
    hits = [d for d in root.glob(ref + "*") if (d / "sweep.json").is_file()] if root.is_dir() else []
    exact = [d for d in hits if d.name == ref]
    if exact or len(hits) == 1:
        return (exact or hits)[0]
    if hits:
        raise SweepError(f"{ref!r} matches {len(hits)} sweeps; give more of the id")
    raise SweepError(f"no sweep {ref!r} in {root}")


def load_sweep(directory: Path) -> dict:
    try:
        doc = json.loads((directory / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SweepError(f"{directory / 'sweep.json'} is missing or corrupt") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise SweepError(f"{directory / 'sweep.json'} holds no cells")
    return doc


def run_state(run_dir: Path) -> str:
    """``complete`` (run.json says so), ``incomplete`` (has a plan: resumable) or
    ``not_started`` (no directory, or it stopped before its task list existed)."""
    try:
        if json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("status") == "complete":
            return "complete"
    except (OSError, ValueError, AttributeError):
        pass
    try:
        meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
        if isinstance(meta, dict) and (meta.get("plan") or {}).get("manifest"):
            return "incomplete"
    except (OSError, ValueError):
        pass
    return "not_started"


# ---------------------------------------------------------------------- the scheduler
def run_cells(doc: dict, directory: Path, runs_root: str, launch, *, serial: bool = False, stop: threading.Event | None = None, on_event=None, on_interrupt=None) -> dict:
    """Run every cell that is not complete: a fresh run, or ``--resume`` of its run when
    that run has finished tasks to keep. Groups (:func:`group_key`) run at the same
    time, the cells of a group one after another (all of them one after another with
    ``serial``). ``launch(cell, resume_dir or None) -> exit code`` runs one cell and must
    use ``cell["run_id"]``; ``sweep.json`` is rewritten before and after each cell, so a
    sweep killed at any moment still says which run is which cell. On Ctrl-C no new cell
    starts, ``on_interrupt()`` is called (stop the running ones) and the cells are
    waited for. Returns ``doc`` (``doc["interrupted"]`` says whether that happened)."""
    from benchloop.artifact import utcnow

    stop = stop or threading.Event()
    lock = threading.Lock()
    say = on_event or (lambda *a: None)
    t_start = time.perf_counter()
    ran = []

    def save():
        with lock:
            write_sweep(doc, directory)

    def one(cell: dict) -> None:
        rid = cell.get("run_id")
        rdir = Path(runs_root) / rid if rid else None
        if rdir is not None and rdir.exists():
            wait_unlocked(rdir)  # a cell of a killed sweep may still be winding down
        state = run_state(rdir) if rdir is not None else "not_started"
        if state == "complete":
            cell["status"] = "complete"
            return
        resume = str(rdir) if state == "incomplete" else None
        if resume is None:
            if rdir is not None and rdir.exists():
                cell["abandoned_runs"].append(rid)  # stopped before its first task: nothing to keep
            cell["run_id"] = cell_run_id(doc["sweep_id"], cell)
        cell["status"] = "running"
        save()
        say("start", cell, resume)
        t0 = time.perf_counter()
        at = utcnow()
        code = launch(cell, resume)
        wall = round(time.perf_counter() - t0, 3)
        state = run_state(Path(runs_root) / cell["run_id"])
        cell["status"] = {"complete": "complete", "incomplete": "incomplete"}.get(state, "failed")
        cell["wall_s"] = round(float(cell.get("wall_s") or 0) + wall, 3)
        cell["attempts"].append({"at": at, "action": "resume" if resume else "run", "run_id": cell["run_id"], "exit_code": code, "wall_s": wall})
        cell["load_ms"] = _load_ms(Path(runs_root) / cell["run_id"]) or cell.get("load_ms")
        ran.append(wall)
        save()
        say("end", cell, resume)

    def worker(cells: list[dict]) -> None:
        for cell in cells:
            if stop.is_set():
                return
            try:
                one(cell)
            except Exception as exc:  # a cell that could not even start must not stop its group
                cell["status"], cell["error"] = "failed", f"{type(exc).__name__}: {exc}"[:500]
                save()
                say("end", cell, None)

    groups: dict[str, list[dict]] = {}
    for cell in doc["cells"]:
        groups.setdefault("all" if serial else (cell.get("group") or "?"), []).append(cell)
    doc["status"] = "running"
    save()
    threads = [threading.Thread(target=worker, args=(cells,), name=f"sweep-{key}", daemon=True) for key, cells in groups.items()]
    for t in threads:
        t.start()
    interrupted = False
    try:
        for t in threads:
            while t.is_alive():
                try:
                    t.join(0.2)
                except KeyboardInterrupt:
                    interrupted = True
                    stop.set()
                    if on_interrupt is not None:
                        on_interrupt()
    finally:
        doc["interrupted"] = interrupted
        wall = round(time.perf_counter() - t_start, 3)
        with lock:
            for cell in doc["cells"]:
                if cell["status"] == "running":  # interrupted: what its run holds decides
                    st = run_state(Path(runs_root) / cell["run_id"]) if cell.get("run_id") else "not_started"
                    cell["status"] = {"complete": "complete", "incomplete": "incomplete"}.get(st, "failed")
                    cell["load_ms"] = _load_ms(Path(runs_root) / cell["run_id"]) if cell.get("run_id") else None
            doc["status"] = "complete" if all(c["status"] == "complete" for c in doc["cells"]) else "incomplete"
            doc["invocations"].append({"at": utcnow(), "wall_s": wall, "cells_run": len(ran), "cells_one_after_another_s": round(sum(ran), 3), "groups": len(groups)})
            doc["finished_at"] = utcnow()
            write_sweep(doc, directory)
    return doc


def cell_run_id(sweep_id: str, cell: dict) -> str:
    """``<sweep stamp and hex>-<cell>``: a cell's run sorts with its sweep and says which
    cell it is; a retry after a run that never got to its first task adds ``-rN``."""
    base = sweep_id[len("sweep-"):] if sweep_id.startswith("sweep-") else sweep_id
    n = len(cell.get("abandoned_runs") or [])
    return f"{base}-{cell['slug']}"[:120] + (f"-r{n + 1}" if n else "")


def wait_unlocked(run_dir: Path, timeout_s: float = 60.0) -> None:
    """Wait until no process holds the run's lock (at most ``timeout_s``)."""
    from benchloop.resume import RunLocked, lock_run

    end = time.monotonic() + timeout_s
    while True:
        try:
            fh = lock_run(run_dir)
        except RunLocked:
            if time.monotonic() > end:
                return
            time.sleep(0.1)
            continue
        if fh is not None:
            fh.close()
        return


def _load_ms(run_dir: Path):
    """The embedded engine's load time of a cell's run (None for a server)."""
    for name in ("run.json", "meta.json"):
        try:
            data = json.loads((run_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        engine = data.get("engine") if isinstance(data, dict) else None
        if isinstance(engine, dict) and engine.get("load_ms") is not None:
            return engine["load_ms"]
    return None


def load_cell_runs(doc: dict, runs_root: str) -> dict:
    """cell name -> its run (run.json, or rebuilt from the task log), None if none."""
    from benchloop.artifact import RunNotFound, load_run

    out = {}
    for cell in doc["cells"]:
        run = None
        if cell.get("run_id") and (Path(runs_root) / cell["run_id"]).is_dir():
            try:
                run = load_run(cell["run_id"], runs_root)
            except (RunNotFound, OSError):
                run = None
        out[cell["name"]] = run
    return out
