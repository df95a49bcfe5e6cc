"""The answer of a sweep: a matrix of cells with quality, overall and decode speed,
n and 95% intervals; the best cell, the cells that cannot be told from it, and one
plain sentence.

How "tied" is decided: the best cell (highest quality, then overall, then decode
speed) is compared with every other finished cell on the tasks both ran (same suite,
same task id, same task file and checker), by the paired sign-flip test stratified by
suite (:func:`benchloop.stats.sign_flip_p`; on pass/fail tasks it is the exact
McNemar test). With m such comparisons the p-values are Holm-corrected; a cell whose
corrected p is 0.05 or more is *tied* with the best, below that it is *worse*. A
different harness changes the manifest's format hash, but not what a task asks and
how it is judged, so cells of different harnesses are compared on their shared tasks.

Pure: :func:`analyze` takes the sweep document and the cells' runs; the renderers turn
its result into a console table, Markdown, CSV or JSON (the dashboard reads the JSON).
"""
from __future__ import annotations

import csv
import io
import json
import random

from benchloop.fmt import MISSING, num, p_value

ALPHA = 0.05
TEST = "paired sign-flip over shared tasks, stratified by suite; Holm-corrected"


def _tasks(run: dict) -> dict:
    out = {}
    for t in run.get("tasks") or []:
        if isinstance(t, dict) and t.get("suite") and t.get("suite") != "speed" and t.get("task_id"):
            try:
                out[(t["suite"], t["task_id"])] = float(t.get("score") or 0.0)
            except (TypeError, ValueError):
                out[(t["suite"], t["task_id"])] = 0.0
    return out


def _same_suite(a: dict, b: dict, suite: str) -> bool:
    """Both runs judged ``suite`` with the same task file and checker."""
    ma = ((a.get("manifest") or {}).get("suites") or {}).get(suite) or {}
    mb = ((b.get("manifest") or {}).get("suites") or {}).get(suite) or {}
    return all(ma.get(k) == mb.get(k) for k in ("task_file_sha256", "checker"))


def shared_diffs(a: dict, b: dict) -> list[list[float]]:
    """Per suite, B - A on every task both runs have a result for."""
    ta, tb = _tasks(a), _tasks(b)
    out = []
    for suite in sorted({s for s, _ in ta} & {s for s, _ in tb}):
        if not _same_suite(a, b, suite):
            continue
        keys = sorted(k for k in ta if k[0] == suite and k in tb)
        if keys:
            out.append([tb[k] - ta[k] for k in keys])
    return out


def holm(pvalues: list[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input's order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adj = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adj[i] = running
    return adj


def quality_interval(run: dict, *, iters: int = 2000, seed: int = 1729):
    """95% interval of the quality score (mean of the suite means): the suite's own
    interval when one quality suite ran, a bootstrap resampled within each suite
    otherwise (fixed seed: the same run gives the same interval)."""
    suites = {k: v for k, v in ((run.get("scores") or {}).get("suites") or {}).items() if k != "speed"}
    if len(suites) == 1:
        return next(iter(suites.values())).get("ci95")
    groups = {}
    for (suite, _), score in _tasks(run).items():
        groups.setdefault(suite, []).append(score)
    groups = [g for g in groups.values() if g]
    if not groups:
        return None
    rng = random.Random(seed)
    means = sorted(sum(sum(g[rng.randrange(len(g))] for _ in g) / len(g) for g in groups) / len(groups) for _ in range(iters))
    return [round(means[int(0.025 * iters)], 2), round(means[min(iters - 1, int(0.975 * iters))], 2)]


def decode_rate(run: dict) -> tuple[float | None, list | None, str | None]:
    """(decode tok/s, its 95% interval, where it came from). The speed suite's headline
    when it ran; otherwise over the quality tasks: the server's own rate when it reports
    one, else completion tokens over the time after the first token."""
    sp = run.get("speed") or {}
    if sp.get("decode_tok_s"):
        return sp["decode_tok_s"], None, "speed suite"
    rates, server = [], 0
    for t in run.get("tasks") or []:
        if not isinstance(t, dict) or t.get("error"):
            continue
        st = t.get("server_timings") or {}
        if isinstance(st, dict) and st.get("predicted_per_second") and (st.get("predicted_n") or 0) > 1:
            rates.append(float(st["predicted_per_second"]))
            server += 1
            continue
        n, lat, ttft = t.get("completion_tokens"), t.get("latency_ms"), t.get("ttft_ms")
        if n and n > 1 and lat and ttft is not None and lat > ttft:
            rates.append(n / ((lat - ttft) / 1000.0))
    if not rates:
        return None, None, None
    from benchloop.stats import summarize

    s = summarize(rates)
    return s["mean"], s["ci95"], "server timings" if server * 2 >= len(rates) else "client"


def _summary(cell: dict, run: dict | None) -> dict:
    row = {"name": cell["name"], "axes": cell["axes"], "run_id": cell.get("run_id"), "status": cell.get("status"), "load_ms": cell.get("load_ms"),
           "n": None, "quality": None, "quality_ci95": None, "overall": None, "decode_tok_s": None, "decode_ci95": None, "decode_source": None,
           "mark": "no result", "p": None, "p_holm": None, "diff": None, "shared_n": None}
    if run is None:
        return row
    sc = run.get("scores") or {}
    decode, dci, source = decode_rate(run)
    row.update(n=len(_tasks(run)), quality=sc.get("quality"), quality_ci95=quality_interval(run), overall=sc.get("overall"),
               decode_tok_s=None if decode is None else round(decode, 2), decode_ci95=dci, decode_source=source,
               status=run.get("status") if cell.get("status") in (None, "complete", "incomplete") else cell.get("status"), mark="untested")
    return row


def _rank(row: dict) -> tuple:
    return tuple(-1e18 if row[k] is None else row[k] for k in ("quality", "overall", "decode_tok_s"))


def analyze(doc: dict, runs: dict, *, rows: str | None = None, cols: str | None = None) -> dict:
    """The matrix: every cell's numbers and mark (``best``, ``tied``, ``worse``,
    ``untested``: no shared tasks or unfinished, ``no result``), the test behind each
    mark and the sentence. ``runs`` maps a cell name to its run (or None)."""
    from benchloop.stats import sign_flip_p

    axes = list(doc.get("axes") or {})
    rows = rows or doc.get("rows") or ("model" if "model" in axes else axes[0])
    cols = cols or doc.get("cols") or ("harness" if "harness" in axes and rows != "harness" else next((a for a in axes if a != rows), None))
    for name, axis in (("--rows", rows), ("--cols", cols)):
        if axis is not None and axis not in axes:
            from benchloop.errors import BenchLoopError

            raise BenchLoopError(f"{name} {axis!r} is not an axis of this sweep; its axes: {', '.join(axes)}")
    rest = [a for a in axes if a not in (rows, cols) and len(doc["axes"][a]) > 1]
    cells = []
    for cell in doc["cells"]:
        row = _summary(cell, runs.get(cell["name"]))
        row["row"] = " · ".join(str(cell["axes"][a]) for a in [rows, *rest])
        row["col"] = str(cell["axes"][cols]) if cols else ""
        model = cell["axes"].get("model")
        # the sentence names the model even when only the harness varied ("ref/pi", not "pi")
        row["label"] = cell["name"] if model is None or cell["name"].startswith(str(model)) else f"{model}/{cell['name']}"
        cells.append(row)
    finished = [c for c in cells if c["status"] == "complete" and c["quality"] is not None]
    best = max(finished, key=_rank) if finished else None
    others = []
    if best is not None:
        best["mark"] = "best"
        brun = runs[best["name"]]
        for c in finished:
            if c is best:
                continue
            diffs = shared_diffs(brun, runs[c["name"]])
            c["shared_n"] = sum(len(d) for d in diffs)
            if not c["shared_n"]:
                continue
            c["diff"] = round(sum(sum(d) / len(d) for d in diffs) / len(diffs), 2)
            c["p"] = round(sign_flip_p(diffs), 6)
            others.append(c)
        for c, adj in zip(others, holm([c["p"] for c in others])):
            c["p_holm"] = round(adj, 6)
            c["mark"] = "tied" if adj >= ALPHA else "worse"
    row_values = list(dict.fromkeys(c["row"] for c in cells))
    col_values = list(dict.fromkeys(c["col"] for c in cells))
    result = {"sweep_id": doc.get("sweep_id"), "rows": rows, "cols": cols, "row_values": row_values, "col_values": col_values,
              "alpha": ALPHA, "test": TEST, "comparisons": len(others), "best": best["name"] if best else None, "cells": cells}
    result["sentence"] = sentence(result)
    return result


def _pct(a, b) -> float | None:
    return None if not a or not b else (a - b) / b * 100


def sentence(result: dict) -> str:
    """Which combination to pick, how sure that is, and what it costs in speed."""
    cells = {c["name"]: c for c in result["cells"]}
    best = cells.get(result["best"])
    if best is None:
        return "No cell finished with a quality score, so there is nothing to pick yet; resume the sweep with --resume."
    q = f"quality {num(best['quality'])}" + (f" (95% CI {num(best['quality_ci95'][0])}–{num(best['quality_ci95'][1])})" if best.get("quality_ci95") else "")
    tested = [c for c in result["cells"] if c["mark"] in ("tied", "worse")]
    tied = [c for c in tested if c["mark"] == "tied"]
    worse = [c for c in tested if c["mark"] == "worse"]
    out = f"Pick {best['label']}: {q}"
    if not tested:
        out += "; no other cell shares its tasks, so this is not yet a tested win"
    elif not worse:
        them = f"the other cell ({tested[0]['label']})" if len(tested) == 1 else f"any of the {len(tested)} other cells"
        out += f", but it cannot be told apart from {them} at 95% (Holm-corrected); run more tasks (a larger --profile) to be sure"
    else:
        out += f"; it beats {len(worse)} of the {len(tested)} other cells at 95% confidence (paired tests, Holm-corrected)" if len(tested) > 1 else \
            f"; it beats the other cell ({worse[0]['label']}) at 95% confidence (paired test)"
        if tied:
            out += f", and {', '.join(c['label'] for c in tied)} {'is' if len(tied) == 1 else 'are'} statistically tied with it"
    speeds = [c for c in result["cells"] if c.get("decode_tok_s") and c["status"] == "complete"]
    if best.get("decode_tok_s") and speeds:
        fastest = max(speeds, key=lambda c: c["decode_tok_s"])
        if fastest is best:
            out += f". It is also the fastest cell ({num(best['decode_tok_s'], 'tok_s')} decode tok/s)"
        else:
            worse_note = ", worse in quality" if fastest["mark"] == "worse" else ""
            out += f". It decodes at {num(best['decode_tok_s'], 'tok_s')} tok/s, {num(-_pct(best['decode_tok_s'], fastest['decode_tok_s']), 'pct')}% slower than the fastest cell ({fastest['label']}, {num(fastest['decode_tok_s'], 'tok_s')} tok/s{worse_note})"
        quick = max(tied, key=lambda c: c.get("decode_tok_s") or 0, default=None)
        if quick and quick.get("decode_tok_s") and (_pct(quick["decode_tok_s"], best["decode_tok_s"]) or 0) > 5:
            out += f"; if speed matters, {quick['label']} is as good within the test and {num(_pct(quick['decode_tok_s'], best['decode_tok_s']), 'pct')}% faster"
    elif speeds or best:
        out += ". No decode speed was measured"
    return out + "."


# ----------------------------------------------------------------------- renderers
MARKS = {"best": "★ best", "tied": "≈ tied", "worse": "worse", "untested": "untested", "no result": "no result"}


def _ci(ci, unit="score") -> str:
    return f"[{num(ci[0], unit)}, {num(ci[1], unit)}]" if ci else ""


def cell_lines(c: dict) -> list[str]:
    """A cell of the matrix as three short lines (console and Markdown)."""
    if c["quality"] is None and c["overall"] is None:
        return [c["status"] or MISSING, c.get("run_id") or ""]
    pv = p_value(c.get("p_holm"))
    test = "" if c.get("p_holm") is None else f" p{pv}" if pv.startswith("<") else f" p={pv}"
    return [
        f"Q {num(c['quality'])} {_ci(c['quality_ci95'])}".rstrip(),
        f"overall {num(c['overall'])} · {num(c['decode_tok_s'], 'tok_s')} tok/s" + (f" · load {num(c['load_ms'] / 1000, 's', digits=1)} s" if c.get("load_ms") else ""),
        f"n {c['n']} · {MARKS.get(c['mark'], c['mark'])}{test}" + ("" if c["status"] == "complete" else f" · {c['status']}"),
    ]


def _grid(result: dict) -> dict:
    return {(c["row"], c["col"]): c for c in result["cells"]}


def print_matrix(result: dict, console=None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from benchloop.report import safe_text

    if console is None:
        console = Console()
        if not console.is_terminal:  # a file or a pipe: room for every column rather than a cropped table
            console = Console(width=min(240, max(80, 20 + 34 * len(result["col_values"]))))
    grid = _grid(result)
    t = Table(title=f"sweep {result.get('sweep_id') or ''}: {result['rows']} × {result['cols'] or ''}".rstrip(" ×"), show_lines=True, header_style="bold")
    t.add_column(f"{result['rows']} \\ {result['cols'] or ''}", no_wrap=True, min_width=12)
    # axis values (model names such as "repo/[q4]") and statuses are data: Text, never markup
    for col in result["col_values"]:
        t.add_column(Text(safe_text(col, 60)), min_width=12)
    for row in result["row_values"]:
        t.add_row(Text(safe_text(row, 60)), *(Text("\n".join(cell_lines(grid[(row, col)]))) if (row, col) in grid else MISSING for col in result["col_values"]))
    console.print(t)
    console.print(f"Q = quality 0–100 [95% CI]; decode tok/s; n tasks; ★ best, ≈ tied = not distinguishable from it ({result['test']}, α={result['alpha']}).", markup=False)
    console.print(result["sentence"], soft_wrap=True, markup=False)


def to_markdown(result: dict) -> str:
    grid = _grid(result)
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    out = [f"**Sweep {result.get('sweep_id') or ''}** — rows {result['rows']}, columns {result['cols']}", "",
           "| " + esc(f"{result['rows']} \\ {result['cols'] or ''}") + " | " + " | ".join(esc(c) for c in result["col_values"]) + " |",
           "|---|" + "---|" * len(result["col_values"])]
    for row in result["row_values"]:
        parts = [("<br>".join(esc(x) for x in cell_lines(grid[(row, col)])) if (row, col) in grid else MISSING) for col in result["col_values"]]
        out.append(f"| {esc(row)} | " + " | ".join(parts) + " |")
    out += ["", f"Q = quality [95% CI]; ★ best; ≈ tied: {result['test']}, α={result['alpha']}.", "", result["sentence"]]
    return "\n".join(out) + "\n"


CSV_FIELDS = ("cell", "row", "col", "run_id", "status", "n", "quality", "quality_lo", "quality_hi", "overall", "decode_tok_s", "decode_lo", "decode_hi", "load_ms", "mark", "diff", "p", "p_holm")


def to_csv(result: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for c in result["cells"]:
        qc, dc = c.get("quality_ci95") or [None, None], c.get("decode_ci95") or [None, None]
        w.writerow([c["name"], c["row"], c["col"], c.get("run_id") or "", c["status"], c["n"] if c["n"] is not None else "", *(("" if v is None else v) for v in (
            c["quality"], qc[0], qc[1], c["overall"], c["decode_tok_s"], dc[0], dc[1], c.get("load_ms"))), c["mark"], *(("" if v is None else v) for v in (c["diff"], c["p"], c["p_holm"]))])
    return buf.getvalue()


def to_json(result: dict) -> str:
    return json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False)
