"""Scores from a run artifact: pure functions, so ``benchloop score RUN`` re-computes
exactly what the run printed.

- suite score: mean task score (0-100), with n and a 95% interval (Wilson when every
  task is pass/fail, bootstrap of the mean otherwise)
- quality: mean of the non-speed suite scores that ran
- reliability: the pass rate across the quality tasks (% passed): what the product
  promises is "it works", and a model that answers nothing never works, however
  politely it fails. Errors are their own figure (``errors``: count and rate, and per
  suite), shown in reports, never a score.
- speed (local): clamp(12.54 * log2(decode tok/s) + 0.9, 0, 100)
- speed (remote): 0.60 * TTFT score + 0.40 * tok/s score (see ``speed_score_remote``)
- overall: local 0.55 Q + 0.20 S + 0.25 R; remote 0.50 Q + 0.25 S + 0.25 R;
  without the speed suite 0.65 Q + 0.35 R. A speed suite that ran and failed gives
  S = 0; it never switches formula.
"""
from __future__ import annotations

import math

from benchloop.stats import bootstrap_mean, wilson

SCORING_VERSION = "scoring-2"  # scoring-1 counted "no provider error" as reliable; an empty model got 35
SPEED_FORMULA_VERSION = "speed-1"

# Remote speed curve constants (documented in docs/scoring.md).
TTFT_FULL_MS = 200.0      # at or under this TTFT the TTFT score is 100
TTFT_REF_MS = 2000.0      # ... and at this TTFT it has decayed to 40
TTFT_REF_SCORE = 40.0
TOKS_LOW, TOKS_LOW_SCORE = 20.0, 40.0     # tok/s score: 20 tok/s -> 40
TOKS_HIGH, TOKS_HIGH_SCORE = 150.0, 100.0  # ... 150 tok/s -> 100, log2 in between and beyond (clamped)

FORMULAS = {
    "local": {"quality": 0.55, "speed": 0.20, "reliability": 0.25},
    "remote": {"quality": 0.50, "speed": 0.25, "reliability": 0.25},
    "no_speed": {"quality": 0.65, "reliability": 0.35},
}


def clamp(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    return max(lo, min(hi, x))


def speed_score_local(decode_tok_s: float | None) -> float:
    if not decode_tok_s or decode_tok_s <= 0:
        return 0.0
    return round(clamp(12.54 * math.log2(decode_tok_s) + 0.9), 2)


def ttft_score(ttft_ms: float | None) -> float:
    """Exponential decay: 100 at <= 200 ms, 40 at 2,000 ms, monotonic decreasing."""
    if ttft_ms is None:
        return 0.0
    lam = math.log(100.0 / TTFT_REF_SCORE) / (TTFT_REF_MS - TTFT_FULL_MS)
    return round(clamp(100.0 * math.exp(-lam * max(0.0, ttft_ms - TTFT_FULL_MS))), 2)


def toks_score(tok_s: float | None) -> float:
    """Log curve through (20 tok/s, 40) and (150 tok/s, 100), clamped to 0-100."""
    if not tok_s or tok_s <= 0:
        return 0.0
    a = (TOKS_HIGH_SCORE - TOKS_LOW_SCORE) / math.log2(TOKS_HIGH / TOKS_LOW)
    return round(clamp(TOKS_LOW_SCORE + a * math.log2(tok_s / TOKS_LOW)), 2)


def speed_score_remote(ttft_ms: float | None, content_tok_s: float | None) -> float:
    return round(0.60 * ttft_score(ttft_ms) + 0.40 * toks_score(content_tok_s), 2)


def suite_score(tasks: list[dict]) -> dict:
    scores = [float(t.get("score") or 0.0) for t in tasks]
    n = len(scores)
    if n == 0:
        return {"score": None, "n": 0, "ci95": None, "passed": 0, "errors": 0, "interval": None}
    passed = sum(1 for t in tasks if t.get("passed"))
    binary = all(s in (0.0, 100.0) for s in scores)
    mean = sum(scores) / n
    ci = wilson(sum(1 for s in scores if s == 100.0), n) if binary else bootstrap_mean(scores)
    out = {
        "score": round(mean, 2),
        "n": n,
        "ci95": list(ci),
        "passed": passed,
        "errors": sum(1 for t in tasks if t.get("error")),
        "interval": "wilson" if binary else "bootstrap",
    }
    # instructfollow reports a loose score beside the strict one; a task without one
    # (errored) counts as 0, like its strict score.
    if any("loose_score" in (t.get("detail") or {}) for t in tasks):
        out["loose_score"] = round(sum(float((t.get("detail") or {}).get("loose_score") or 0.0) for t in tasks) / n, 2)
    return out


def score_run(run: dict) -> dict:
    """The ``scores`` block of run.json, from its tasks (and ``speed`` block)."""
    # A skipped task (the speed suite's concurrency sweep when not requested) is
    # neutral: it counts toward no suite, quality, speed or reliability number.
    tasks = [t for t in (run.get("tasks") or []) if not t.get("skipped")]
    by_suite: dict[str, list] = {}
    for t in tasks:
        by_suite.setdefault(t.get("suite") or "?", []).append(t)
    suites = {s: suite_score(ts) for s, ts in sorted(by_suite.items())}
    quality_suites = [v["score"] for s, v in suites.items() if s != "speed" and v["score"] is not None]
    quality = round(sum(quality_suites) / len(quality_suites), 2) if quality_suites else None
    judged = [t for t in tasks if t.get("suite") != "speed"] or tasks
    reliability = round(100.0 * sum(1 for t in judged if t.get("passed")) / len(judged), 2) if judged else None
    n_errors = sum(1 for t in tasks if t.get("error"))
    errors = {"count": n_errors, "rate": round(100.0 * n_errors / len(tasks), 2) if tasks else None}
    remote = bool(run.get("remote"))
    speed = None
    if "speed" in by_suite:
        sp = run.get("speed") or {}
        if remote:
            # content tok/s, not decode: a reasoning model that only thinks delivers no answer text
            content = sp.get("content_tok_s") if sp.get("content_tok_s") is not None else sp.get("decode_tok_s")
            speed = speed_score_remote(sp.get("ttft_ms"), content) if sp.get("decode_tok_s") and content else 0.0
        else:
            speed = speed_score_local(sp.get("decode_tok_s"))
        suites["speed"]["score"] = speed
    if quality is None:
        formula, overall = "none", None
    elif speed is None:
        formula = "no_speed"
        overall = FORMULAS[formula]["quality"] * quality + FORMULAS[formula]["reliability"] * (reliability or 0)
    else:
        formula = "remote" if remote else "local"
        w = FORMULAS[formula]
        overall = w["quality"] * quality + w["speed"] * speed + w["reliability"] * (reliability or 0)
    length_cut = sum(1 for t in tasks if t.get("finish_reason") == "length")
    return {
        "overall": None if overall is None else round(overall, 2),
        "quality": quality,
        "speed": speed,
        "reliability": reliability,
        "errors": errors,
        "formula": formula,
        "weights": FORMULAS.get(formula),
        "scoring_version": SCORING_VERSION,
        "speed_formula_version": SPEED_FORMULA_VERSION,
        "suites": suites,
        "finish_length": length_cut,
    }
