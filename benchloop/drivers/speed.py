"""The speed driver: the measuring loop of one scenario, or of the opt-in concurrency sweep.

It talks to the provider directly, not through ``Conversation.chat``: a speed request is
streamed raw (no harness rendering, no retries, which would hide a failure in the
numbers), and a failed request becomes an invalid trial, not the end of the task.

A scenario runs adaptive trials (:mod:`benchloop.speed.trials`): at least 3, stopping
once the 95% intervals of decode tok/s and TTFT are within ±2% of their medians, at
``--trials`` (the maximum) or at ``--speed-budget``; it is priced before it starts and
skipped with a note when its minimum does not fit in the budget left. Settings read:
``trials``, ``speed_budget``, ``remote``, ``concurrency``, and ``speed_fixed`` (no flag:
exactly ``trials`` trials with full warm-ups, the plan before speed-2, which
``benchmarks/speed_adaptive.py`` measures against).

It never judges. ``Exchange.answer`` is what :mod:`benchloop.checkers.speed` needs
(``{"speed": summary, "remote": bool}``, or ``{"error": why}`` for unusable sweep
settings); ``Exchange.extra`` holds the record fields the speed suite owns (``speed``,
``skipped``, and its own ``latency_ms``, ``ttft_ms``, token counts, ``output``,
``request``... in place of the per-request ones), which ``TaskRecord.build`` puts on
the record. The keys are the ones run.json has always had, so old runs re-score the same.
"""
from __future__ import annotations

import copy
import os
import statistics
import threading
import time

from benchloop.providers.base import ProviderError
from benchloop.record import Exchange
from benchloop.speed.calibrate import RATE_PROBE_TOKENS, NonceSource, PromptBuilder, plan_prompt_tokens, rate_probe_messages
from benchloop.speed.metrics import error_metrics, level_summary, request_metrics, scenario_summary, truncation_tolerance
from benchloop.speed.probe import bandwidth_once, describe_server, request_extra
from benchloop.speed.trials import WARM_TOKENS, Plan, clock_for, estimate, fits, intervals, next_step, stop_reason

MAX_LEVEL = 64  # largest concurrency level accepted
SAMPLE_CHARS = 400  # generated text kept per scenario, to eyeball what was measured
REQUEST_CHARS = 2000  # prompt text kept in the record's request copy
RATE_PROBE_MAX_TOKENS = 16  # output tokens of the calibration request that prices a scenario


def run(task: dict, conv) -> Exchange:
    """Measure one scenario (or the concurrency sweep) for ``task``."""
    with conv.task(task) as ex:
        if task.get("kind") == "sweep":
            _sweep(task, conv, ex)
        else:
            _scenario(task, conv, ex)
    return ex


def measure_request(provider, model: str, messages: list[dict], *, max_tokens: int, extra: dict | None, expected_prompt_tokens: int | None, temperature: float = 0.0, seed: int | None = 42) -> tuple[dict, object]:
    """One streamed request -> (metrics, ChatResult or None). Provider errors become an
    invalid request, never an exception: the other trials still count."""
    try:
        res = provider.chat(model, messages, stream=True, max_tokens=max_tokens, temperature=temperature, seed=seed, extra=extra)
    except ProviderError as exc:
        return error_metrics(exc, expected_prompt_tokens), None
    return request_metrics(res, expected_prompt_tokens=expected_prompt_tokens), res


def clone_provider(provider):
    """A provider for another thread: same endpoint and key, its own HTTP session
    (an HTTP session is not meant to be shared across threads)."""
    p = copy.copy(provider)
    p._session = None
    return p


def parse_levels(raw) -> list[int]:
    """``"1,2,4"`` -> [1, 2, 4]; raises ValueError naming the fix."""
    if raw in (None, ""):
        return []
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    levels = []
    for x in items:
        x = str(x).strip()
        if not x:
            continue
        if not x.isdigit() or not (1 <= int(x) <= MAX_LEVEL):
            raise ValueError(f"--concurrency {raw!r}: each level must be a whole number from 1 to {MAX_LEVEL}, e.g. 1,2,4,8")
        if int(x) not in levels:
            levels.append(int(x))
    return sorted(levels)


def _clip_request(body: dict | None) -> dict | None:
    """The request body kept in the record, the long prompt cut."""
    if not isinstance(body, dict):
        return None
    b = copy.deepcopy(body)
    for m in b.get("messages") or []:
        c = m.get("content")
        if isinstance(c, str) and len(c) > REQUEST_CHARS:
            m["content"] = c[:REQUEST_CHARS] + f"…[{len(c) - REQUEST_CHARS} more characters cut]"
    return b


def _workers_note() -> str | None:
    n = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if n and n.isdigit() and int(n) > 1:
        return f"measured while {n} pytest-xdist workers shared the server: the numbers include their contention"
    return None


def _size(task: dict, conv, max_tokens: int) -> tuple[dict, int, str | None]:
    """Server facts and the prompt size to use (clamped to the context, with a note)."""
    server = describe_server(conv.provider, conv.model)
    target, clamp_note = plan_prompt_tokens(task["prompt_tokens"], server.get("n_ctx"), max_tokens)
    return server, target, clamp_note


def _setup(task: dict, conv, max_tokens: int, sized: tuple | None = None) -> tuple[dict, PromptBuilder, dict, list[str], list[str]]:
    """Server facts, a calibrated prompt builder, and the notes/flags found on the way.
    A usage-calibrated prompt that cannot reach its size is truncation seen early."""
    server, target, clamp_note = sized or _size(task, conv, max_tokens)
    notes = [clamp_note] if clamp_note else []
    flags: list[str] = []
    builder = PromptBuilder(conv.provider, conv.model, server, temperature=conv.temperature, seed=conv.seed)
    cal = builder.calibrate(target)
    if cal.get("note"):
        notes.append(cal["note"])
    if cal["error_tokens"]:
        notes.append(f"calibration reached {cal['prompt_tokens']} prompt tokens for a target of {target} ({cal['method']})")
    if cal["method"] == "usage" and cal["prompt_tokens"] < target - truncation_tolerance(target) and not cal.get("note"):
        flags.append(f"truncated: the server never counted more than {cal['prompt_tokens']} prompt tokens for a prompt sized for {target}")
    if server.get("kind") == "ollama":
        notes.append("Ollama cannot disable its prompt cache and reports no cached tokens; the nonce keeps reuse to the template's first tokens")
    note = _workers_note()
    if note:
        notes.append(note)
    return server, builder, cal, notes, flags


def _rate_probe(conv, server: dict, extra: dict, n_ctx: int | None) -> tuple[dict | None, dict]:
    """One short calibration request (about 512 prompt tokens, 16 out) that measures
    prefill and decode rates when no scenario has yet in this worker; (rates, what it saw)."""
    size = RATE_PROBE_TOKENS if not n_ctx else max(16, min(RATE_PROBE_TOKENS, int(n_ctx) // 2))
    m, _res = measure_request(conv.provider, conv.model, rate_probe_messages(NonceSource().next(), size), max_tokens=RATE_PROBE_MAX_TOKENS, extra=extra, expected_prompt_tokens=None, temperature=conv.temperature, seed=conv.seed)
    seen = {k: m.get(k) for k in ("prompt_tokens", "prefill_tok_s", "decode_tok_s", "latency_ms", "error")}
    if not (m.get("prefill_tok_s") and m.get("decode_tok_s")):
        return None, seen
    return {"prefill_tok_s": m["prefill_tok_s"], "decode_tok_s": m["decode_tok_s"], "source": f"a calibration request of {m.get('prompt_tokens')} prompt tokens and {m.get('completion_tokens')} output tokens"}, seen


def _scenario(task: dict, conv, ex: Exchange) -> None:
    """Warm-up, then adaptive trials (see :mod:`benchloop.speed.trials`); the time it
    takes counts against the worker's ``--speed-budget``."""
    plan = Plan.from_settings(conv.settings, task)
    clock = clock_for(conv.provider)
    t_start = time.perf_counter()
    try:
        _measure(task, conv, ex, plan, clock, t_start)
    finally:
        clock.spent_s += time.perf_counter() - t_start


def _skip(task: dict, ex: Exchange, *, remote: bool, plan: Plan, est: dict, left_s: float, target: int, max_tokens: int, notes: list[str], t_start: float) -> None:
    """A scenario whose warm-up and minimum trials do not fit in the budget left: a
    skipped task with its estimate, never a silent gap."""
    why = (
        f"skipped: estimated {est['min_s']:.1f} s for its warm-up and {plan.min_trials} trials "
        f"({est['request_s']:.1f} s a request), {max(0.0, left_s):.1f} s of the {plan.budget_s:g} s --speed-budget left"
    )
    summary = {
        "task_id": task.get("id"), "scenario": task.get("scenario"), "kind": "scenario", "skipped": True, "valid": False,
        "target_prompt_tokens": task["prompt_tokens"], "prompt_tokens": target, "max_tokens": max_tokens,
        "trials": 0, "valid_trials": 0, **_plan_fields(plan), "stop": "budget", "stop_reason": why, "interval_pct": {},
        "estimate": est, "elapsed_s": round(time.perf_counter() - t_start, 3), "flags": [], "notes": notes, "metrics": {},
    }
    ex.answer = {"speed": summary, "remote": remote}
    ex.extra.update(skipped=True, speed=summary, prompt_tokens=target, finish_reason=None)


def _plan_fields(plan: Plan) -> dict:
    return {"min_trials": plan.min_trials, "max_trials": plan.max_trials, "target_pct": plan.target_pct, "budget_s": plan.budget_s}


def _measure(task: dict, conv, ex: Exchange, plan: Plan, clock, t_start: float) -> None:
    settings = conv.settings or {}
    remote = bool(settings.get("remote"))
    max_tokens = conv.max_tokens(task)
    warmups = int(task.get("warmup", 1))
    short_warmup = clock.warmed and not plan.fixed
    sized = _size(task, conv, max_tokens)
    server, target, _ = sized
    t_model = 0.0
    # Price the scenario before it starts (rates measured in this worker, else one
    # calibration request where a budget or the long prompt makes the price matter).
    rates, rate_probe = clock.rates(), None
    if rates is None and (plan.budget_s is not None or task.get("scenario") == "long"):
        rates, rate_probe = _rate_probe(conv, server, request_extra(server, prompt_tokens=target, max_tokens=max_tokens), server.get("n_ctx"))
        t_model += (rate_probe.get("latency_ms") or 0) / 1000
    left = clock.left_s(plan, time.perf_counter() - t_start)
    est = estimate(target, max_tokens, rates, plan, warmups=warmups, short_warmup=short_warmup, left_s=left)
    if est is not None and rate_probe is not None:
        est["rate_probe"] = rate_probe
    if not fits(est, left):
        ex.model_wait_ms = t_model * 1000
        _skip(task, ex, remote=remote, plan=plan, est=est, left_s=left, target=target, max_tokens=max_tokens, notes=[n for n in (sized[2], _workers_note()) if n], t_start=t_start)
        return
    server, builder, cal, notes, setup_flags = _setup(task, conv, max_tokens, sized)
    if rate_probe is not None and est is None:
        notes.append(f"not priced before it started: the calibration request measured no rates ({rate_probe.get('error') or 'too short to time'})")
    expected = cal["prompt_tokens"]
    extra = request_extra(server, prompt_tokens=expected, max_tokens=max_tokens)

    def one(n_out: int = max_tokens):
        return measure_request(conv.provider, conv.model, builder.messages(builder.nonces.next(), cal["k"]), max_tokens=n_out, extra=extra, expected_prompt_tokens=expected, temperature=conv.temperature, seed=conv.seed)

    warm = []
    warm_tokens = min(WARM_TOKENS, max_tokens) if short_warmup else max_tokens
    for _ in range(warmups):
        m, res = one(warm_tokens)
        t_model += (m.get("latency_ms") or 0) / 1000
        load_ns = ((res.server_timings or {}).get("load_duration") if res is not None else None) or 0
        warm.append({"valid": m["valid"], "latency_ms": m.get("latency_ms"), "prompt_tokens": m.get("prompt_tokens"), "max_tokens": warm_tokens, "load_ms": round(load_ns / 1e6, 3) if load_ns else None, "flags": m["flags"]})
    requests, last, stop = [], None, None
    while stop is None:
        if requests and plan.budget_s is not None:
            took = [q["latency_ms"] for q in requests if q.get("latency_ms")]
            per_s = (statistics.median(took) / 1000) if took else 0.0
            left = clock.left_s(plan, time.perf_counter() - t_start)
            if left is not None and per_s > left:
                stop = "budget"
                break
        m, res = one()
        t_model += (m.get("latency_ms") or 0) / 1000
        requests.append(m)
        if res is not None:
            last = res
        stop, _ = next_step(requests, plan)
    widths = intervals(requests)
    clock.warmed = True
    summary = scenario_summary(task, requests, trials=len(requests), setup_flags=setup_flags)
    summary.update(
        target_prompt_tokens=task["prompt_tokens"],
        prompt_tokens=expected,
        max_tokens=max_tokens,
        clamped=expected < task["prompt_tokens"] and any("clamped" in n for n in notes),
        **_plan_fields(plan),
        stop=stop,
        stop_reason=stop_reason(stop, len(requests), widths, plan),
        interval_pct=widths,
        estimate=est,
        calibration=cal,
        server=server,
        request_extra=extra,
        warmup=warm,
        bandwidth=None if remote else bandwidth_once(),
        requests=requests,
        sample_output=((last.content or last.reasoning or "")[:SAMPLE_CHARS] if last is not None else ""),
        elapsed_s=round(time.perf_counter() - t_start, 3),
    )
    summary["notes"] = notes + [n for n in summary["notes"] if n not in notes]
    if summary["valid"]:
        clock.add({"task_id": task.get("id"), "scenario": task.get("scenario"), "prompt_tokens": expected, "prefill_tok_s": summary["prefill_tok_s"], "decode_tok_s": summary["decode_tok_s"]})
    ex.answer = {"speed": summary, "remote": remote}
    ex.model_wait_ms = t_model * 1000
    ex.extra.update(
        speed=summary,
        latency_ms=summary["latency_ms"],
        ttft_ms=summary["ttft_ms"],
        ttfr_ms=summary["ttfr_ms"],
        prompt_tokens=expected,
        completion_tokens=summary["completion_tokens_measured"],
        token_source=(requests[-1].get("token_source") if requests else None) or "none",
        finish_reason=None,  # speed runs to the token limit on purpose; see speed.finish_reasons
        output=summary["sample_output"],
        request=_clip_request(getattr(last, "request", None)),
        server_timings=getattr(last, "server_timings", None),
    )
    errors = [q for q in requests if q.get("error")]
    if errors and not any(q.get("valid") for q in requests):
        # Every trial failed: the record carries the first failure, the summary stays.
        ex.extra.update(error=errors[0]["error"], error_kind=errors[0].get("error_kind"))


def _sweep(task: dict, conv, ex: Exchange) -> None:
    """The opt-in concurrency sweep. Not requested: a skipped task that no score counts
    (``skipped: True``). Requested: per level, ``c`` threads each send ``rounds``
    requests at once; aggregate tok/s = all generated tokens / the level's wall time,
    per-stream tok/s and TTFT p90 from the individual requests."""
    settings = conv.settings or {}
    try:
        levels = parse_levels(settings.get("concurrency"))
    except ValueError as exc:
        ex.answer = {"error": str(exc)}
        ex.extra.update(error=str(exc), error_kind="config")
        return
    if not levels:
        ex.answer = {"speed": {"task_id": task.get("id"), "kind": "sweep", "skipped": True, "levels": []}}
        ex.extra.update(skipped=True, speed=ex.answer["speed"])
        return
    remote = bool(settings.get("remote"))
    max_tokens = conv.max_tokens(task)
    rounds = max(1, int(task.get("rounds", 2)))
    server, builder, cal, notes, setup_flags = _setup(task, conv, max_tokens)
    expected = cal["prompt_tokens"]
    extra = request_extra(server, prompt_tokens=expected, max_tokens=max_tokens)
    for _ in range(int(task.get("warmup", 1))):
        measure_request(conv.provider, conv.model, builder.messages(builder.nonces.next(), cal["k"]), max_tokens=max_tokens, extra=extra, expected_prompt_tokens=expected, temperature=conv.temperature, seed=conv.seed)
    out_levels = []
    for c in levels:
        results: list[dict] = []
        lock = threading.Lock()
        barrier = threading.Barrier(c)
        msgs = [[builder.messages(builder.nonces.next(), cal["k"]) for _ in range(rounds)] for _ in range(c)]

        def stream(i: int):
            p = clone_provider(conv.provider)
            try:
                try:
                    barrier.wait(timeout=60)
                except threading.BrokenBarrierError:
                    pass
                for j in range(rounds):
                    t0 = time.perf_counter()
                    m, _res = measure_request(p, conv.model, msgs[i][j], max_tokens=max_tokens, extra=extra, expected_prompt_tokens=expected, temperature=conv.temperature, seed=conv.seed)
                    m["t_start"], m["t_end"] = t0, time.perf_counter()
                    with lock:
                        results.append(m)
            finally:
                p.close()

        pool = [threading.Thread(target=stream, args=(i,), daemon=True) for i in range(c)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        out_levels.append(level_summary(c, results, rounds=rounds, slots=server.get("slots")))
    valid = bool(out_levels) and all(lv["valid"] for lv in out_levels) and not setup_flags
    flags = list(setup_flags) + [f for lv in out_levels for f in lv["flags"]]
    sweep = {"task_id": task.get("id"), "kind": "sweep", "skipped": False, "levels": out_levels, "prompt_tokens": expected, "max_tokens": max_tokens, "rounds": rounds, "calibration": cal, "server": server, "request_extra": extra, "notes": notes, "flags": flags, "valid": valid}
    ex.answer = {"speed": sweep, "remote": remote}
    ex.extra.update(speed=sweep, prompt_tokens=expected, finish_reason=None)
