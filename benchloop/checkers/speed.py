"""speed checker: the verdict of a measurement. Pure: no I/O, no model.

The driver (:mod:`benchloop.drivers.speed`) measures and puts its summary in
``Exchange.answer``; this turns it into a score and pass/fail:

- a scenario scores the documented speed score of its decode rate
  (``scoring.speed_score_local``), or for a remote endpoint ``speed_score_remote`` of its
  TTFT and content tok/s; an invalid measurement (truncated, cached, too few valid
  requests) scores 0 and fails;
- a scenario skipped because its estimate did not fit in ``--speed-budget`` is skipped
  (passed, and no score counts it), its reason the estimate;
- the concurrency sweep scores its first level's per-stream rate the same way; not
  requested, it is skipped (passed, and no score counts it); a bad ``--concurrency``
  fails with the fix.

The answer: ``{"speed": <scenario or sweep summary>, "remote": bool}``, or
``{"error": why}`` when the sweep's settings were unusable.
"""
from __future__ import annotations

from benchloop.record import Verdict

CHECKER_VERSION = "speed-2"  # hashed into the manifest: bump whenever a verdict could change
# speed-2: adaptive trials (3 to --trials, stop at ±2%), a scenario over --speed-budget is skipped
SCENARIOS = ("short", "medium", "long")
KINDS = ("scenario", "sweep")
MAX_PROMPT_TOKENS = 131072


def validate(task: dict):
    """Task-file check, run at collection."""
    kind = task.get("kind", "scenario")
    if kind not in KINDS:
        return ("kind", f"must be one of {', '.join(KINDS)}")
    if kind == "scenario" and task.get("scenario") not in SCENARIOS:
        return ("scenario", f"must be one of {', '.join(SCENARIOS)}")
    pt = task.get("prompt_tokens")
    if not isinstance(pt, int) or not (16 <= pt <= MAX_PROMPT_TOKENS):
        return ("prompt_tokens", f"must be an integer from 16 to {MAX_PROMPT_TOKENS}")
    mt = task.get("max_tokens")
    if not isinstance(mt, int) or not (2 <= mt <= 8192):
        return ("max_tokens", "must be an integer from 2 to 8192 (decode needs two tokens)")
    for f in ("warmup", "rounds"):
        if f in task and not (isinstance(task[f], int) and 0 <= task[f] <= 10):
            return (f, "must be an integer from 0 to 10")
    if "min_trials" in task and not (isinstance(task["min_trials"], int) and 1 <= task["min_trials"] <= 10):
        return ("min_trials", "must be an integer from 1 to 10")
    sp = task.get("settle_pct")
    if "settle_pct" in task and not (isinstance(sp, (int, float)) and not isinstance(sp, bool) and 0.1 <= sp <= 50):
        return ("settle_pct", "must be a number from 0.1 to 50 (percent of the median)")
    return None


def check(task: dict, answer) -> Verdict:
    """The verdict of one speed task from the driver's answer (see the module docstring)."""
    answer = answer if isinstance(answer, dict) else {}
    if answer.get("error"):
        return Verdict(0.0, False, str(answer["error"]))
    summary = answer.get("speed") if isinstance(answer.get("speed"), dict) else {}
    remote = bool(answer.get("remote"))
    if summary.get("kind") == "sweep":
        return sweep_verdict(summary, remote=remote)
    return scenario_verdict(summary, remote=remote)


def _valid_check(ok: bool, flags) -> list[dict]:
    return [{"name": "valid_measurement", "ok": bool(ok), "detail": "; ".join(flags or []) or "all requests valid"}]


def _f(v) -> str:
    return "—" if v is None else f"{v:.1f}"


def scenario_verdict(summary: dict, *, remote: bool) -> Verdict:
    """Score and pass/fail of one scenario: the speed score of its decode rate (local) or
    of its TTFT and content tok/s (remote); an invalid measurement scores 0."""
    from benchloop.scoring import speed_score_local, speed_score_remote

    if summary.get("skipped"):
        return Verdict(0.0, True, str(summary.get("stop_reason") or "skipped: over the --speed-budget"))
    checks = _valid_check(summary.get("valid"), summary.get("flags"))
    decode = summary.get("decode_tok_s")
    if not summary.get("valid") or not decode:
        why = "; ".join(summary.get("flags") or []) or "no valid measurement"
        return Verdict(0.0, False, f"invalid measurement: {why}", checks)
    if remote:
        score = speed_score_remote(summary.get("ttft_ms"), summary.get("content_tok_s") or decode)
    else:
        score = speed_score_local(decode)
    reason = (
        f"decode {_f(decode)} tok/s (median of {summary.get('valid_trials')}), TTFT {_f(summary.get('ttft_ms'))} ms, "
        f"prefill {_f(summary.get('prefill_tok_s'))} tok/s; server {_f(summary.get('server_decode_tok_s'))} tok/s"
    )
    if summary.get("stop_reason"):
        reason += f"; {summary['stop_reason']}"
    return Verdict(float(score), True, reason, checks)


def sweep_verdict(sweep: dict, *, remote: bool) -> Verdict:
    """The concurrency sweep: skipped when not requested; else valid only when every
    level is, scored by the first level's per-stream decode (and TTFT p90 if remote)."""
    from benchloop.scoring import speed_score_local, speed_score_remote

    if sweep.get("skipped"):
        return Verdict(0.0, True, "skipped: pass --concurrency (e.g. --concurrency 1,2,4) to run the concurrency sweep")
    levels = sweep.get("levels") or []
    valid = bool(sweep.get("valid")) and bool(levels)
    flags = sweep.get("flags") or []
    checks = _valid_check(valid, flags)
    if not valid:
        return Verdict(0.0, False, "invalid sweep: " + "; ".join(flags), checks)
    base = levels[0]
    ps = base.get("per_stream_tok_s")
    score = speed_score_remote(base.get("ttft_p90_ms"), ps) if remote else speed_score_local(ps)
    reason = "; ".join(
        f"c={lv['concurrency']}: {_f(lv['aggregate_tok_s'])} tok/s total, {_f(lv['per_stream_tok_s'])} per stream, TTFT p90 {_f(lv['ttft_p90_ms'])} ms" for lv in levels
    )
    return Verdict(float(score), True, reason, checks)
