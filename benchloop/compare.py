"""``benchloop compare RUN_A RUN_B …``: is the gap between two runs real?

Two runs of one benchmark are paired data (the same tasks), so the tests are paired:
McNemar on pass/fail (exact binomial while the discordant count is small) and, on
scores, a paired sign-flip test (exact up to 16 tasks) with a bootstrap interval for
the difference, stratified by suite for the quality score. Each comparison gets a
p-value and a plain verdict, "significant at 95%" or "not significant"; a handful of
tasks can never be significant, however far apart they moved.

Runs with different manifests (other task files, checkers, task selection, token budget
or harness format) measured different things: they are shown, on their shared tasks,
under a banner that says they are not comparable, and the pair's verdict says so.

:func:`compare_runs` is pure (the dashboard imports it); the renderers below turn its
result into Markdown, CSV or a console table; ``benchloop compare`` lives in the CLI.
"""
from __future__ import annotations

import csv
import io

from benchloop.fmt import MISSING, num, p_value, signed

ALPHA = 0.05
SIGNIFICANT = "significant at 95%"
NOT_SIGNIFICANT = "not significant"
NOT_COMPARABLE = "not comparable"


def verdict(p: float | None) -> str:
    if p is None:
        return "no test (no shared tasks)"
    return SIGNIFICANT if p < ALPHA else NOT_SIGNIFICANT


def _summary(run: dict) -> dict:
    sc = run.get("scores") or {}
    return {
        "run_id": run.get("run_id"),
        "model": (run.get("model") or {}).get("name"),
        "provider": run.get("provider"),
        "harness": run.get("harness"),
        "status": run.get("status"),
        "temperature": (run.get("sampling") or {}).get("temperature"),
        "manifest_hash": run.get("manifest_hash"),
        "overall": sc.get("overall"),
        "quality": sc.get("quality"),
        "speed": sc.get("speed"),
        "reliability": sc.get("reliability"),
    }


def _by_key(run: dict) -> dict:
    out = {}
    for t in run.get("tasks") or []:
        if isinstance(t, dict) and t.get("suite") and t.get("task_id"):
            out[(str(t["suite"]), str(t["task_id"]))] = t
    return out


def _score(t: dict) -> float:
    try:
        return float(t.get("score") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _change(a: dict | None, b: dict | None) -> str:
    if a is None:
        return "only in B"
    if b is None:
        return "only in A"
    pa, pb = bool(a.get("passed")), bool(b.get("passed"))
    if pa != pb:
        return "fixed" if pb else "broke"
    sa, sb = _score(a), _score(b)
    if sb > sa:
        return "better"
    if sb < sa:
        return "worse"
    return "same"


def comparability(a: dict, b: dict) -> tuple[bool, str | None]:
    """(comparable, why not). Equal manifest hashes of two complete runs = comparable."""
    from benchloop.receipts import manifest_diff

    ha, hb = a.get("manifest_hash"), b.get("manifest_hash")
    if not ha or not hb:
        missing = a.get("run_id") if not ha else b.get("run_id")
        return False, f"run {missing} has no manifest (it never finished; resume it first)"
    if ha != hb:
        return False, manifest_diff(a.get("manifest"), b.get("manifest"), old_name="A", new_name="B") or "manifest hashes differ"
    for run in (a, b):
        if run.get("status") != "complete":
            return False, f"run {run.get('run_id')} is {run.get('status') or 'unfinished'}: its missing tasks would count as differences"
    return True, None


def compare_pair(a: dict, b: dict) -> dict:
    from benchloop.stats import mcnemar, paired_bootstrap

    comparable, why = comparability(a, b)
    ta, tb = _by_key(a), _by_key(b)
    keys = sorted(set(ta) | set(tb))
    suites = {}
    strata = []
    for suite in sorted({s for s, _ in keys}):
        shared = [k for k in keys if k[0] == suite and k in ta and k in tb]
        only_a = [k[1] for k in keys if k[0] == suite and k in ta and k not in tb]
        only_b = [k[1] for k in keys if k[0] == suite and k in tb and k not in ta]
        row = {"suite": suite, "n": len(shared), "only_in_a": only_a, "only_in_b": only_b}
        if suite == "speed":
            sa, sb = ((a.get("scores") or {}).get("speed"), (b.get("scores") or {}).get("speed"))
            row.update(score_a=sa, score_b=sb, diff=None if sa is None or sb is None else round(sb - sa, 2), test=None, p=None, verdict="no test (speed is measured, not pass/fail; see the speed block)")
            suites[suite] = row
            continue
        pairs = [(_score(ta[k]), _score(tb[k])) for k in shared]
        strata.append(pairs)
        disc_b = sum(1 for k in shared if ta[k].get("passed") and not tb[k].get("passed"))
        disc_c = sum(1 for k in shared if tb[k].get("passed") and not ta[k].get("passed"))
        mc = mcnemar(disc_b, disc_c)
        boot = paired_bootstrap([pairs])
        binary = all(x in (0.0, 100.0) for p in pairs for x in p)
        primary = mc if binary else boot
        n = len(pairs)
        row.update(
            score_a=round(sum(x for x, _ in pairs) / n, 2) if n else None,
            score_b=round(sum(y for _, y in pairs) / n, 2) if n else None,
            passed_a=sum(1 for k in shared if ta[k].get("passed")),
            passed_b=sum(1 for k in shared if tb[k].get("passed")),
            mcnemar=mc,
            bootstrap=boot,
            test=primary["test"],
            p=primary["p"] if n else None,
        )
        row["diff"] = None if not n else round(row["score_b"] - row["score_a"], 2)
        row["verdict"] = verdict(row["p"])
        suites[suite] = row
    q = paired_bootstrap(strata) if any(strata) else {"test": "paired-sign-flip", "diff": None, "ci95": None, "p": None, "n": 0}
    quality = {
        "score_a": (a.get("scores") or {}).get("quality"),
        "score_b": (b.get("scores") or {}).get("quality"),
        "diff_shared": q["diff"],
        "ci95": q["ci95"],
        "test": "paired-sign-flip (stratified by suite; bootstrap CI)",
        "p": q["p"],
        "n": q["n"],
        "verdict": verdict(q["p"]),
    }
    tasks = []
    for k in keys:
        x, y = ta.get(k), tb.get(k)
        tasks.append(
            {
                "suite": k[0],
                "task_id": k[1],
                "score_a": None if x is None else _score(x),
                "score_b": None if y is None else _score(y),
                "passed_a": None if x is None else bool(x.get("passed")),
                "passed_b": None if y is None else bool(y.get("passed")),
                "error_a": None if x is None else x.get("error"),
                "error_b": None if y is None else y.get("error"),
                "change": _change(x, y),
            }
        )
    overall = {}
    for name in ("overall", "quality", "speed", "reliability"):
        va, vb = (a.get("scores") or {}).get(name), (b.get("scores") or {}).get(name)
        overall[name] = {"a": va, "b": vb, "diff": None if va is None or vb is None else round(vb - va, 2)}
    banner = None
    if not comparable:
        banner = f"NOT COMPARABLE: {why}. Shown on their shared tasks for information only; the differences are not evidence that one is better."
    return {
        "a": a.get("run_id"),
        "b": b.get("run_id"),
        "comparable": comparable,
        "why_not": why,
        "banner": banner,
        "verdict": quality["verdict"] if comparable else NOT_COMPARABLE,
        "scores": overall,
        "quality": quality,
        "suites": suites,
        "tasks": tasks,
        "changed": sum(1 for t in tasks if t["change"] != "same"),
    }


def compare_runs(runs: list[dict]) -> dict:
    """The first run is the baseline A; every other run is compared with it as B."""
    if len(runs) < 2:
        raise ValueError("compare needs at least two runs")
    return {
        "format": "benchloop-compare",
        "version": 1,
        "alpha": ALPHA,
        "runs": [_summary(r) for r in runs],
        "comparisons": [compare_pair(runs[0], r) for r in runs[1:]],
    }


# ------------------------------------------------------------------------ rendering
def _md(s) -> str:
    from benchloop.report import safe_text

    return safe_text(s, 80).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def to_markdown(result: dict) -> str:
    out = ["# BenchLoop compare", ""]
    for i, r in enumerate(result["runs"]):
        role = "A (baseline)" if i == 0 else f"B{i}"
        out.append(f"- **{role}** `{_md(r['run_id'])}` — {_md(r['model'])} via {_md(r['provider'])}, harness {_md(r['harness'])}, status {_md(r['status'])}, overall {num(r['overall'])}")
    for c in result["comparisons"]:
        out += ["", f"## {_md(c['a'])} → {_md(c['b'])}: {c['verdict']}", ""]
        if c["banner"]:
            out += [f"> **{_md(c['banner'])}**", ""]
        q = c["quality"]
        out.append(f"Quality {num(q['score_a'])} → {num(q['score_b'])} (shared tasks {signed(q['diff_shared'])}, p = {p_value(q['p'])}, {q['verdict']}); {c['changed']} task(s) changed.")
        out += ["", "| suite | n | A | B | diff | test | p | verdict |", "|---|---:|---:|---:|---:|---|---:|---|"]
        for s in c["suites"].values():
            out.append(f"| {_md(s['suite'])} | {s['n']} | {num(s.get('score_a'))} | {num(s.get('score_b'))} | {signed(s.get('diff'))} | {s.get('test') or MISSING} | {p_value(s.get('p'))} | {s['verdict']} |")
        changed = [t for t in c["tasks"] if t["change"] != "same"]
        if changed:
            out += ["", "| task | A | B | change |", "|---|---:|---:|---|"]
            for t in changed:
                out.append(f"| {_md(t['suite'])}/{_md(t['task_id'])} | {num(t['score_a'], digits=0)} | {num(t['score_b'], digits=0)} | {t['change']} |")
    return "\n".join(out) + "\n"


def to_csv(result: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["run_a", "run_b", "comparable", "level", "suite", "task_id", "a", "b", "diff", "test", "p", "verdict"])
    for c in result["comparisons"]:
        q = c["quality"]
        w.writerow([c["a"], c["b"], c["comparable"], "quality", "", "", q["score_a"], q["score_b"], q["diff_shared"], q["test"], q["p"], c["verdict"]])
        for s in c["suites"].values():
            w.writerow([c["a"], c["b"], c["comparable"], "suite", s["suite"], "", s.get("score_a"), s.get("score_b"), s.get("diff"), s.get("test") or "", s.get("p"), s["verdict"]])
        for t in c["tasks"]:
            w.writerow([c["a"], c["b"], c["comparable"], "task", t["suite"], t["task_id"], t["score_a"], t["score_b"], None if t["score_a"] is None or t["score_b"] is None else t["score_b"] - t["score_a"], "", "", t["change"]])
    return buf.getvalue()


def print_console(result: dict, console=None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    from benchloop.report import safe_text

    c = console or Console()
    esc = lambda s, n=60: escape(safe_text(s, n))  # noqa: E731
    for i, r in enumerate(result["runs"]):
        role = "A" if i == 0 else f"B{i}"
        c.print(f"[bold]{role}[/bold] {esc(r['run_id'], 80)}  {esc(r['model'])} · {esc(r['provider'])} · harness {esc(r['harness'])} · {esc(r['status'])} · overall {num(r['overall'])}")
    for cmp in result["comparisons"]:
        if cmp["banner"]:
            c.print(Panel(esc(cmp["banner"], 400), style="bold red", title="not comparable"))
        t = Table(title=f"{esc(cmp['a'], 80)} → {esc(cmp['b'], 80)}", box=None)
        for col in ("suite", "n", "A", "B", "diff", "test", "p", "verdict"):
            t.add_column(col)
        q = cmp["quality"]
        t.add_row("quality", str(q["n"]), num(q["score_a"]), num(q["score_b"]), signed(q["diff_shared"]), "sign-flip/suite", p_value(q["p"]), q["verdict"] if cmp["comparable"] else NOT_COMPARABLE)
        for s in cmp["suites"].values():
            t.add_row(esc(s["suite"], 20), str(s["n"]), num(s.get("score_a")), num(s.get("score_b")), signed(s.get("diff")), s.get("test") or MISSING, p_value(s.get("p")), s["verdict"])
        c.print(t)
        changed = [x for x in cmp["tasks"] if x["change"] != "same"]
        if changed:
            shown = ", ".join(f"{esc(x['suite'], 20)}/{esc(x['task_id'], 12)} {x['change']}" for x in changed[:20])
            c.print(f"changed tasks ({len(changed)}): {shown}{' …' if len(changed) > 20 else ''}")
        c.print(f"[bold]verdict: {cmp['verdict']}[/bold]")
