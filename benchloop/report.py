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


def report_blocks(run: dict, run_dir: str | None = None) -> list[tuple]:
    """What the report says, as plain data both renderers draw: ``("line", [(text,
    style), ...])`` (a third item ``"whole"`` keeps it one line on a terminal) or ``("table", title, [(label, justify, min_width, foldable), ...],
    rows)`` where each row is a list of ``(text, style)`` cells. A column that is not
    foldable is never narrower than its widest cell. Every text is already safe."""
    sc = run.get("scores") or {}
    model = run.get("model") or {}
    blocks: list[tuple] = [("line", [
        ("BenchLoop ", "bold"),
        (safe_text(model.get("name"), 80), "bold cyan"),
        (f"  via {safe_text(run.get('provider') or '?', 40)} · harness {safe_text(run.get('harness') or '?', 40)} · {safe_text((run.get('machine') or {}).get('hardware'), 60)}", ""),
    ])]
    rows = []
    for row in summary_rows(run):
        big = row["n"] is None
        ci = row["ci95"]
        score = row["score"] or 0
        rows.append([
            (row["name"], "bold" if big else ""),
            (num(row["score"]), ""),
            (_bar(row["score"]), "green" if score >= 70 else "yellow" if score >= 40 else "red"),
            ("" if big else str(row["n"]), ""),
            ("" if not ci else f"[{num(ci[0])}, {num(ci[1])}]", ""),
            ("" if big or not row.get("errors") else str(row["errors"]), ""),
        ])
    cols = [("", "left", 14, False), ("score", "right", 0, False), ("", "left", 24, False), ("n", "right", 0, False), ("95% CI", "right", 0, False), ("errors", "right", 0, False)]
    blocks.append(("table", None, cols, rows))
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
    blocks.append(("line", [("  " + safe_text(" · ".join(notes), 2000), "dim")]))
    if run.get("speed"):
        blocks += speed_blocks(run["speed"])
    if run_dir:
        blocks.append(("line", [(f"run directory: {safe_text(run_dir, 1000)}", "")], "whole"))
    return blocks


def print_report(run: dict, console=None, run_dir: str | None = None) -> None:
    """The report on the terminal through rich; to a pipe or a file (CI logs, ``> out``)
    as plain text, which needs no rich at all: that import alone was ~40 ms and 3.5 MiB
    of every run's cost (issue 14). A ``console`` given is always used."""
    blocks = report_blocks(run, run_dir)
    if console is None:
        import sys

        if not _is_terminal(sys.stdout):
            enc = getattr(sys.stdout, "encoding", None) or "utf-8"
            sys.stdout.write(render_plain(blocks).encode(enc, "replace").decode(enc))  # a cp1252 pipe gets "?" for a bar
            return
        from rich.console import Console

        console = Console()
    render_rich(blocks, console)


def _is_terminal(stream) -> bool:
    import os

    if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1":
        return True  # rich's own switches: the caller wants the rich rendering
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def render_plain(blocks: list[tuple]) -> str:
    """Blocks as plain text: tables padded to their widest cell, nothing wrapped."""
    out = []
    for block in blocks:
        if block[0] == "line":
            text = "".join(t for t, _ in block[1])
            if any("yellow" in (style or "") for _, style in block[1]):  # a warning: colour cannot say so here
                text = text[: len(text) - len(text.lstrip())] + "! " + text.lstrip()
            out.append(text)
            continue
        _, title, cols, rows = block
        cells = [[text for text, _ in row] for row in rows]
        widths = [max([minw, len(label)] + [len(r[i]) for r in cells]) for i, (label, _, minw, _) in enumerate(cols)]
        if title:
            out.append(title)
        lines = [[label for label, _, _, _ in cols]] + cells
        for r in lines:
            parts = [(c.rjust(w) if just == "right" else c.ljust(w)) for c, w, (_, just, _, _) in zip(r, widths, cols)]
            out.append(" ".join(parts).rstrip())
    return "\n".join(out) + "\n"


def render_rich(blocks: list[tuple], console) -> None:
    """Blocks through rich: styled, tables fitted to the terminal (headers wrap at their
    spaces, numbers are never cut). Cells are ``Text``, never markup: a status or a
    server's error text such as ``[/INST]`` is data."""
    from rich.table import Table
    from rich.text import Text

    for block in blocks:
        if block[0] == "line":
            head = Text()
            for text, style in block[1]:
                head.append(text, style=style or "")
            # a long line (a path, a server's error) stays whole for copying; notes wrap
            console.print(head, soft_wrap=len(block) > 2 and block[2] == "whole")
            continue
        _, title, cols, rows = block
        t = Table(title=title, title_justify="left", show_header=True, header_style="bold", box=None, pad_edge=False)
        for i, (label, just, minw, foldable) in enumerate(cols):
            floor = max([minw, *(len(w) for w in label.split())] + [len(r[i][0]) for r in rows if not foldable])
            t.add_column(label, justify=just, overflow="fold", min_width=floor or None)
        for r in rows:
            t.add_row(*(Text(text, style=style or "") for text, style in r))
        console.print(t)


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


def speed_blocks(sp: dict) -> list[tuple]:
    """The speed suite's tables per scenario (and per concurrency level), then its
    roofline basis, flags and notes, as report blocks."""
    from benchloop.speed.report import scenario_rows

    rows = scenario_rows(sp)
    for row, (_name, sc) in zip(rows, sorted((sp.get("scenarios") or {}).items(), key=lambda kv: (kv[1].get("prompt_tokens") or 0, kv[0]))):
        # what was generated (the server's count, median over trials), not the budget
        row["gen_tokens"] = sc.get("completion_tokens_measured")
    blocks: list[tuple] = []
    # two narrow tables instead of one of fourteen columns: each fits 80 columns
    # (headers wrap at their spaces, numbers never get cut to "1197…")
    for title, columns in SPEED_TABLES:
        cols = [(label, "left" if key in ("scenario", "status") else "right", 0, key == "status") for key, label in columns]
        blocks.append(("table", title, cols, [[(_cell(k, row.get(k)), "") for k, _ in columns] for row in rows]))
    levels = (sp.get("concurrency") or {}).get("levels") or []
    if levels:
        cols = [(label, "right", 0, False) for label in ("streams", "total tok/s", "per-stream tok/s", "TTFT p90 ms", "valid")]
        blocks.append(("table", "concurrency", cols, [[(str(lv.get("concurrency")), ""), (num(lv.get("aggregate_tok_s")), ""), (num(lv.get("per_stream_tok_s")), ""), (num(lv.get("ttft_p90_ms")), ""), (f"{lv.get('valid_requests')}/{lv.get('requests')}", "")] for lv in levels]))
    roof = sp.get("roofline") or {}
    head = f"  headline decode {num(sp.get('decode_tok_s'))} tok/s · TTFT {num(sp.get('ttft_ms'))} ms · roofline "
    head += f"{num(sp.get('roofline_pct'))}% of {num(sp.get('roofline_tok_s'))} tok/s" if sp.get("roofline_pct") is not None else safe_text(roof.get("note") or "unknown", 200)
    if roof.get("bandwidth_gb_s") and roof.get("bytes_per_token"):
        head += f" ({num(roof['bandwidth_gb_s'])} GB/s, {num(roof['bytes_per_token'] / 1e6, 'mb')} MB/token)"
    if sp.get("load_ms") is not None:
        head += f" · cold start {num(sp['load_ms'], 'ms', digits=0)} ms"
    blocks.append(("line", [(head, "dim")], "whole"))
    flags = sp.get("flags") or []
    for line in flags + (sp.get("notes") or []):
        blocks.append(("line", [("  " + safe_text(line, 300), "yellow" if line in flags else "dim")], "whole"))
    return blocks


def print_speed(sp: dict, console) -> None:
    """The speed part of the report alone, through rich (flags carry server error text
    such as ``[/INST]``, drawn as text, never read as markup)."""
    render_rich(speed_blocks(sp), console)
