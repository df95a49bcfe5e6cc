"""Pure speed math: one streamed request's metrics and flags, and the summaries of a
scenario and of a concurrency level. No I/O: the driver measures, this turns its
ChatResults into numbers, and the checker and the run-level report read those numbers.
"""
from __future__ import annotations

import math

from benchloop.stats import summarize

# Metrics summarized per scenario (units in the names).
METRICS = (
    "ttfr_ms",
    "ttft_ms",
    "decode_tok_s",
    "content_tok_s",
    "prefill_tok_s",
    "latency_ms",
    "server_decode_tok_s",
    "server_prefill_tok_s",
    "client_server_ratio",
    "prompt_tokens",
    "completion_tokens",
)
# Flags that make a request unusable for the statistics.
INVALID_FLAGS = ("error", "truncated", "cached", "too_short")


def positive(x) -> float | None:
    """A positive finite float, else None (servers report 0.0 for "not measured")."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def server_rates(timings) -> dict:
    """The server's own decode/prefill rates from llama.cpp ``timings`` or Ollama
    ``eval_*``/``prompt_eval_*`` (durations in ns). Unknown shapes give Nones."""
    out = {"server_decode_tok_s": None, "server_prefill_tok_s": None, "server_prompt_n": None, "server_cache_n": None, "server_source": None}
    if not isinstance(timings, dict):
        return out
    if "predicted_per_second" in timings or "prompt_per_second" in timings:
        out.update(
            server_decode_tok_s=positive(timings.get("predicted_per_second")),
            server_prefill_tok_s=positive(timings.get("prompt_per_second")),
            server_prompt_n=timings.get("prompt_n"),
            server_cache_n=timings.get("cache_n"),
            server_source="llama.cpp timings",
        )
    elif "eval_count" in timings or "prompt_eval_count" in timings:
        ec, ed = positive(timings.get("eval_count")), positive(timings.get("eval_duration"))
        pc, pd = positive(timings.get("prompt_eval_count")), positive(timings.get("prompt_eval_duration"))
        out.update(
            server_decode_tok_s=(ec / (ed / 1e9)) if ec and ed else None,
            server_prefill_tok_s=(pc / (pd / 1e9)) if pc and pd else None,
            server_prompt_n=timings.get("prompt_eval_count"),
            server_source="ollama eval_count/eval_duration",
        )
    return out


def truncation_tolerance(expected: int) -> int:
    """Prompt-token slack before "fewer tokens than sent" counts as truncation: nonces
    and template seams may move a count by a token or two; truncation loses far more."""
    return max(2, int(round(0.01 * expected)))


def request_metrics(res, *, expected_prompt_tokens: int | None = None) -> dict:
    """One streamed request (a ``ChatResult``) -> its speed metrics and flags. Pure.

    See the module docstring for the decode formula. Prefill tok/s is the prompt tokens
    the server evaluated (reported minus cached) over TTFT: TTFT also holds the network
    round trip and the first sampling step, so it is a slight underestimate of the rate.
    """
    flags: list[str] = []
    notes: list[str] = []
    n = res.completion_tokens
    m = int(res.content_chunks or 0)
    if n is None:
        n = m
    n = int(n or 0)
    if res.token_source != "server":
        notes.append("no server usage: tokens counted from stream chunks (assumes one token per chunk)")
    span = None
    if res.t_first_token is not None and res.t_last_token is not None:
        span = res.t_last_token - res.t_first_token
    first_chunk_tokens = (n / m) if m else None
    decode = None
    if m >= 2 and n >= 2 and span and span > 0:
        decode = (n - first_chunk_tokens) / span
    else:
        flags.append(f"too_short: {m} token chunk(s), {n} token(s); decode needs at least two chunks")
    # Content tok/s: decode with the reasoning share taken out (a reasoning model's
    # thinking is not output the user reads). Server count where given, else by text.
    reasoning_tokens = res.reasoning_tokens
    share = 1.0
    if n and reasoning_tokens:
        share = max(0.0, (n - min(int(reasoning_tokens), n)) / n)
    elif res.reasoning:
        total = len(res.content or "") + len(res.reasoning or "")
        share = (len(res.content or "") / total) if total else 1.0
        if share < 1.0:
            notes.append("reasoning token count estimated from text length (server gave none)")
    content = decode * share if decode is not None else None
    prompt = res.prompt_tokens
    cached = int(res.cached_tokens or 0)
    srv = server_rates(res.server_timings)
    if srv["server_cache_n"]:
        cached = max(cached, int(srv["server_cache_n"] or 0))
    if cached > 0:
        flags.append(f"cached: the server reused {cached} cached prompt tokens")
    if expected_prompt_tokens and prompt is not None:
        tol = truncation_tolerance(expected_prompt_tokens)
        if prompt < expected_prompt_tokens - tol:
            flags.append(f"truncated: the server counted {prompt} prompt tokens, {expected_prompt_tokens} were sent")
        elif prompt > expected_prompt_tokens + tol:
            notes.append(f"prompt larger than calibrated: {prompt} tokens, {expected_prompt_tokens} expected")
    ttft = res.ttft_ms
    evaluated = (prompt - cached) if prompt is not None else None
    prefill = (evaluated / (ttft / 1000.0)) if evaluated and ttft and ttft > 0 else None
    ratio = (decode / srv["server_decode_tok_s"]) if decode and srv["server_decode_tok_s"] else None
    r = lambda x, d=3: None if x is None else round(float(x), d)  # noqa: E731
    out = {
        "ttfr_ms": r(res.ttfr_ms),
        "ttft_ms": r(ttft),
        "latency_ms": r(res.latency_ms),
        "decode_tok_s": r(decode),
        "content_tok_s": r(content),
        "prefill_tok_s": r(prefill),
        "prompt_tokens": prompt,
        "expected_prompt_tokens": expected_prompt_tokens,
        "cached_tokens": cached,
        "completion_tokens": n,
        "reasoning_tokens": reasoning_tokens,
        "token_chunks": m,
        "first_chunk_tokens": r(first_chunk_tokens),
        "decode_span_ms": r(span * 1000.0 if span is not None else None),
        "token_source": res.token_source,
        "finish_reason": res.finish_reason,
        "server_decode_tok_s": r(srv["server_decode_tok_s"]),
        "server_prefill_tok_s": r(srv["server_prefill_tok_s"]),
        "server_prompt_n": srv["server_prompt_n"],
        "server_source": srv["server_source"],
        "client_server_ratio": r(ratio, 4),
        "flags": flags,
        "notes": notes,
    }
    out["valid"] = is_valid(out)
    return out


def is_valid(m: dict) -> bool:
    return not any(str(f).split(":", 1)[0] in INVALID_FLAGS for f in m.get("flags") or [])


def error_metrics(exc, expected_prompt_tokens: int | None = None) -> dict:
    """A request that failed (provider error): no numbers, one invalidating flag."""
    kind = getattr(exc, "kind", type(exc).__name__)
    return {"error": str(exc)[:300], "error_kind": kind, "expected_prompt_tokens": expected_prompt_tokens, "flags": [f"error: {str(exc)[:200]}"], "notes": [], "valid": False}



def summarize_requests(requests: list[dict]) -> dict:
    """median / p90 / mean ± sd / 95% CI per metric over the valid requests."""
    valid = [q for q in requests if q.get("valid")]
    return {k: summarize([q[k] for q in valid if q.get(k) is not None]) for k in METRICS}


def _median(metrics: dict, key: str):
    return (metrics.get(key) or {}).get("median")


def scenario_summary(task: dict, requests: list[dict], *, trials: int, setup_flags: list[str] | None = None) -> dict:
    """Per-scenario result (JSON-able): summaries, headline medians, validity and flags.

    Valid = no request was truncated, and at least half of the requests (rounded up)
    are valid (no error, no cache reuse, measurable decode). Invalid requests never
    enter the statistics.
    """
    metrics = summarize_requests(requests)
    n_valid = sum(1 for q in requests if q.get("valid"))
    need = max(1, math.ceil(trials / 2))
    flags: list[str] = list(setup_flags or [])
    notes: list[str] = []
    for q in requests:
        for f in q.get("flags") or []:
            if f not in flags:
                flags.append(f)
        for x in q.get("notes") or []:
            if x not in notes:
                notes.append(x)
    truncated = any(str(f).startswith("truncated") for f in flags)
    valid = (not truncated) and n_valid >= need
    if not valid and not truncated:
        flags.append(f"too_few_valid: {n_valid} of {len(requests)} requests valid, {need} needed")
    finish: dict[str, int] = {}
    for q in requests:
        fr = str(q.get("finish_reason"))
        finish[fr] = finish.get(fr, 0) + 1
    return {
        "task_id": task.get("id"),
        "scenario": task.get("scenario"),
        "kind": "scenario",
        "valid": valid,
        "trials": trials,
        "valid_trials": n_valid,
        "decode_tok_s": _median(metrics, "decode_tok_s"),
        "content_tok_s": _median(metrics, "content_tok_s"),
        "prefill_tok_s": _median(metrics, "prefill_tok_s"),
        "ttft_ms": _median(metrics, "ttft_ms"),
        "ttft_p90_ms": (metrics.get("ttft_ms") or {}).get("p90"),
        "ttfr_ms": _median(metrics, "ttfr_ms"),
        "latency_ms": _median(metrics, "latency_ms"),
        "server_decode_tok_s": _median(metrics, "server_decode_tok_s"),
        "server_prefill_tok_s": _median(metrics, "server_prefill_tok_s"),
        "client_server_ratio": _median(metrics, "client_server_ratio"),
        "prompt_tokens_measured": _median(metrics, "prompt_tokens"),
        "completion_tokens_measured": _median(metrics, "completion_tokens"),
        "metrics": metrics,
        "finish_reasons": finish,
        "flags": flags,
        "notes": notes,
    }



def level_summary(c: int, results: list[dict], *, rounds: int, slots: int | None = None) -> dict:
    """One concurrency level from its requests (each with ``t_start``/``t_end``)."""
    valid = [q for q in results if q.get("valid")]
    flags = sorted({f for q in results for f in q.get("flags") or []})
    wall = (max(q["t_end"] for q in results) - min(q["t_start"] for q in results)) if results else 0.0
    tokens = sum(int(q.get("completion_tokens") or 0) for q in valid)
    decode = summarize([q["decode_tok_s"] for q in valid if q.get("decode_tok_s") is not None])
    ttft = summarize([q["ttft_ms"] for q in valid if q.get("ttft_ms") is not None])
    need = max(1, math.ceil(len(results) / 2))
    out = {
        "concurrency": c,
        "requests": len(results),
        "valid_requests": len(valid),
        "aggregate_tok_s": round(tokens / wall, 3) if wall > 0 and tokens else None,
        "per_stream_tok_s": decode["median"],
        "per_stream": decode,
        "ttft_p90_ms": ttft["p90"],
        "ttft_ms": ttft,
        "wall_ms": round(wall * 1000, 3),
        "rounds": rounds,
        "flags": flags,
        "valid": len(valid) >= need and not any(f.startswith("truncated") for f in flags),
    }
    if slots and c > slots:
        out["note"] = f"the server has {slots} slot(s): requests beyond that wait in its queue"
    return out

