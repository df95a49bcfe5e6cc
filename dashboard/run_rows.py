"""One run directory as one index row: what the run index stores about a run, read
defensively (a run.json edited by hand or written by another version must not break the
list), and the file signature that says when to read it again.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from benchloop.artifact import load_run

ARTIFACT_FILES = ("run.json", "tasks.jsonl", "meta.json")
TEXT_LIMIT = 300


def _num(v):
    """A finite number or None (booleans and strings are not scores)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if v != v or v in (float("inf"), float("-inf")):
        return None
    return float(v)


def _text(v, limit: int = TEXT_LIMIT):
    if v is None:
        return None
    if not isinstance(v, (str, int, float)):
        return None
    s = str(v)
    return s[:limit]


def summarize_run(run: dict, run_id: str) -> dict:
    """The index row of one loaded artifact. Defensive about types: a run.json edited
    by hand or written by another version must not break the list."""
    if not isinstance(run, dict):
        raise ValueError("run.json is not a JSON object")
    model = run.get("model")
    model_name = model.get("name") if isinstance(model, dict) else model
    machine = run.get("machine") if isinstance(run.get("machine"), dict) else {}
    scores = run.get("scores") if isinstance(run.get("scores"), dict) else {}
    speed = run.get("speed") if isinstance(run.get("speed"), dict) else {}
    tasks = [t for t in (run.get("tasks") or []) if isinstance(t, dict)] if isinstance(run.get("tasks"), list) else []
    suites = {}
    raw_suites = scores.get("suites") if isinstance(scores.get("suites"), dict) else {}
    for name, s in list(raw_suites.items())[:100]:
        if not isinstance(s, dict):
            continue
        ci = s.get("ci95")
        ci = [_num(ci[0]), _num(ci[1])] if isinstance(ci, (list, tuple)) and len(ci) == 2 else None
        n = s.get("n")
        suites[_text(name, 60)] = {"score": _num(s.get("score")), "n": n if isinstance(n, int) and not isinstance(n, bool) else None, "ci95": ci}
    hardware = machine.get("model_hardware") if run.get("remote") and machine.get("model_hardware") else machine.get("hardware")
    status = run.get("status")
    return {
        "run_id": run_id,
        "status": _text(status, 20) if status in ("complete", "incomplete") else "incomplete",
        "model": _text(model_name),
        "provider": _text(run.get("provider"), 40),
        "harness": _text(run.get("harness"), 40),
        "hardware": _text(hardware),
        "profile": _text(run.get("profile"), 20),
        "endpoint": _text(run.get("endpoint")),
        "remote": 1 if run.get("remote") is True else 0,
        "started_at": _text(run.get("started_at"), 40),
        "finished_at": _text(run.get("finished_at"), 40),
        "overall": _num(scores.get("overall")),
        "quality": _num(scores.get("quality")),
        "speed": _num(scores.get("speed")),
        "reliability": _num(scores.get("reliability")),
        "formula": _text(scores.get("formula"), 20),
        "decode_tok_s": _num(speed.get("decode_tok_s")),
        "ttft_ms": _num(speed.get("ttft_ms")),
        "n_tasks": len(tasks),
        "n_passed": sum(1 for t in tasks if t.get("passed") is True),
        "n_errors": sum(1 for t in tasks if t.get("error")),
        "manifest_hash": _text(run.get("manifest_hash"), 128),
        "benchloop_version": _text(run.get("benchloop_version"), 40),
        "suites": suites,
        "error": None,
    }


def read_run_dir(d: Path) -> dict:
    """Load one run directory: ``run.json`` when present, otherwise the run rebuilt from
    ``meta.json`` + ``tasks.jsonl`` (a run in progress or killed). Raises on anything broken."""
    rj = d / "run.json"
    if rj.exists():
        with open(rj, encoding="utf-8") as f:
            try:
                run = json.load(f)
            except ValueError as exc:
                raise ValueError(f"run.json is not valid JSON ({exc.msg} at line {exc.lineno}); half-written or corrupt") from None
        if not isinstance(run, dict):
            raise ValueError("run.json is not a JSON object")
        return run
    if (d / "tasks.jsonl").exists() or (d / "meta.json").exists():
        return load_run(str(d), d.parent)
    raise ValueError("no run.json, meta.json or tasks.jsonl in this directory")


def signature(d: Path) -> str | None:
    """Size and mtime of the artifact files: changes whenever a run is written to."""
    parts = []
    for name in ARTIFACT_FILES:
        try:
            st = os.stat(d / name)
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


def newest_mtime_ns(sig: str | None) -> int:
    """The newest file mtime in a :func:`signature` (0 when it names no file)."""
    best = 0
    for part in (sig or "").split("|"):
        if ":" in part:
            best = max(best, int(part.split(":", 1)[1]))
    return best


def dir_mtime(d: Path) -> int | None:
    try:
        return os.stat(d).st_mtime_ns
    except OSError:
        return None
