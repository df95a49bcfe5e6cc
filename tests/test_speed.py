"""Tests for the speed suite: benchloop/speed/ (math, calibration, probes, run-level
report), benchloop/drivers/speed.py (the loop) and benchloop/checkers/speed.py (verdicts).

The timing tests run against the scripted endpoint, a real HTTP server with a known
schedule (first token after 300 ms, then one chunk every token_delay_s), so TTFT and
decode tok/s have exact expected values; the pure math is also tested on synthetic
timestamps. One test runs a small scenario against the real SmolLM2 through llama.cpp.
"""
from __future__ import annotations

import json
import time

import pytest

from benchloop.checkers import speed as checker
from benchloop.drivers import run_task
from benchloop.drivers import speed as driver
from benchloop.drivers.conversation import Conversation
from benchloop.harnesses.raw import RawHarness
from benchloop.providers import make_provider
from benchloop.providers.base import ChatResult
from benchloop.scoring import score_run, speed_score_local
from benchloop.speed import calibrate, metrics, probe, report
from benchloop.tasks import load_suite
from benchloop.testing.scripted import Reply, count_prompt_tokens

WORDS16 = " ".join(f"w{i}" for i in range(16))
WORDS12 = " ".join(f"w{i}" for i in range(12))


def within(got, want, rel=0.05):
    return got is not None and abs(got - want) <= rel * abs(want)


def ctx_for(url, *, provider="openai_compat", model="scripted-model", trials=2, remote=False, concurrency=None):
    p = make_provider(provider, url)
    return Conversation(provider=p, harness=RawHarness(), model=model, settings={"trials": trials, "remote": remote, "concurrency": concurrency})


def scenario(prompt_tokens=64, max_tokens=16, warmup=0, name="short", tid="sp-001"):
    return {"id": tid, "suite": "speed", "kind": "scenario", "scenario": name, "prompt_tokens": prompt_tokens, "max_tokens": max_tokens, "warmup": warmup}


def timed(reply: Reply):
    """A responder: the overhead probe (max_tokens=1) answers at once, the rest follow ``reply``."""

    def responder(req):
        if req["body"].get("max_tokens") == 1:
            return Reply(content="ok", prompt_tokens=reply.prompt_tokens)
        return reply

    return responder


# ---- pure math --------------------------------------------------------------------------


def synthetic(n, per_chunk, first_s=0.3, delay_s=0.05, *, usage=True, reasoning_tokens=None):
    m = -(-n // per_chunk)
    return ChatResult(
        content="x" * n,
        completion_tokens=n if usage else None,
        prompt_tokens=100,
        token_source="server" if usage else "counted",
        t_sent=0.0,
        t_first_chunk=first_s,
        t_first_token=first_s,
        t_last_token=first_s + (m - 1) * delay_s,
        t_done=first_s + (m - 1) * delay_s + 0.001,
        content_chunks=m,
        reasoning_tokens=reasoning_tokens,
        finish_reason="length",
    )


def test_decode_counts_tokens_after_the_first_chunk_not_chunks():
    one = metrics.request_metrics(synthetic(20, 1), expected_prompt_tokens=100)
    assert one["decode_tok_s"] == pytest.approx(20.0)
    assert one["ttft_ms"] == pytest.approx(300.0)
    four = metrics.request_metrics(synthetic(20, 4), expected_prompt_tokens=100)
    # 5 chunks of 4 tokens, 50 ms apart: 16 tokens after the first chunk in 200 ms
    assert four["first_chunk_tokens"] == pytest.approx(4.0)
    assert four["decode_tok_s"] == pytest.approx(80.0)
    naive = (20 - 1) / 0.2
    assert abs(four["decode_tok_s"] - naive) > 10  # (n-1)/span would overstate it
    assert one["valid"] and four["valid"]
    assert one["prefill_tok_s"] == pytest.approx(100 / 0.3, rel=1e-3)


def test_content_rate_excludes_reasoning_tokens():
    m = metrics.request_metrics(synthetic(20, 1, reasoning_tokens=15))
    assert m["decode_tok_s"] == pytest.approx(20.0)
    assert m["content_tok_s"] == pytest.approx(5.0)


def test_single_chunk_reply_is_not_a_decode_measurement():
    m = metrics.request_metrics(synthetic(8, 8))
    assert m["decode_tok_s"] is None and not m["valid"]
    assert any(f.startswith("too_short") for f in m["flags"])


def test_missing_usage_is_noted_not_silent():
    m = metrics.request_metrics(synthetic(10, 1, usage=False))
    assert m["token_source"] == "counted"
    assert any("no server usage" in n for n in m["notes"])


def test_server_rates_llamacpp_and_ollama():
    assert metrics.server_rates({"predicted_per_second": 42.5, "prompt_per_second": 900.0, "prompt_n": 10, "cache_n": 0})["server_decode_tok_s"] == 42.5
    o = metrics.server_rates({"eval_count": 50, "eval_duration": 2_000_000_000, "prompt_eval_count": 100, "prompt_eval_duration": 500_000_000})
    assert o["server_decode_tok_s"] == pytest.approx(25.0) and o["server_prefill_tok_s"] == pytest.approx(200.0)
    assert metrics.server_rates({"predicted_per_second": 0.0})["server_decode_tok_s"] is None
    assert metrics.server_rates("junk")["server_decode_tok_s"] is None


def test_context_clamp_is_planned_and_said():
    assert calibrate.plan_prompt_tokens(2048, 8192, 256) == (2048, None)
    n, note = calibrate.plan_prompt_tokens(8192, 4096, 128)
    assert n == 4096 - 128 - calibrate.PROMPT_MARGIN and "clamped" in note and "4096" in note
    assert calibrate.plan_prompt_tokens(8192, None, 128) == (8192, None)


def test_parse_levels():
    assert driver.parse_levels("4, 1,2,2") == [1, 2, 4]
    assert driver.parse_levels(None) == [] and driver.parse_levels("") == []
    for bad in ("0", "1,x", "65", "-1"):
        with pytest.raises(ValueError, match="concurrency"):
            driver.parse_levels(bad)


def test_request_extra_depends_on_the_server():
    ll = probe.request_extra({"kind": "llama.cpp"}, prompt_tokens=100, max_tokens=10)
    assert ll == {"cache_prompt": False, "ignore_eos": True}
    assert probe.request_extra({"kind": "openai"}, prompt_tokens=100, max_tokens=10) == {}
    assert probe.request_extra({"kind": "ollama"}, prompt_tokens=1000, max_tokens=100)["options"]["num_ctx"] >= 1100


# ---- every task in tasks/speed.yaml -------------------------------------------------------

SUITE = load_suite("speed")


@pytest.mark.parametrize("task", SUITE["tasks"], ids=[t["id"] for t in SUITE["tasks"]])
def test_every_task_valid_measurement_scores_and_truncated_one_does_not(task):
    assert checker.validate(task) is None
    good = [dict(metrics.request_metrics(synthetic(task["max_tokens"], 1), expected_prompt_tokens=100)) for _ in range(3)]
    cut = ChatResult(**{**synthetic(task["max_tokens"], 1).__dict__, "prompt_tokens": 60})
    bad = [metrics.request_metrics(cut, expected_prompt_tokens=100)] + good[:2]
    ok = checker.check(task, {"speed": metrics.scenario_summary(task, good, trials=3), "remote": False})
    assert ok.passed and ok.score == speed_score_local(20.0) > 0
    wrong = checker.check(task, {"speed": metrics.scenario_summary(task, bad, trials=3), "remote": False})
    assert not wrong.passed and wrong.score == 0.0 and "truncated" in wrong.reason


@pytest.mark.parametrize("field,value", [("kind", "burst"), ("scenario", "huge"), ("prompt_tokens", 4), ("max_tokens", 1), ("rounds", 99)])
def test_validate_rejects_broken_tasks(field, value):
    t = dict(SUITE["tasks"][0], **{field: value})
    assert checker.validate(t)[0] == field


# ---- the scripted schedule, over real HTTP ------------------------------------------------


def measure(ep, trials=4):
    """A warm-up, then ``trials`` requests. A busy box (CI, or a shared 2-core machine
    where client and server also share a GIL) delays single requests by tens of ms, and
    that noise only ever adds latency: TTFR/TTFT are the minimum over the trials (the
    best estimate of the schedule), rates the median. A wrong definition (role chunk as
    first token, chunks as tokens) is off in every trial, so it still fails."""
    import statistics

    p = make_provider("openai_compat", ep.url)
    msgs = [{"role": "user", "content": "go"}]
    runs = [driver.measure_request(p, "scripted-model", msgs, max_tokens=16, extra=None, expected_prompt_tokens=count_prompt_tokens(msgs))[0] for _ in range(trials + 1)][1:]
    p.close()
    assert all(m["valid"] for m in runs), [m["flags"] for m in runs]
    out = dict(runs[-1])
    for k in ("ttfr_ms", "ttft_ms"):
        out[k] = min(m[k] for m in runs)
    for k in ("decode_tok_s", "server_decode_tok_s", "client_server_ratio"):
        out[k] = statistics.median(m[k] for m in runs)
    return out, None


def test_schedule_300ms_then_50ms_per_token(scripted):
    ep = scripted(lambda req: Reply(content=WORDS12, first_delay_s=0.3, token_delay_s=0.05))
    m, _ = measure(ep)
    assert m["valid"], m["flags"]
    assert within(m["ttft_ms"], 300.0), m
    assert within(m["decode_tok_s"], 20.0), m
    assert within(m["server_decode_tok_s"], 20.0) and within(m["client_server_ratio"], 1.0)


def test_role_only_first_chunk_is_ttfr_not_ttft(scripted):
    ep = scripted(lambda req: Reply(content=WORDS12, first_delay_s=0.3, token_delay_s=0.05, role_chunk_first=True))
    m, _ = measure(ep)
    assert m["ttfr_ms"] < 100.0, m
    assert within(m["ttft_ms"], 300.0), m
    assert within(m["decode_tok_s"], 20.0), m


def test_four_tokens_per_chunk_decode_still_right(scripted):
    # 12 tokens in 3 chunks, 200 ms apart: 4 tokens per 200 ms = 20 tok/s
    ep = scripted(lambda req: Reply(content=WORDS12, first_delay_s=0.3, token_delay_s=0.2, tokens_per_chunk=4))
    m, _ = measure(ep)
    assert m["token_chunks"] == 3 and m["completion_tokens"] == 12
    assert within(m["ttft_ms"], 300.0), m
    assert within(m["decode_tok_s"], 20.0), m
    assert within(m["client_server_ratio"], 1.0), m


def test_scenario_calibrates_exactly_and_scores_the_schedule(scripted):
    ep = scripted(timed(Reply(content=WORDS16, first_delay_s=0.3, token_delay_s=0.05)))
    ctx = ctx_for(ep.url)
    rec = run_task(scenario(prompt_tokens=64), ctx)
    sp = rec["speed"]
    assert rec["error"] is None and rec["passed"], rec["reason"]
    assert sp["calibration"]["method"] == "tokenize" and sp["prompt_tokens"] == 64
    assert [q["prompt_tokens"] for q in sp["requests"]] == [64, 64]
    assert within(sp["metrics"]["ttft_ms"]["min"], 300.0) and within(sp["decode_tok_s"], 20.0)  # min: see measure()
    assert rec["score"] == speed_score_local(sp["decode_tok_s"])
    chats = [r for r in ep.received if r["path"].endswith("/chat/completions")]
    texts = [r["messages"][0]["content"] for r in chats]
    assert len({t.split("\n", 1)[0] for t in texts}) == len(texts)  # a unique nonce first, each time
    assert all(t.startswith("Request ") for t in texts)
    # not a llama.cpp server: no unknown fields that a hosted API would reject
    assert not any("cache_prompt" in r["body"] or "ignore_eos" in r["body"] for r in chats)
    json.dumps(rec)  # plain JSON for xdist and the artifact


def test_truncating_endpoint_is_flagged_and_not_scored(scripted):
    def responder(req):
        n = count_prompt_tokens(req["messages"])
        return Reply(content=WORDS16, token_delay_s=0.01, prompt_tokens=min(n, 40))

    ep = scripted(responder)
    rec = run_task(scenario(prompt_tokens=96, tid="sp-003", name="long"), ctx_for(ep.url))
    assert not rec["passed"] and rec["score"] == 0.0
    assert any(f.startswith("truncated") for f in rec["speed"]["flags"])
    assert "truncated" in rec["reason"]
    good = run_task(scenario(prompt_tokens=32), ctx_for(ep.url))
    assert good["passed"]
    agg = report.aggregate([good, rec], {"model": {"size_bytes": 1_000_000}})
    assert agg["headline"]["decode"] == ["short"]
    assert agg["scenarios"]["long"]["roofline_pct"] is None
    assert any("long: invalid" in f and "truncated" in f for f in agg["flags"])
    from benchloop.report import to_markdown

    assert "truncated" in to_markdown({"run_id": "x", "speed": agg, "scores": {}})


def test_cached_prompt_tokens_are_flagged(scripted):
    ep = scripted(lambda req: Reply(content=WORDS16, token_delay_s=0.01, cached_tokens=20))
    rec = run_task(scenario(prompt_tokens=48), ctx_for(ep.url))
    assert not rec["passed"] and rec["score"] == 0.0
    assert any(f.startswith("cached") for f in rec["speed"]["flags"])


def test_usage_calibration_without_tokenize(scripted):
    """An endpoint without /tokenize (hosted API, Ollama): calibrated from probe usage."""
    ep = scripted(timed(Reply(content=WORDS16, token_delay_s=0.01)))
    ctx = ctx_for(ep.url)
    server = {"kind": "openai", "tokenize": False, "n_ctx": None}
    b = calibrate.PromptBuilder(ctx.provider, ctx.model, server)
    cal = b.calibrate(80)
    assert cal["method"] == "usage" and abs(cal["error_tokens"]) <= 1 and cal["probe_requests"] <= 6
    assert count_prompt_tokens(b.messages(b.nonces.next(), cal["k"])) == cal["prompt_tokens"]


# The record keys run.json has always had for a speed task (docs/artifact.md): the driver
# moved, the artifact did not, so ``benchloop score`` of an old run gives the same numbers.
RECORD_KEYS = {
    "suite", "task_id", "score", "passed", "error", "error_kind", "reason", "latency_ms", "ttft_ms", "ttfr_ms",
    "prompt_tokens", "completion_tokens", "reasoning_tokens", "token_source", "finish_reason", "output", "reasoning",
    "tool_calls", "checks", "prompt", "max_tokens", "request", "response", "server_timings", "turns", "wall_ms",
    "model_wait_ms", "retries",
}


def test_driver_then_checker_gives_the_record_run_json_always_had(scripted):
    ep = scripted(timed(Reply(content=WORDS16, token_delay_s=0.01)))
    conv = ctx_for(ep.url)
    task = scenario(prompt_tokens=48)
    ex = driver.run(task, conv)
    assert ex.error is None and ex.answer["speed"]["kind"] == "scenario" and ex.answer["remote"] is False
    assert "score" not in ex.extra and "passed" not in ex.extra  # the driver never judges
    verdict = checker.check(task, ex.answer)
    rec = run_task(task, ctx_for(ep.url))
    assert set(rec) == RECORD_KEYS | {"speed"}
    assert rec["finish_reason"] is None and rec["prompt_tokens"] == 48 and rec["model_wait_ms"] > 0
    assert verdict.passed and rec["passed"] and rec["checks"][0]["name"] == "valid_measurement"
    skipped = _sweep(ctx_for(ep.url))
    assert set(skipped) == RECORD_KEYS | {"speed", "skipped"} and skipped["checks"] == []


def test_speed_package_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, benchloop.speed as s; assert 'benchloop.speed.report' not in sys.modules; "
        "from benchloop.speed import aggregate, csv_rows, scenario_rows, SCENARIO_COLUMNS; "
        "assert callable(aggregate) and SCENARIO_COLUMNS; assert 'benchloop.providers.base' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- concurrency sweep ------------------------------------------------------------------


def _sweep(ctx):
    t = next(t for t in SUITE["tasks"] if t["kind"] == "sweep")
    return run_task(dict(t, prompt_tokens=32, max_tokens=8, rounds=1, warmup=0), ctx)


def test_sweep_not_requested_is_skipped_and_neutral(scripted):
    ep = scripted(timed(Reply(content=WORDS16, token_delay_s=0.01)))
    rec = _sweep(ctx_for(ep.url))
    assert rec["skipped"] and rec["error"] is None and "--concurrency" in rec["reason"]
    assert not [r for r in ep.received if r["path"].endswith("/chat/completions")]
    other = {"suite": "speed", "task_id": "sp-001", "score": 50.0, "passed": True, "error": None}
    err = {"suite": "reasonmath", "task_id": "rm-001", "score": 0.0, "passed": False, "error": "x"}
    base = {"tasks": [other, err], "speed": {"decode_tok_s": 30.0}}
    with_skip = dict(base, tasks=[other, err, dict(rec, suite="speed", task_id="sp-004")])
    assert score_run(with_skip) == score_run(base)


def test_sweep_measures_each_level(scripted):
    ep = scripted(timed(Reply(content=WORDS16, first_delay_s=0.05, token_delay_s=0.02)))
    rec = _sweep(ctx_for(ep.url, concurrency="1,3"))
    levels = rec["speed"]["levels"]
    assert rec["passed"], rec["reason"]
    assert [lv["concurrency"] for lv in levels] == [1, 3]
    assert [lv["requests"] for lv in levels] == [1, 3]
    assert all(within(lv["per_stream_tok_s"], 50.0, 0.25) for lv in levels), levels
    # three streams at once on a server that serves them in parallel: ~3x the total rate
    assert levels[1]["aggregate_tok_s"] > 2.0 * levels[0]["aggregate_tok_s"]
    chats = [r for r in ep.received if r["path"].endswith("/chat/completions") and r["body"].get("max_tokens") != 1]
    starts = sorted(r["received_at"] for r in chats)[-3:]
    assert starts[-1] - starts[0] < 0.2  # together: one request alone takes 0.35 s


def test_bad_concurrency_value_is_a_clear_error(scripted):
    ep = scripted()
    rec = _sweep(ctx_for(ep.url, concurrency="two"))
    assert rec["error"] and "concurrency" in rec["error"] and not rec["passed"]


# ---- run level: aggregate, roofline, report -----------------------------------------------


def _summary(name, prompt, decode, ttft, prefill, valid=True):
    return {"speed": {"kind": "scenario", "scenario": name, "task_id": name, "prompt_tokens": prompt, "valid": valid, "decode_tok_s": decode, "content_tok_s": decode, "server_decode_tok_s": decode, "client_server_ratio": 1.0, "ttft_ms": ttft, "ttfr_ms": ttft, "prefill_tok_s": prefill, "bandwidth": {"gb_s": 10.0, "method": "m"}, "flags": [] if valid else ["truncated: x"], "notes": [], "trials": 3, "metrics": {}}}


def test_aggregate_headline_and_roofline():
    recs = [_summary("long", 8000, 60.0, 900.0, 800.0), _summary("short", 128, 100.0, 50.0, 300.0), _summary("medium", 2048, 80.0, 300.0, 700.0)]
    agg = report.aggregate(recs, {"model": {"size_bytes": 100e6}, "engine": {"load_ms": 812.0}})
    assert agg["decode_tok_s"] == 80.0  # median of the scenario medians
    assert agg["ttft_ms"] == 50.0 and agg["prefill_tok_s"] == 800.0  # shortest / longest prompt
    assert agg["roofline_tok_s"] == pytest.approx(100.0)  # 10 GB/s / 100 MB per token
    assert agg["roofline_pct"] == pytest.approx(80.0)
    assert agg["scenarios"]["short"]["roofline_pct"] == pytest.approx(100.0)
    assert agg["load_ms"] == 812.0
    override = report.aggregate(recs, {"model": {"size_bytes": 100e6}, "settings": {"model_bytes": 50e6}})
    assert override["roofline_tok_s"] == pytest.approx(200.0) and override["roofline"]["bytes_source"] == "--model-bytes"


def test_roofline_unknown_is_said_not_guessed():
    recs = [_summary("short", 128, 100.0, 50.0, 300.0)]
    agg = report.aggregate(recs, {"model": {"name": "m"}})
    assert agg["roofline_pct"] is None and "unknown" in agg["roofline"]["note"] and "--model-bytes" in agg["roofline"]["note"]
    remote = report.aggregate(recs, {"model": {"size_bytes": 1e6}, "remote": True})
    assert remote["roofline_pct"] is None and "remote" in remote["roofline"]["note"]
    assert remote["decode_tok_s"] == 100.0


def test_invalid_scenarios_leave_no_speed_to_score():
    agg = report.aggregate([_summary("long", 8000, 60.0, 900.0, 800.0, valid=False)], {"model": {"size_bytes": 1e6}})
    assert agg["decode_tok_s"] is None and not agg["valid"]
    run = {"tasks": [{"suite": "speed", "task_id": "sp-003", "score": 0.0, "passed": False}], "speed": agg}
    assert score_run(run)["speed"] == 0.0


def test_bandwidth_probe_is_short_and_positive():
    t0 = time.perf_counter()
    bw = probe.measure_bandwidth(size_mib=64, reps=3)
    assert time.perf_counter() - t0 < 1.5
    assert bw["gb_s"] and bw["gb_s"] > 0.1 and "memcpy" in bw["method"]


def test_reports_show_speed(tmp_path):
    from io import StringIO

    from rich.console import Console

    from benchloop.report import print_report, to_csv, to_markdown

    agg = report.aggregate([_summary("short", 128, 100.0, 50.0, 300.0), _summary("long", 8000, 60.0, 900.0, 800.0, valid=False)], {"model": {"size_bytes": 100e6}})
    run = {"run_id": "r1", "speed": agg, "scores": {"suites": {}}, "tasks": []}
    buf = StringIO()
    print_report(run, console=Console(file=buf, width=200))
    out = buf.getvalue()
    assert "decode tok/s" in out and "short" in out and "truncated" in out and "roofline" in out
    md = to_markdown(run)
    assert "| short | 100.0 |" in md and "roofline" in md
    csv_text = to_csv(run)
    assert "speed_scenario" in csv_text and "r1,short,roofline_pct,100.0" in csv_text


# ---- the real model ---------------------------------------------------------------------


@pytest.mark.e2e
def test_real_smollm_client_agrees_with_llamacpp(smollm_engine):
    ctx = ctx_for(smollm_engine.url, provider="llamacpp", model="smollm2-135m", trials=2)
    rec = run_task(scenario(prompt_tokens=64, max_tokens=16, warmup=0), ctx)
    sp = rec["speed"]
    assert rec["error"] is None and rec["passed"], rec["reason"]
    assert sp["server"]["kind"] == "llama.cpp" and sp["server"]["n_ctx"] == smollm_engine.ctx_per_slot
    assert sp["request_extra"]["cache_prompt"] is False and rec["request"]["cache_prompt"] is False
    # calibrated against the server's tokenizer and chat template: exact
    assert [q["prompt_tokens"] for q in sp["requests"]] == [64, 64]
    assert all(q["completion_tokens"] == 16 for q in sp["requests"])
    assert all(abs(q["client_server_ratio"] - 1.0) < 0.05 for q in sp["requests"]), [q["client_server_ratio"] for q in sp["requests"]]
    assert sp["bandwidth"]["gb_s"] > 0


# ---- through the pytest plugin: the run artifact gets ``speed`` and a score ---------------


def test_suite_through_pytest_writes_run_speed(pytester, scripted, tmp_path):
    from pathlib import Path

    ep = scripted(timed(Reply(content=WORDS16, first_delay_s=0.02, token_delay_s=0.01)))
    runs = tmp_path / "runs"
    suite = str(Path(__file__).resolve().parents[1] / "suites" / "test_speed.py")
    res = pytester.runpytest_subprocess(
        suite, "-p", "no:cacheprovider", "-rs",
        "--benchloop-provider=openai_compat", f"--benchloop-endpoint={ep.url}", "--benchloop-model=scripted-model",
        f"--benchloop-runs-dir={runs}", "--benchloop-task=sp-001", "--benchloop-task=sp-004", "--benchloop-trials=2",
        "--benchloop-speed-budget=600",
    )
    res.assert_outcomes(passed=1, skipped=1)
    res.stdout.fnmatch_lines(["*--concurrency*"])
    (d,) = [x for x in runs.iterdir() if x.is_dir()]
    run = json.loads((d / "run.json").read_text())
    sp = run["speed"]
    for key in ("decode_tok_s", "prefill_tok_s", "ttft_ms", "ttfr_ms", "server_decode_tok_s", "roofline_pct", "content_tok_s", "scenarios"):
        assert key in sp
    assert within(sp["decode_tok_s"], 100.0, 0.25) and sp["scenarios"]["short"]["valid"]
    assert run["scores"]["speed"] == speed_score_local(sp["decode_tok_s"])
    assert run["scores"]["suites"]["speed"]["n"] == 1  # the skipped sweep counts nowhere
    assert run["scores"]["reliability"] == 100.0
    assert run["manifest"]["suites"]["speed"]["checker"] == checker.CHECKER_VERSION
    # the flag reaches the driver through the option table; the record says how it stopped
    assert run["settings"]["speed_budget"] == 600.0 and sp["budget_s"] == 600.0 and sp["skipped"] == []
    short = sp["scenarios"]["short"]
    assert short["stop"] in ("settled", "max_trials") and short["max_trials"] == 2 and set(short["interval_pct"]) == {"decode_tok_s", "ttft_ms"}
    assert sp["stops"] == {"short": short["stop"]} and sp["elapsed_s"] > 0


def test_endpoint_without_usage_is_measured_with_notes_not_silently(scripted):
    ep = scripted(lambda req: Reply(content=WORDS16, token_delay_s=0.02, usage=False, timings=False))
    rec = run_task(scenario(prompt_tokens=64), ctx_for(ep.url))
    sp = rec["speed"]
    assert sp["calibration"]["method"] == "estimate"
    assert any("not calibrated" in n for n in sp["notes"]) and any("no server usage" in n for n in sp["notes"])
    assert rec["passed"] and within(sp["decode_tok_s"], 50.0, 0.1)


# ---- adaptive trials, the budget and the cost estimate (speed-2) ------------------------
# The stop rule is tested exactly on synthetic numbers; through the scripted endpoint the
# schedules decide it. A steady schedule is steady to within the scheduling jitter of a
# busy box, so those tests give the task a generous settle_pct (the 2% arithmetic is the
# pure tests' job) and assert why the trials stopped, never how long anything took.

from benchloop.speed import trials as tr  # noqa: E402


def _req(decode, ttft, **kw):
    return {"valid": True, "decode_tok_s": decode, "ttft_ms": ttft, "latency_ms": 1000.0, "flags": [], **kw}


def test_stop_rule_settles_at_the_minimum_when_steady():
    plan = tr.Plan.from_settings({"trials": 10})
    assert (plan.min_trials, plan.max_trials, plan.target_pct, plan.budget_s) == (3, 10, 2.0, None)
    reqs = [_req(100.0, 50.0), _req(100.4, 50.1)]
    assert tr.next_step(reqs, plan)[0] is None  # two trials never stop a scenario
    stop, widths = tr.next_step(reqs + [_req(99.8, 49.9)], plan)
    assert stop == "settled" and 0 < widths["decode_tok_s"] <= 2.0 and 0 < widths["ttft_ms"] <= 2.0
    assert "settled after 3" in tr.stop_reason(stop, 3, widths, plan)


def test_stop_rule_needs_both_decode_and_ttft_within_the_target():
    plan = tr.Plan.from_settings({"trials": 10})
    steady_decode_noisy_ttft = [_req(100.0, t) for t in (50.0, 60.0, 45.0)]
    stop, widths = tr.next_step(steady_decode_noisy_ttft, plan)
    assert stop is None and widths["decode_tok_s"] == 0.0 and widths["ttft_ms"] > 2.0
    noisy = [_req(d, 50.0) for d in (100, 95, 105, 97, 103, 99, 101, 94, 106, 100)]
    assert [tr.next_step(noisy[:n], plan)[0] for n in range(3, 11)] == [None] * 7 + ["max_trials"]


def test_stop_rule_interval_is_the_95pct_t_interval():
    # n = 3, sd 1% of the mean: t(2) = 4.303, half-width 4.303 * 1 / sqrt(3) = 2.48%
    w = tr.interval_pct({"n": 3, "median": 100.0, "ci95": [97.516, 102.484]})
    assert w == pytest.approx(2.484)
    assert tr.interval_pct({"n": 1, "median": 100.0, "ci95": [100.0, 100.0]}) is None  # one value has no interval
    assert tr.intervals([_req(100.0, 50.0)]) == {"decode_tok_s": None, "ttft_ms": None}


def test_stop_rule_invalid_fixed_and_task_overrides():
    plan = tr.Plan.from_settings({"trials": 10})
    cut = _req(100.0, 50.0, valid=False, flags=["truncated: x"])
    assert tr.next_step([cut], plan)[0] == "invalid"  # cannot become valid: stop at once
    errors = [{"valid": False, "flags": ["error: refused"]}] * 3
    assert tr.next_step(errors[:2], plan)[0] is None and tr.next_step(errors, plan)[0] == "invalid"
    fixed = tr.Plan.from_settings({"trials": 5, "speed_fixed": True})
    steady = [_req(100.0, 50.0)] * 5
    assert fixed.min_trials == 5 and [tr.next_step(steady[:n], fixed)[0] for n in (3, 4, 5)] == [None, None, "fixed"]
    assert tr.Plan.from_settings({"trials": 2}).min_trials == 2  # --trials below 3 caps the minimum too
    loose = tr.Plan.from_settings({"trials": 8, "speed_budget": 60}, {"min_trials": 4, "settle_pct": 10.0})
    assert (loose.min_trials, loose.target_pct, loose.budget_s) == (4, 10.0, 60.0)


def test_estimate_prices_prefill_and_decode():
    plan = tr.Plan.from_settings({"trials": 10})
    rates = {"prefill_tok_s": 500.0, "decode_tok_s": 50.0, "source": "x"}
    est = tr.estimate(1000, 100, rates, plan, warmups=1, short_warmup=False, left_s=None)
    assert est["request_s"] == 4.0 and est["min_s"] == 16.0 and est["max_s"] == 44.0
    short = tr.estimate(1000, 100, rates, plan, warmups=1, short_warmup=True, left_s=20.0)
    assert short["min_s"] == pytest.approx(2.0 + tr.WARM_TOKENS / 50.0 + 12.0) and short["budget_left_s"] == 20.0
    assert tr.fits(short, 20.0) and not tr.fits(short, 10.0) and tr.fits(short, None) and tr.fits(None, 1.0)
    assert tr.estimate(1000, 100, None, plan, warmups=1, short_warmup=False, left_s=None) is None


def test_new_task_fields_are_validated():
    t = dict(SUITE["tasks"][0])
    assert checker.validate(t) is None and t["min_trials"] == 3 and t["settle_pct"] == 2.0
    assert checker.validate(dict(t, min_trials=0))[0] == "min_trials"
    assert checker.validate(dict(t, settle_pct=True))[0] == "settle_pct"
    assert checker.validate(dict(t, settle_pct=80))[0] == "settle_pct"


def _adaptive(ep_url, provider=None, **settings):
    p = provider or make_provider("openai_compat", ep_url)
    return Conversation(provider=p, harness=RawHarness(), model="scripted-model", settings={"trials": 5, "remote": False, **settings})


def test_steady_schedule_stops_at_three_trials(scripted):
    ep = scripted(timed(Reply(content=WORDS16, first_delay_s=0.3, token_delay_s=0.03)))
    task = dict(scenario(prompt_tokens=48, warmup=1), settle_pct=25.0)
    rec = run_task(task, _adaptive(ep.url, trials=10))
    sp = rec["speed"]
    assert rec["passed"], rec["reason"]
    assert sp["trials"] == 3 and sp["stop"] == "settled", sp["stop_reason"]
    assert (sp["min_trials"], sp["max_trials"], sp["target_pct"]) == (3, 10, 25.0)
    assert all(0 <= sp["interval_pct"][k] <= 25.0 for k in ("decode_tok_s", "ttft_ms"))
    assert "settled after 3 trial(s)" in sp["stop_reason"] and sp["stop_reason"] in rec["reason"]
    assert sp["elapsed_s"] > 0 and sp["estimate"] is None  # the worker's first, short scenario: nothing to price it by
    json.dumps(rec)


def _alternating():
    """Every other full request is four times slower to start and to decode."""
    seen = [0]

    def responder(req):
        if req["body"].get("max_tokens") == 1:
            return Reply(content="ok")
        seen[0] += 1
        slow = seen[0] % 2 == 0
        return Reply(content=WORDS16, first_delay_s=0.2 if slow else 0.05, token_delay_s=0.02 if slow else 0.005)

    return responder


def test_noisy_schedule_runs_to_the_maximum(scripted):
    ep = scripted(_alternating())
    rec = run_task(dict(scenario(prompt_tokens=48), settle_pct=25.0), _adaptive(ep.url, trials=5))
    sp = rec["speed"]
    assert rec["passed"], rec["reason"]
    assert sp["trials"] == 5 and sp["stop"] == "max_trials", sp["stop_reason"]
    assert sp["interval_pct"]["ttft_ms"] > 25.0 and "maximum of 5 trials" in sp["stop_reason"]


def test_budget_stops_trials_that_would_not_fit(scripted):
    ep = scripted(_alternating())
    rec = run_task(scenario(prompt_tokens=48), _adaptive(ep.url, trials=10, speed_budget=1.5))
    sp = rec["speed"]
    assert sp["stop"] == "budget" and 1 <= sp["trials"] < 10, sp["stop_reason"]
    assert "--speed-budget of 1.5 s" in sp["stop_reason"] and sp["budget_s"] == 1.5
    assert sp["estimate"]["rate_probe"]["prefill_tok_s"] > 0  # priced by a calibration request first


def test_budget_skips_the_long_scenario_with_a_note(scripted):
    ep = scripted(timed(Reply(content=WORDS16, first_delay_s=0.05, token_delay_s=0.01)))
    p = make_provider("openai_compat", ep.url)  # one provider: one worker's speed suite
    short = run_task(scenario(prompt_tokens=32), _adaptive(ep.url, p, speed_budget=8.0))
    assert short["passed"] and not short.get("skipped") and short["speed"]["estimate"]["rate_probe"]
    before = len(ep.received)
    # 4096 prompt tokens at the ~600 tok/s the short scenario measured: ~7 s a request
    long = run_task(scenario(prompt_tokens=4096, name="long", tid="sp-003"), _adaptive(ep.url, p, speed_budget=8.0))
    sp = long["speed"]
    assert long["skipped"] and long["passed"] and long["error"] is None
    assert long["reason"].startswith("skipped: estimated") and "--speed-budget" in long["reason"]
    assert sp["skipped"] and sp["stop"] == "budget" and sp["estimate"]["min_s"] > sp["estimate"]["budget_left_s"]
    assert "short" in sp["estimate"]["source"] and sp["estimate"]["prompt_tokens"] == 4096
    assert not [r for r in ep.received[before:] if r["path"].endswith("/chat/completions")]  # nothing sent for it
    agg = report.aggregate([short, long], {"model": {"size_bytes": 1e6}, "settings": {"speed_budget": 8.0}})
    assert agg["skipped"] == ["long"] and agg["budget_s"] == 8.0 and agg["stops"]["long"] == "budget"
    assert agg["headline"]["decode"] == ["short"] and not any("long: invalid" in f for f in agg["flags"])
    assert any(n.startswith("long: skipped: estimated") for n in agg["notes"])
    assert any(n.startswith("long: estimated") for n in agg["notes"])  # the estimate is shown
    rows = {r["scenario"]: r for r in report.scenario_rows(agg)}
    assert rows["long"]["status"] == "skipped" and rows["short"]["stop"] in tr.STOPS and rows["short"]["interval"].startswith("±")
    run = {"tasks": [dict(short, suite="speed"), dict(long, suite="speed")], "speed": agg}
    assert score_run(run)["suites"]["speed"]["n"] == 1  # the skipped scenario counts nowhere
    from benchloop.report import to_markdown

    assert "long: skipped: estimated" in to_markdown({"run_id": "x", "speed": agg, "scores": {}})


def test_long_scenario_is_priced_before_it_starts_and_shows_what_it_took(scripted):
    ep = scripted(timed(Reply(content=WORDS16, first_delay_s=0.05, token_delay_s=0.01)))
    rec = run_task(scenario(prompt_tokens=96, name="long", tid="sp-003"), _adaptive(ep.url, trials=3))
    sp = rec["speed"]
    assert rec["passed"] and sp["estimate"]["source"].startswith("a calibration request")
    assert sp["estimate"]["min_s"] > 0 and sp["elapsed_s"] > 0
    agg = report.aggregate([rec], {"model": {"size_bytes": 1e6}})
    line = next(n for n in agg["notes"] if n.startswith("long: estimated"))
    assert "took" in line and agg["elapsed_s"] == sp["elapsed_s"]
    csv = report.csv_rows({"run_id": "r", "speed": agg})
    assert any(row[2] == "ttft_ms_interval_pct" for row in csv)


def test_later_warmups_are_short_and_the_fixed_plan_keeps_full_ones(scripted):
    ep = scripted(timed(Reply(content=WORDS16, first_delay_s=0.02, token_delay_s=0.005)))
    p = make_provider("openai_compat", ep.url)
    first = run_task(scenario(prompt_tokens=32, warmup=1), _adaptive(ep.url, p, trials=3))
    second = run_task(scenario(prompt_tokens=64, warmup=1, name="medium", tid="sp-002"), _adaptive(ep.url, p, trials=3))
    assert first["speed"]["warmup"][0]["max_tokens"] == 16 and second["speed"]["warmup"][0]["max_tokens"] == tr.WARM_TOKENS
    assert second["speed"]["estimate"]["source"].startswith("measured in this worker (short)")
    fixed = _adaptive(ep.url, p, trials=4, speed_fixed=True)
    rec = run_task(scenario(prompt_tokens=64, warmup=1, name="medium", tid="sp-002"), fixed)
    assert rec["speed"]["warmup"][0]["max_tokens"] == 16 and rec["speed"]["trials"] == 4 and rec["speed"]["stop"] == "fixed"
