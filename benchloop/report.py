"""Turning a run artifact into something a person (rich console, Markdown) or a
pipeline (CSV, JSON) reads. Model output printed to a terminal is hostile input:
control characters are stripped before anything reaches the screen.
"""
from __future__ import annotations

import csv
import io
import json
import re

from benchloop.fmt import MISSING, metric, num

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(s, limit: int = 500) -> str:
    """Strip ANSI escapes / control / bidi characters and cut to ``limit``."""
    s = _CTRL.sub("", str(s if s is not None else ""))
    return s if len(s) <= limit else s[:limit] + "…"


def _bar(v, width=24) -> str:
    if v is None:
        return " " * width
    full = int(round(max(0.0, min(100.0, v)) / 100 * width))
    return "█" * full + "░" * (width - full)


def summary_rows(run: dict) -> list[dict]:
    sc = run.get("scores") or {}
    rows = []
    for key in ("overall", "quality", "speed", "reliability"):
        rows.append({"name": key.capitalize(), "score": sc.get(key), "n": None, "ci95": None})
    for name, s in (sc.get("suites") or {}).items():
        rows.append({"name": name, "score": s.get("score"), "n": s.get("n"), "ci95": s.get("ci95"), "passed": s.get("passed"), "errors": s.get("errors")})
    return rows


def print_report(run: dict, console=None, run_dir: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    sc = run.get("scores") or {}
    model = run.get("model") or {}
    head = Text()
    head.append("BenchLoop ", style="bold")
    head.append(safe_text(model.get("name"), 80), style="bold cyan")
    head.append(f"  via {run.get('provider')} · harness {run.get('harness')} · {safe_text((run.get('machine') or {}).get('hardware'), 60)}")
    console.print(head)
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("", min_width=14)
    t.add_column("score", justify="right")
    t.add_column("", min_width=24)
    t.add_column("n", justify="right")
    t.add_column("95% CI", justify="right")
    t.add_column("errors", justify="right")
    for row in summary_rows(run):
        big = row["n"] is None
        ci = row["ci95"]
        t.add_row(
            Text(row["name"], style="bold" if big else ""),
            num(row["score"]),
            Text(_bar(row["score"]), style="green" if (row["score"] or 0) >= 70 else "yellow" if (row["score"] or 0) >= 40 else "red"),
            "" if big else str(row["n"]),
            "" if not ci else f"[{num(ci[0])}, {num(ci[1])}]",
            "" if big or not row.get("errors") else str(row["errors"]),
        )
    console.print(t)
    notes = [f"formula {sc.get('formula')}"]
    if sc.get("finish_length"):
        notes.append(f"{sc['finish_length']} replies cut by the token limit (finish_reason=length)")
    if run.get("missing_tasks"):
        notes.append(f"{len(run['missing_tasks'])} tasks without a result")
    errs = sum(1 for x in run.get("tasks") or [] if x.get("error"))
    if errs:
        rate = (sc.get("errors") or {}).get("rate")
        notes.append(f"{errs} tasks ended in a provider/harness error" + (f" ({num(rate)}% error rate; reliability counts them as not passed)" if rate is not None else ""))
    notes.append(f"status {run.get('status')}")
    notes.append(f"manifest {str(run.get('manifest_hash') or '')[:12]}")
    console.print("  " + " · ".join(notes), style="dim")
    if run.get("speed"):
        print_speed(run["speed"], console)
    if run_dir:
        console.print(f"run directory: {run_dir}", soft_wrap=True, highlight=False, markup=False)


def to_markdown(run: dict) -> str:
    out = [f"# BenchLoop run {run.get('run_id')}", "", f"model **{safe_text((run.get('model') or {}).get('name'), 80)}** · provider {run.get('provider')} · harness {run.get('harness')} · status {run.get('status')}", ""]
    out += ["| | score | n | 95% CI |", "|---|---:|---:|---|"]
    for row in summary_rows(run):
        ci = row["ci95"]
        out.append(f"| {row['name']} | {num(row['score'])} | {'' if row['n'] is None else row['n']} | {'' if not ci else f'{num(ci[0])}–{num(ci[1])}'} |")
    sp = run.get("speed")
    if sp:
        out += ["", "## Speed", "", "| scenario | decode tok/s | prefill tok/s | TTFT ms | roofline % |", "|---|---:|---:|---:|---:|"]
        for name, sc in sorted((sp.get("scenarios") or {}).items(), key=lambda kv: (kv[1].get("prompt_tokens") or 0, kv[0])):
            out.append(f"| {name} | {metric('decode_tok_s', sc.get('decode_tok_s'))} | {metric('prefill_tok_s', sc.get('prefill_tok_s'))} | {metric('ttft_ms', sc.get('ttft_ms'))} | {metric('roofline_pct', sc.get('roofline_pct'))} |")
        out += [""] + [f"- {safe_text(n, 300)}" for n in (sp.get("flags") or []) + (sp.get("notes") or [])]
        roof = sp.get("roofline") or {}
        out.append(f"- roofline: {num(sp.get('roofline_pct'))}% of {num(sp.get('roofline_tok_s'))} tok/s ({num(roof.get('bandwidth_gb_s'))} GB/s, {safe_text(roof.get('bytes_source'), 100)})" if sp.get("roofline_pct") is not None else f"- roofline: {safe_text(roof.get('note') or 'unknown', 200)}")
    return "\n".join(out) + "\n"


def to_csv(run: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["run_id", "suite", "task_id", "score", "passed", "error", "latency_ms", "ttft_ms", "prompt_tokens", "completion_tokens", "finish_reason"])
    for t in run.get("tasks") or []:
        w.writerow([run.get("run_id"), t.get("suite"), t.get("task_id"), t.get("score"), t.get("passed"), safe_text(t.get("error") or "", 200), t.get("latency_ms"), t.get("ttft_ms"), t.get("prompt_tokens"), t.get("completion_tokens"), t.get("finish_reason")])
    if run.get("speed"):
        from benchloop.speed.report import csv_rows

        w.writerow([])
        for row in csv_rows(run):
            w.writerow(row)
    return buf.getvalue()


def to_json(run: dict) -> str:
    return json.dumps(run, indent=1, sort_keys=True, ensure_ascii=False)


SPEED_TABLES = (
    ("speed", (("scenario", "scenario"), ("prompt_tokens", "prompt tok"), ("gen_tokens", "gen tok"), ("ttfr_ms", "TTFR ms"), ("ttft_ms", "TTFT ms"), ("ttft_p90_ms", "TTFT p90 ms"), ("decode_tok_s", "decode tok/s"), ("decode_sd", "± sd"), ("valid_trials", "n"))),
    ("speed, server side and roofline", (("scenario", "scenario"), ("server_decode_tok_s", "server tok/s"), ("client_server_ratio", "client/server"), ("prefill_tok_s", "prefill tok/s"), ("roofline_pct", "roofline %"), ("status", "status"))),
)


def _cell(key: str, v) -> str:
    if isinstance(v, str):
        return safe_text(v, 60).replace(";", "; ")
    if key in ("prompt_tokens", "gen_tokens", "valid_trials"):
        return num(v, "count")
    if isinstance(v, float):
        return metric(key, v)
    return MISSING if v is None else str(v)


def print_speed(sp: dict, console) -> None:
    """The speed suite's table per scenario (and per concurrency level), then its
    roofline basis, flags and notes."""
    from rich.table import Table
    from rich.text import Text

    from benchloop.speed.report import scenario_rows

    rows = scenario_rows(sp)
    for row, (_name, sc) in zip(rows, sorted((sp.get("scenarios") or {}).items(), key=lambda kv: (kv[1].get("prompt_tokens") or 0, kv[0]))):
        # what was generated (the server's count, median over trials), not the budget
        row["gen_tokens"] = sc.get("completion_tokens_measured")
    # two narrow tables instead of one of fourteen columns: each fits 80 columns
    # (headers wrap at their spaces, numbers never get cut to "1197…")
    for title, columns in SPEED_TABLES:
        t = Table(title=title, title_justify="left", show_header=True, header_style="bold", box=None, pad_edge=False)
        cells = [[_cell(k, row.get(k)) for k, _ in columns] for row in rows]
        for i, (key, label) in enumerate(columns):
            # a number's full width is the floor (never "1197…"); a header wraps at its spaces
            floor = max([len(w) for w in label.split()] + [len(c[i]) for c in cells if key != "status"])
            t.add_column(label, justify="left" if key in ("scenario", "status") else "right", overflow="fold", min_width=floor)
        for c in cells:
            t.add_row(*map(Text, c))  # Text, not markup: a status or scenario name is data
        console.print(t)
    levels = (sp.get("concurrency") or {}).get("levels") or []
    if levels:
        c = Table(title="concurrency", title_justify="left", box=None, pad_edge=False, header_style="bold")
        for label in ("streams", "total tok/s", "per-stream tok/s", "TTFT p90 ms", "valid"):
            c.add_column(label, justify="right")
        for lv in levels:
            c.add_row(str(lv.get("concurrency")), num(lv.get("aggregate_tok_s")), num(lv.get("per_stream_tok_s")), num(lv.get("ttft_p90_ms")), f"{lv.get('valid_requests')}/{lv.get('requests')}")
        console.print(c)
    roof = sp.get("roofline") or {}
    head = f"  headline decode {num(sp.get('decode_tok_s'))} tok/s · TTFT {num(sp.get('ttft_ms'))} ms · roofline "
    head += f"{num(sp.get('roofline_pct'))}% of {num(sp.get('roofline_tok_s'))} tok/s" if sp.get("roofline_pct") is not None else safe_text(roof.get("note") or "unknown", 200)
    if roof.get("bandwidth_gb_s") and roof.get("bytes_per_token"):
        head += f" ({num(roof['bandwidth_gb_s'])} GB/s, {num(roof['bytes_per_token'] / 1e6, 'mb')} MB/token)"
    if sp.get("load_ms") is not None:
        head += f" · cold start {num(sp['load_ms'], 'ms', digits=0)} ms"
    # markup=False: flags carry server error text ("error: ... [/INST]"), which rich would
    # otherwise read as a closing tag and raise on, losing the whole report
    console.print(head, style="dim", soft_wrap=True, highlight=False, markup=False)
    for line in (sp.get("flags") or []) + (sp.get("notes") or []):
        console.print("  " + safe_text(line, 300), style="yellow" if line in (sp.get("flags") or []) else "dim", soft_wrap=True, highlight=False, markup=False)
