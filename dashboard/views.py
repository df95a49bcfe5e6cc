"""Pure functions from run artifacts / index rows to what the dashboard's API returns.

Kept apart from the FastAPI glue (``app.py``) so they are tested as plain functions and
reused by anything else that wants the same tables (the leaderboard server, exports).
Model output is passed through as data (strings in JSON); the browser renders it with
``textContent`` only.
"""
from __future__ import annotations

import functools
import re
from typing import Any

from benchloop.catalog import SUITES

HEAVY_TASK_FIELDS = ("request", "response", "prompt", "reasoning", "turns", "checks", "tool_calls", "server_timings", "detail")
PREVIEW_CHARS = 160
SUITE_ORDER = list(SUITES)


def _num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def model_name(run: dict) -> str | None:
    m = run.get("model")
    return m.get("name") if isinstance(m, dict) else (m if isinstance(m, str) else None)


def task_row(t: dict) -> dict:
    """A task as the run page's table shows it: measurements, verdict, a short preview."""
    out = {k: v for k, v in t.items() if k not in HEAVY_TASK_FIELDS and k != "output"}
    text = t.get("output") if isinstance(t.get("output"), str) else ""
    out["output_preview"] = text[:PREVIEW_CHARS]
    out["output_chars"] = len(text)
    turns = t.get("turns")
    out["n_turns"] = len(turns) if isinstance(turns, list) else 0
    out["n_checks"] = len(t.get("checks")) if isinstance(t.get("checks"), list) else 0
    out["kind"] = task_kind(t)
    return out


def trim_run(run: dict) -> dict:
    """run.json without the per-task receipts (outputs, raw requests and responses):
    the run page loads fast and fetches one task in full when asked."""
    out = {k: v for k, v in run.items() if k != "tasks"}
    out["tasks"] = [task_row(t) for t in run.get("tasks") or [] if isinstance(t, dict)]
    return out


def find_task(run: dict, suite: str, task_id: str) -> dict | None:
    for t in run.get("tasks") or []:
        if isinstance(t, dict) and t.get("suite") == suite and t.get("task_id") == task_id:
            return t
    return None


# ------------------------------------------------------------------ leaderboard
LEADER_KEY = ("model", "harness", "hardware", "profile")


def leaderboard(rows: list[dict]) -> dict:
    """Best complete run per model × harness × hardware × profile, grouped by manifest
    hash: only runs of the same tasks, checkers and scoring stand side by side. Runs
    without a manifest hash are counted but not ranked."""
    groups: dict[str, dict] = {}
    unranked = 0
    for r in rows:
        if r.get("status") != "complete":
            continue
        mh = r.get("manifest_hash")
        if not mh:
            unranked += 1
            continue
        g = groups.setdefault(mh, {"manifest_hash": mh, "cells": {}, "n_runs": 0, "latest": "", "suites": set(), "profiles": set()})
        g["n_runs"] += 1
        g["latest"] = max(g["latest"], r.get("started_at") or "")
        g["suites"].update((r.get("suites") or {}).keys())
        if r.get("profile"):
            g["profiles"].add(r["profile"])
        key = tuple(r.get(k) or "" for k in LEADER_KEY)
        cell = g["cells"].get(key)
        if cell is None:
            g["cells"][key] = {"best": r, "n_runs": 1}
            continue
        cell["n_runs"] += 1
        best = cell["best"]
        if _better(r, best):
            cell["best"] = r
    out = []
    for g in groups.values():
        entries = []
        for cell in g["cells"].values():
            b = cell["best"]
            entries.append(
                {
                    "run_id": b["run_id"],
                    "model": b.get("model"),
                    "harness": b.get("harness"),
                    "hardware": b.get("hardware"),
                    "profile": b.get("profile"),
                    "provider": b.get("provider"),
                    "remote": b.get("remote"),
                    "overall": b.get("overall"),
                    "quality": b.get("quality"),
                    "speed": b.get("speed"),
                    "reliability": b.get("reliability"),
                    "decode_tok_s": b.get("decode_tok_s"),
                    "ttft_ms": b.get("ttft_ms"),
                    "suites": b.get("suites") or {},
                    "started_at": b.get("started_at"),
                    "n_runs": cell["n_runs"],
                }
            )
        entries.sort(key=lambda e: (-(e["overall"] if e["overall"] is not None else -1.0), e["model"] or ""))
        for i, e in enumerate(entries, 1):
            e["rank"] = i
        out.append(
            {
                "manifest_hash": g["manifest_hash"],
                "suites": sorted(g["suites"]),
                "profiles": sorted(g["profiles"]),
                "n_runs": g["n_runs"],
                "latest": g["latest"],
                "rows": entries,
            }
        )
    out.sort(key=lambda g: (len(g["rows"]), g["n_runs"], g["latest"]), reverse=True)
    return {"groups": out, "unranked": unranked}


# ------------------------------------------------------------- one board per formula
BOARD_KEY = ("model", "harness", "hardware", "provider", "task_set")
BOARDS = {
    "local": "Local: models served on the machine that ran them (overall = 0.55·quality + 0.20·speed + 0.25·reliability)",
    "remote": "Remote endpoints (overall = 0.50·quality + 0.25·speed + 0.25·reliability; speed from TTFT and content tok/s)",
}
PARAMS = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z0-9])", re.I)
QUANT = re.compile(r"(?<![a-z0-9])(i?q\d(?:_[0-9a-z]+)*|bf16|f16|fp16|fp8|f32|int[48]|awq|gptq|mxfp4)(?![a-z0-9])", re.I)


def size_and_quant(row: dict) -> tuple[str | None, str | None]:
    """Parameter count and quantization: the run's own when it recorded them, else read
    from the model name (``qwen3:8b`` -> 8B, ``…-Q4_K_M.gguf`` -> Q4_K_M); None when unknown."""
    name = str(row.get("model") or "")
    params = row.get("parameters")
    if not params:
        m = PARAMS.search(name.replace("_", "-"))
        params = f"{m.group(1)}{m.group(2).upper()}" if m else None
    quant = row.get("quantization")
    if not quant:
        m = QUANT.search(name.replace("-", " ").replace(".", " "))
        quant = m.group(1).upper() if m else None
    return (str(params)[:20] if params else None, str(quant)[:20] if quant else None)


def task_set_name(profile: str | None, suites) -> str:
    """A task set in words: ``full · 7 suites``, ``quick · reasonmath``."""
    try:
        return _task_set_name(profile, tuple(suites))
    except TypeError:  # an unhashable suite name in a damaged row: named without the memo
        return _task_set_words(profile, suites)


@functools.lru_cache(maxsize=4096)
def _task_set_name(profile: str | None, suites: tuple) -> str:
    """(Memoized: a board of 100,000 runs names a handful of task sets 100,000 times.)"""
    return _task_set_words(profile, suites)


def _task_set_words(profile, suites) -> str:
    suites = [str(s) for s in suites]
    names = [s for s in SUITE_ORDER if s in suites] + sorted(s for s in suites if s not in SUITE_ORDER)
    what = ", ".join(names) if len(names) <= 2 else f"{len(names)} suites"
    return f"{profile or 'custom'} · {what or 'no suites'}"


def boards(rows: list[dict]) -> dict:
    """The leaderboard to choose from: one table per board (local or remote formula;
    never ranked together), one row per model × harness × hardware × provider × task
    set (its best complete run), a column per suite (blank where the row did not run
    it). Both harnesses of one model are rows of the same table: harness is what you
    compare, not a reason to split. Runs without a manifest hash are not ranked."""
    cells: dict[tuple, dict] = {}
    for r in rows:
        if r.get("status") != "complete" or not r.get("manifest_hash"):
            continue
        suites = r.get("suites") or {}
        ts = task_set_name(r.get("profile"), suites)
        board = "remote" if r.get("remote") or r.get("formula") == "remote" else "local"
        key = (board,) + tuple((ts if k == "task_set" else r.get(k)) or "" for k in BOARD_KEY)
        cell = cells.get(key)
        if cell is None:
            cells[key] = {"best": r, "n_runs": 1, "board": board, "task_set": ts}
        else:
            cell["n_runs"] += 1
            if _better(r, cell["best"]):
                cell["best"] = r
    out = {b: {"board": b, "title": t, "rows": [], "suites": set(), "task_sets": set()} for b, t in BOARDS.items()}
    for cell in cells.values():
        b = cell["best"]
        params, quant = size_and_quant(b)
        board = out[cell["board"]]
        board["suites"].update(b.get("suites") or {})
        board["task_sets"].add(cell["task_set"])
        board["rows"].append({
            "run_id": b["run_id"], "model": b.get("model"), "harness": b.get("harness"), "hardware": b.get("hardware"),
            "provider": b.get("provider"), "profile": b.get("profile"), "task_set": cell["task_set"], "parameters": params,
            "quantization": quant, "formula": b.get("formula"), "overall": b.get("overall"), "quality": b.get("quality"),
            "speed": b.get("speed"), "reliability": b.get("reliability"), "decode_tok_s": b.get("decode_tok_s"),
            "ttft_ms": b.get("ttft_ms"), "started_at": b.get("started_at"), "n_runs": cell["n_runs"],
            "suites": {s: {"score": v.get("score"), "n": v.get("n"), "ci95": v.get("ci95")} for s, v in (b.get("suites") or {}).items() if isinstance(v, dict)},
        })
    result = []
    for board in out.values():
        if not board["rows"]:
            continue
        board["rows"].sort(key=lambda e: (-(e["overall"] if e["overall"] is not None else -1.0), e["model"] or "", e["harness"] or ""))
        for i, e in enumerate(board["rows"], 1):
            e["rank"] = i
        board["suites"] = [s for s in SUITE_ORDER if s in board["suites"]] + sorted(s for s in board["suites"] if s not in SUITE_ORDER)
        board["task_sets"] = sorted(board["task_sets"])
        result.append(board)
    return {"boards": result}


def _better(a: dict, b: dict) -> bool:
    """Higher overall wins; a tie goes to the newer run."""
    oa, ob = a.get("overall"), b.get("overall")
    oa = -1.0 if oa is None else oa
    ob = -1.0 if ob is None else ob
    if oa != ob:
        return oa > ob
    return (a.get("started_at") or "") > (b.get("started_at") or "")


# ---------------------------------------------------------------------- compare
def run_header(run: dict) -> dict:
    sc = run.get("scores") if isinstance(run.get("scores"), dict) else {}
    machine = run.get("machine") if isinstance(run.get("machine"), dict) else {}
    return {
        "run_id": run.get("run_id"),
        "model": model_name(run),
        "provider": run.get("provider"),
        "harness": run.get("harness"),
        "hardware": machine.get("hardware"),
        "profile": run.get("profile"),
        "status": run.get("status"),
        "started_at": run.get("started_at"),
        "manifest_hash": run.get("manifest_hash"),
        "overall": _num(sc.get("overall")),
        "quality": _num(sc.get("quality")),
        "speed": _num(sc.get("speed")),
        "reliability": _num(sc.get("reliability")),
    }


COMPARE_OUTPUT_CHARS = 600


def task_kind(t: dict) -> str:
    """What happened to a task, in one word: error (the provider or harness failed; no
    answer to judge), skipped, pass, partial or wrong (an answer that the checker rejected)."""
    if t.get("error"):
        return "error"
    if t.get("skipped"):
        return "skipped"
    if t.get("passed"):
        return "pass"
    score = _num(t.get("score"))
    return "partial" if score else "wrong"


def compare_cell(t: dict) -> dict:
    """One task of one run in the compare view: verdict, the start of its output (or its
    error) to read side by side, and the checker's reason."""
    out = t.get("output") if isinstance(t.get("output"), str) else ""
    return {
        "score": _num(t.get("score")), "passed": bool(t.get("passed")), "error": bool(t.get("error")), "kind": task_kind(t),
        "latency_ms": _num(t.get("latency_ms")), "output": out[:COMPARE_OUTPUT_CHARS], "output_chars": len(out),
        "error_text": str(t.get("error"))[:300] if t.get("error") else None, "reason": str(t.get("reason") or "")[:300],
    }


def _overlap(a, b) -> bool | None:
    if not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == 2 and len(b) == 2):
        return None
    try:
        return not (float(a[1]) < float(b[0]) or float(b[1]) < float(a[0]))
    except (TypeError, ValueError):
        return None


def compare_tables(runs: list[dict]) -> dict:
    """Side by side per suite and per task; the first run is the baseline.

    Significance here is the conservative fallback: a suite difference counts as
    significant when the two stored 95% intervals do not overlap. When
    ``benchloop.compare.compare_runs`` exists its paired tests replace this verdict
    (see :func:`compare_payload`)."""
    headers = [run_header(r) for r in runs]
    hashes = {h["manifest_hash"] for h in headers}
    suites = sorted({s for r in runs for s in ((r.get("scores") or {}).get("suites") or {})})
    suite_rows = []
    for s in suites:
        cells = []
        for r in runs:
            v = ((r.get("scores") or {}).get("suites") or {}).get(s)
            cells.append(None if not isinstance(v, dict) else {"score": _num(v.get("score")), "n": v.get("n"), "ci95": v.get("ci95")})
        b = cells[0]
        deltas = []
        for r, c in zip(runs[1:], cells[1:]):
            if b is None or c is None or b["score"] is None or c["score"] is None:
                deltas.append({"run_id": r.get("run_id"), "delta": None, "significant": None, "method": None})
                continue
            ov = _overlap(b["ci95"], c["ci95"])
            deltas.append({"run_id": r.get("run_id"), "delta": round(c["score"] - b["score"], 2), "significant": None if ov is None else (not ov), "p_value": None, "method": "ci95-overlap"})
        suite_rows.append({"suite": s, "cells": cells, "vs_baseline": deltas})
    by_run = []
    keys = set()
    for r in runs:
        m = {}
        for t in r.get("tasks") or []:
            if isinstance(t, dict):
                k = (t.get("suite") or "", t.get("task_id") or "")
                m[k] = t
                keys.add(k)
        by_run.append(m)
    task_rows = []
    changed = {"better": [0] * (len(runs) - 1), "worse": [0] * (len(runs) - 1)}
    for k in sorted(keys):
        cells = []
        for m in by_run:
            t = m.get(k)
            cells.append(None if t is None else compare_cell(t))
        scores = {None if c is None else (c["score"], c["kind"]) for c in cells}
        for i, c in enumerate(cells[1:]):
            if cells[0] and c and cells[0]["score"] is not None and c["score"] is not None:
                if c["score"] > cells[0]["score"]:
                    changed["better"][i] += 1
                elif c["score"] < cells[0]["score"]:
                    changed["worse"][i] += 1
        task_rows.append({"suite": k[0], "task_id": k[1], "cells": cells, "differs": len(scores) > 1})
    return {
        "runs": headers,
        "baseline": headers[0]["run_id"],
        "comparable": len(hashes) == 1 and None not in hashes,
        "suites": suite_rows,
        "tasks": task_rows,
        "task_changes": changed,
        "method": "ci95-overlap",
        "engine": "dashboard-fallback",
    }


def compare_payload(runs: list[dict]) -> dict:
    """The compare view. Uses ``benchloop.compare.compare_runs`` (paired tests: McNemar,
    paired sign-flip with a bootstrap interval) when that module is present, and always returns the side-by-side
    tables the UI draws."""
    out = compare_tables(runs)
    try:
        from benchloop.compare import compare_runs  # written by the receipts issue
    except ImportError:
        return out
    try:
        analysis = compare_runs(runs)
    except Exception as exc:  # a bug there must not take the page down
        out["analysis_error"] = f"{type(exc).__name__}: {exc}"[:300]
        return out
    out["analysis"] = analysis
    out["engine"] = "benchloop.compare"
    _merge_significance(out, analysis)
    return out


def _merge_significance(out: dict, analysis: Any) -> None:
    """Take the paired tests' verdicts from ``compare_runs`` (format
    ``benchloop-compare``: one entry in ``comparisons`` per run against the baseline,
    each with per-suite ``p``/``test``/``verdict``) into the side-by-side tables."""
    if not isinstance(analysis, dict) or not isinstance(analysis.get("comparisons"), list):
        return
    from benchloop.compare import ALPHA

    out["quality_tests"] = []
    out["banners"] = []
    for pair in analysis["comparisons"]:
        if not isinstance(pair, dict):
            continue
        other = pair.get("b")
        if pair.get("comparable") is False:
            out["comparable"] = False
            if pair.get("banner"):
                out["banners"].append(str(pair["banner"])[:600])
        q = pair.get("quality") if isinstance(pair.get("quality"), dict) else {}
        out["quality_tests"].append({"run_id": other, "diff": q.get("diff_shared"), "ci95": q.get("ci95"), "p_value": q.get("p"), "verdict": q.get("verdict"), "test": q.get("test"), "comparable": pair.get("comparable")})
        suites = pair.get("suites") if isinstance(pair.get("suites"), dict) else {}
        for row in out["suites"]:
            v = suites.get(row["suite"])
            if not isinstance(v, dict):
                continue
            for d in row["vs_baseline"]:
                if d["run_id"] != other:
                    continue
                p = v.get("p")
                p = p if isinstance(p, (int, float)) and not isinstance(p, bool) else None
                d["p_value"] = p
                d["significant"] = None if p is None else p < ALPHA
                d["method"] = str(v.get("test") or "no test")[:60]
                d["verdict"] = str(v.get("verdict") or "")[:120]
    out["method"] = "paired tests from benchloop.compare (McNemar for pass/fail, paired sign-flip test with a bootstrap interval for scores)"
