"""Run level: ``run["speed"]`` from the speed records (called at session end and by
``benchloop score``), and the plain rows the console, Markdown and CSV reports print.
"""
from __future__ import annotations

import statistics

from benchloop.checkers.speed import CHECKER_VERSION
from benchloop.speed.probe import model_bytes, roofline


def aggregate(records: list[dict], meta: dict) -> dict:
    """``run["speed"]`` from the speed records and the run's meta. Pure (the bandwidth
    was measured during the run and rides on the records).

    Headline numbers, over the valid fixed scenarios: decode / content / server decode
    tok/s and the client/server ratio are the median of the scenarios' medians; TTFT and
    TTFR come from the shortest prompt (a chat turn, what a person feels); prefill tok/s
    from the longest prompt (short prompts measure overhead, not prefill). Invalid
    scenarios (truncated, cached, failed) are listed with their flags and never counted.
    """
    scen = [r["speed"] for r in records if isinstance(r.get("speed"), dict) and r["speed"].get("kind") == "scenario"]
    scen.sort(key=lambda s: (s.get("prompt_tokens") or 0, str(s.get("task_id"))))
    sweep = next((r["speed"] for r in records if isinstance(r.get("speed"), dict) and r["speed"].get("kind") == "sweep"), None)
    notes: list[str] = []
    flags: list[str] = []
    for r in records:
        if r.get("error") and not isinstance(r.get("speed"), dict):
            flags.append(f"{r.get('task_id')}: {r['error']}"[:300])
    valid = [s for s in scen if s.get("valid") and s.get("decode_tok_s")]
    for s in scen:
        notes.extend(f"{s.get('scenario')}: {line}" for line in trial_lines(s))
        if s.get("skipped"):
            continue
        if not s.get("valid"):
            flags.append(f"{s.get('scenario')}: invalid, not scored ({'; '.join(s.get('flags') or []) or 'no valid request'})"[:500])
        for n in s.get("notes") or []:
            line = f"{s.get('scenario')}: {n}"
            if line not in notes:
                notes.append(line)

    def med(key):
        vals = [s[key] for s in valid if s.get(key) is not None]
        return round(statistics.median(vals), 3) if vals else None

    shortest = valid[0] if valid else None
    longest = valid[-1] if valid else None
    bw = next((s.get("bandwidth") for s in scen if isinstance(s.get("bandwidth"), dict) and s["bandwidth"].get("gb_s")), None)
    bpt, bpt_source = model_bytes(meta)
    remote = bool(meta.get("remote"))
    gpus = (meta.get("machine") or {}).get("gpus") or []
    roof_note = None
    if remote:
        bw, roof_note = None, "unknown: remote endpoint, its memory bandwidth cannot be measured from here"
    elif gpus:
        bw, roof_note = None, f"unknown: a GPU ({gpus[0].get('name')}) is present and the model may run on it; the probe measures CPU memory only"
    elif not bw:
        roof_note = "unknown: no bandwidth measurement"
    elif not bpt:
        roof_note = bpt_source
    decode = med("decode_tok_s")
    roof_tok_s, roof_pct = roofline(decode, (bw or {}).get("gb_s"), bpt)
    scenarios = {}
    for s in scen:
        _, pct = roofline(s.get("decode_tok_s"), (bw or {}).get("gb_s"), bpt)
        d = {k: v for k, v in s.items() if k not in ("requests", "bandwidth", "warmup", "sample_output")}
        d["roofline_pct"] = pct if s.get("valid") else None
        scenarios[s.get("scenario") or s.get("task_id")] = d
    if roof_pct is not None and roof_pct > 100:
        notes.append("decode is above the measured bandwidth roofline: the weights partly fit in CPU caches, or the probe underestimates the bandwidth")
    engine = meta.get("engine") or {}
    load_ms, load_source = engine.get("load_ms"), "embedded engine start to healthy" if engine.get("load_ms") is not None else None
    if load_ms is None:
        seen = [w.get("load_ms") for s in scen for w in (s.get("warmup") or []) if w.get("load_ms")]
        if seen:
            load_ms, load_source = max(seen), "server load_duration of a warm-up request"
        else:
            load_source = "not measured: the server had the model loaded already"
    concurrency = None
    if sweep is not None:
        concurrency = {"skipped": bool(sweep.get("skipped")), "levels": sweep.get("levels") or []}
        if sweep.get("skipped"):
            notes.append("concurrency sweep skipped: pass --concurrency 1,2,4 to run it")
    trials = max([s.get("trials") or 0 for s in scen] or [0]) or None
    budget = (meta.get("settings") or {}).get("speed_budget") or next((s.get("budget_s") for s in scen if s.get("budget_s")), None)
    return {
        "version": CHECKER_VERSION,
        "decode_tok_s": decode,
        "content_tok_s": med("content_tok_s"),
        "server_decode_tok_s": med("server_decode_tok_s"),
        "client_server_ratio": med("client_server_ratio"),
        "ttft_ms": shortest.get("ttft_ms") if shortest else None,
        "ttft_p90_ms": shortest.get("ttft_p90_ms") if shortest else None,
        "ttfr_ms": shortest.get("ttfr_ms") if shortest else None,
        "prefill_tok_s": longest.get("prefill_tok_s") if longest else None,
        "server_prefill_tok_s": longest.get("server_prefill_tok_s") if longest else None,
        "roofline_pct": roof_pct,
        "roofline_tok_s": roof_tok_s,
        "roofline": {
            "bandwidth_gb_s": (bw or {}).get("gb_s"),
            "bandwidth_method": (bw or {}).get("method"),
            "bytes_per_token": bpt,
            "bytes_source": bpt_source,
            "note": roof_note,
        },
        "headline": {
            "decode": [s.get("scenario") for s in valid],
            "ttft": shortest.get("scenario") if shortest else None,
            "prefill": longest.get("scenario") if longest else None,
        },
        "load_ms": load_ms,
        "load_source": load_source,
        "trials": trials,
        "budget_s": budget,
        "elapsed_s": round(sum(s.get("elapsed_s") or 0 for s in scen), 3) if any(s.get("elapsed_s") is not None for s in scen) else None,
        "skipped": [s.get("scenario") for s in scen if s.get("skipped")],
        "stops": {s.get("scenario") or s.get("task_id"): s.get("stop") for s in scen if s.get("stop")},
        "scenarios": scenarios,
        "concurrency": concurrency,
        "valid": bool(valid),
        "flags": flags,
        "notes": notes,
    }


def trial_lines(s: dict) -> list[str]:
    """What a scenario's record says about its trials, as report lines: its estimate
    (and what it really took), and why its trials stopped with the interval reached.
    Runs made before speed-2 have neither and give no lines."""
    out = []
    est = s.get("estimate")
    if isinstance(est, dict) and est.get("min_s") is not None:
        line = f"estimated {est['min_s']:.1f}–{est['max_s']:.1f} s before it started ({est['request_s']:.1f} s a request at {est.get('prefill_tok_s')} tok/s prefill, {est.get('decode_tok_s')} tok/s decode; {est.get('source')})"
        if est.get("budget_left_s") is not None:
            line += f", {est['budget_left_s']:.1f} s of the budget left"
        if s.get("elapsed_s") is not None and not s.get("skipped"):
            line += f"; took {s['elapsed_s']:.1f} s"
        out.append(line)
    if s.get("stop_reason"):
        out.append(str(s["stop_reason"]))
    return out


def _interval_cell(s: dict) -> str | None:
    w = s.get("interval_pct") or {}
    if not w:
        return None
    f = lambda v: "—" if v is None else f"{v:.1f}"  # noqa: E731
    return f"±{f(w.get('decode_tok_s'))}/{f(w.get('ttft_ms'))}%"


SCENARIO_COLUMNS = [
    ("scenario", "scenario"),
    ("prompt_tokens", "prompt tok"),
    ("completion_tokens_measured", "gen tok"),  # tokens generated (median), not the budget
    ("ttfr_ms", "TTFR ms"),
    ("ttft_ms", "TTFT ms"),
    ("ttft_p90_ms", "TTFT p90"),
    ("decode_tok_s", "decode tok/s"),
    ("decode_sd", "± sd"),
    ("server_decode_tok_s", "server tok/s"),
    ("client_server_ratio", "client/server"),
    ("prefill_tok_s", "prefill tok/s"),
    ("roofline_pct", "roofline %"),
    ("valid_trials", "n"),
    ("interval", "95% ± dec/TTFT"),
    ("stop", "stop"),
    ("status", "status"),
]


def scenario_rows(speed: dict) -> list[dict]:
    """One plain row per scenario for tables (console, CSV)."""
    rows = []
    items = sorted((speed.get("scenarios") or {}).items(), key=lambda kv: (kv[1].get("prompt_tokens") or 0, kv[0]))
    for name, s in items:
        row = {k: s.get(k) for k, _ in SCENARIO_COLUMNS}
        row["scenario"] = name
        row["decode_sd"] = ((s.get("metrics") or {}).get("decode_tok_s") or {}).get("sd")
        row["interval"] = _interval_cell(s)
        row["status"] = "skipped" if s.get("skipped") else "ok" if s.get("valid") else ("; ".join(f.split(":", 1)[0] for f in s.get("flags") or []) or "invalid")
        rows.append(row)
    return rows


def csv_rows(run: dict) -> list[list]:
    """Long-format speed rows (header first): one per scenario and metric."""
    sp = run.get("speed") or {}
    out = [["run_id", "speed_scenario", "metric", "median", "p90", "mean", "sd", "ci95_low", "ci95_high", "n", "valid"]]
    for name, s in (sp.get("scenarios") or {}).items():
        for metric, m in (s.get("metrics") or {}).items():
            ci = m.get("ci95") or [None, None]
            out.append([run.get("run_id"), name, metric, m.get("median"), m.get("p90"), m.get("mean"), m.get("sd"), ci[0], ci[1], m.get("n"), s.get("valid")])
        out.append([run.get("run_id"), name, "roofline_pct", s.get("roofline_pct"), None, None, None, None, None, None, s.get("valid")])
        for metric, width in (s.get("interval_pct") or {}).items():
            out.append([run.get("run_id"), name, f"{metric}_interval_pct", width, None, None, None, None, None, s.get("valid_trials"), s.get("valid")])
    for lv in ((sp.get("concurrency") or {}).get("levels") or []):
        for metric in ("aggregate_tok_s", "per_stream_tok_s", "ttft_p90_ms"):
            out.append([run.get("run_id"), f"concurrency-{lv.get('concurrency')}", metric, lv.get(metric), None, None, None, None, None, lv.get("valid_requests"), lv.get("valid")])
    return out
