"""``benchloop compare RUN_A RUN_B …``: is the gap between two runs real?

Two runs of one benchmark are paired data (the same tasks), so the tests are paired:
McNemar on pass/fail (exact binomial while the discordant count is small) and, on
scores, a paired sign-flip test (exact up to 16 tasks) with a bootstrap interval for
the difference, stratified by suite for the quality score. Each comparison gets a
p-value and a plain verdict, "significant at 95%" or "not significant"; a handful of
tasks can never be significant, however far apart they moved.

Comparability is decided per suite, not per run: a suite's scores stand side by side
when its task file, its checker version and the scoring version match in both runs'
manifests. Harness, model, hardware, endpoint and settings are what a comparison is
for: they are shown as context and never a reason to refuse (raw vs hermes on one
model is the point). Tasks pair on their ids, so runs that selected different tasks
are compared on the tasks both have. Local and remote runs are scored with different
formulas, so their overall and speed numbers are never set against each other.

A task that ended in an error (provider, harness, timeout) is not a wrong answer: the
task table says which it was, and a run with errors never reads as "no task differs".

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
LOCALITY_NOTE = "local and remote runs are scored with different formulas and are never ranked together"
# what a comparison is about: shown when it differs, never a reason to refuse
CONTEXT = ("model", "provider", "harness", "hardware", "endpoint", "temperature", "max_tokens", "locality")


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
        "hardware": (run.get("machine") or {}).get("hardware"),
        "endpoint": run.get("endpoint"),
        "status": run.get("status"),
        "temperature": (run.get("sampling") or {}).get("temperature"),
        "max_tokens": (run.get("sampling") or {}).get("max_tokens"),
        "locality": locality(run),
        "manifest_hash": run.get("manifest_hash"),
        "formula": sc.get("formula"),
        "overall": sc.get("overall"),
        "quality": sc.get("quality"),
        "speed": sc.get("speed"),
        "reliability": sc.get("reliability"),
        "errors": sum(1 for t in run.get("tasks") or [] if isinstance(t, dict) and t.get("error")),
    }


def locality(run: dict) -> str:
    """``remote`` or ``local``: which family of formulas scored the run."""
    if run.get("remote") is not None:
        return "remote" if run.get("remote") else "local"
    return "remote" if (run.get("scores") or {}).get("formula") == "remote" else "local"


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


def outcome(t: dict | None) -> str | None:
    """``pass``, ``wrong`` (the model answered, the checker said no) or ``error`` (no
    answer to judge: provider, harness, timeout, not run); None when absent."""
    if t is None:
        return None
    if t.get("error"):
        return "error"
    return "pass" if t.get("passed") else "wrong"


def _change(a: dict | None, b: dict | None) -> str:
    if a is None:
        return "only in B"
    if b is None:
        return "only in A"
    ea, eb = bool(a.get("error")), bool(b.get("error"))
    if ea or eb:  # an error is never "the same", even when both score 0
        return "error in both" if ea and eb else "error in A" if ea else "error in B"
    pa, pb = bool(a.get("passed")), bool(b.get("passed"))
    if pa != pb:
        return "fixed" if pb else "broke"
    sa, sb = _score(a), _score(b)
    if sb > sa:
        return "better"
    if sb < sa:
        return "worse"
    return "same"


def _manifest(run: dict) -> dict | None:
    m = run.get("manifest")
    return m if isinstance(m, dict) and isinstance(m.get("suites"), dict) else None


def suite_comparability(a: dict, b: dict, suite: str) -> tuple[bool, str | None]:
    """(comparable, why not) for one suite both runs ran: its task file, its checker
    version and the scoring version must match; for speed also the speed formula and
    the locality. Nothing else (harness, model, settings) is a reason to refuse."""
    ma, mb = _manifest(a), _manifest(b)
    for run, m in ((a, ma), (b, mb)):
        if m is None:
            return False, f"run {run.get('run_id')} has no manifest (it never finished; resume it first)"
    sa, sb = ma["suites"].get(suite) or {}, mb["suites"].get(suite) or {}
    if sa.get("task_file_sha256") != sb.get("task_file_sha256"):
        return False, f"tasks/{suite}.yaml differs between the runs (another task file version)"
    if sa.get("checker") != sb.get("checker"):
        return False, f"checker {sa.get('checker')} (A) vs {sb.get('checker')} (B)"
    if ma.get("scoring") != mb.get("scoring"):
        return False, f"scored with {ma.get('scoring') or 'scoring-1'} (A) vs {mb.get('scoring') or 'scoring-1'} (B); re-score with benchloop score"
    if suite == "speed":
        if ma.get("speed_formula") != mb.get("speed_formula"):
            return False, f"speed formula {ma.get('speed_formula')} (A) vs {mb.get('speed_formula')} (B)"
        if locality(a) != locality(b):
            return False, f"A is {locality(a)}, B is {locality(b)}: {LOCALITY_NOTE}"
    return True, None


def comparability(a: dict, b: dict) -> tuple[bool, str | None]:
    """(any shared suite comparable, why the others are not): the pair-level summary of
    :func:`suite_comparability`."""
    ta, tb = _by_key(a), _by_key(b)
    shared = sorted({s for s, _ in ta} & {s for s, _ in tb})
    if not shared:
        return False, "the runs share no suite"
    verdicts = {s: suite_comparability(a, b, s) for s in shared}
    why = "; ".join(f"{s}: {w}" for s, (ok, w) in verdicts.items() if not ok) or None
    return any(ok for ok, _ in verdicts.values()), why


def context(a: dict, b: dict) -> list[dict]:
    """What differs between the runs besides the tasks: what is being compared."""
    sa, sb = _summary(a), _summary(b)
    out = [{"field": k, "a": sa.get(k), "b": sb.get(k)} for k in CONTEXT if sa.get(k) != sb.get(k)]
    ma, mb = (_manifest(a) or {}).get("suites") or {}, (_manifest(b) or {}).get("suites") or {}
    for s in sorted(set(ma) & set(mb)):
        if (ma[s] or {}).get("max_tokens") != (mb[s] or {}).get("max_tokens") and not any(c["field"] == "max_tokens" for c in out):
            out.append({"field": f"{s} max_tokens", "a": (ma[s] or {}).get("max_tokens"), "b": (mb[s] or {}).get("max_tokens")})
    return out


def _suite_row(a, b, suite, ta, tb, keys) -> tuple[dict, list | None]:
    from benchloop.stats import mcnemar, paired_bootstrap

    ok, why = suite_comparability(a, b, suite)
    shared = [k for k in keys if k[0] == suite and k in ta and k in tb]
    row = {
        "suite": suite,
        "n": len(shared),
        "comparable": ok,
        "why_not": why,
        "only_in_a": [k[1] for k in keys if k[0] == suite and k in ta and k not in tb],
        "only_in_b": [k[1] for k in keys if k[0] == suite and k in tb and k not in ta],
        "errors_a": sum(1 for k in shared if ta[k].get("error")),
        "errors_b": sum(1 for k in shared if tb[k].get("error")),
    }
    if suite == "speed":
        sa, sb = ((a.get("scores") or {}).get("speed"), (b.get("scores") or {}).get("speed"))
        diff = None if sa is None or sb is None or not ok else round(sb - sa, 2)
        row.update(score_a=sa, score_b=sb, diff=diff, test=None, p=None, verdict=f"{NOT_COMPARABLE}: {why}" if not ok else "no test (speed is measured, not pass/fail; see the speed block)")
        return row, None
    pairs = [(_score(ta[k]), _score(tb[k])) for k in shared]
    n = len(pairs)
    mc = mcnemar(sum(1 for k in shared if ta[k].get("passed") and not tb[k].get("passed")), sum(1 for k in shared if tb[k].get("passed") and not ta[k].get("passed")))
    boot = paired_bootstrap([pairs])
    primary = mc if all(x in (0.0, 100.0) for p in pairs for x in p) else boot
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
    row["verdict"] = verdict(row["p"]) if ok else f"{NOT_COMPARABLE}: {why}"
    return row, (pairs if ok and n else None)


def compare_pair(a: dict, b: dict) -> dict:
    from benchloop.stats import paired_bootstrap

    ta, tb = _by_key(a), _by_key(b)
    keys = sorted(set(ta) | set(tb))
    shared_suites = sorted({s for s, _ in ta} & {s for s, _ in tb})
    suites, strata = {}, []
    for suite in sorted({s for s, _ in keys}):
        if suite not in shared_suites:
            continue  # a suite one run did not run: listed under only_in, never tested
        row, pairs = _suite_row(a, b, suite, ta, tb, keys)
        suites[suite] = row
        if pairs:
            strata.append(pairs)
    comparable = any(r["comparable"] for r in suites.values())
    why = "; ".join(f"{s}: {r['why_not']}" for s, r in suites.items() if not r["comparable"]) or (None if suites else "the runs share no suite")
    q = paired_bootstrap(strata) if strata else {"test": "paired-sign-flip", "diff": None, "ci95": None, "p": None, "n": 0}
    quality = {
        "score_a": (a.get("scores") or {}).get("quality"),
        "score_b": (b.get("scores") or {}).get("quality"),
        "diff_shared": q["diff"],
        "ci95": q["ci95"],
        "test": "paired-sign-flip (stratified by comparable suite; bootstrap CI)",
        "p": q["p"],
        "n": q["n"],
        "suites": sorted(s for s, r in suites.items() if r["comparable"] and s != "speed"),
        "verdict": verdict(q["p"]) if strata else NOT_COMPARABLE if not comparable else "no test (no comparable quality suite shared)",
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
                "outcome_a": outcome(x),
                "outcome_b": outcome(y),
                "error_a": None if x is None else x.get("error"),
                "error_b": None if y is None else y.get("error"),
                "change": _change(x, y),
            }
        )
    same_locality = locality(a) == locality(b)
    overall = {}
    for name in ("overall", "quality", "speed", "reliability"):
        va, vb = (a.get("scores") or {}).get(name), (b.get("scores") or {}).get(name)
        ranked = name in ("quality", "reliability") or (same_locality and (name != "overall" or (a.get("scores") or {}).get("formula") == (b.get("scores") or {}).get("formula")))
        overall[name] = {"a": va, "b": vb, "diff": None if va is None or vb is None or not ranked else round(vb - va, 2)}
        if not ranked:
            overall[name]["why_not"] = LOCALITY_NOTE if not same_locality else "the runs' overall scores use different formulas (one ran the speed suite)"
    notes = []
    if not same_locality:
        notes.append(f"A is {locality(a)}, B is {locality(b)}: {LOCALITY_NOTE}; overall and speed are not compared")
    for role, run in (("A", a), ("B", b)):
        if run.get("status") != "complete":
            notes.append(f"{role} ({run.get('run_id')}) is {run.get('status') or 'unfinished'}: compared on the tasks both runs finished")
    errs = {"a": sum(1 for t in tasks if t["outcome_a"] == "error"), "b": sum(1 for t in tasks if t["outcome_b"] == "error")}
    for role, n in (("A", errs["a"]), ("B", errs["b"])):
        if n:
            notes.append(f"{n} task(s) in {role} ended in an error, not an answer: they score 0 and are not wrong answers")
    banner = None
    if why and suites:
        banner = f"NOT COMPARABLE: {why}." + (" The other suites are compared." if comparable else " Shown on their shared tasks for information only; the differences are not evidence that one is better.")
    return {
        "a": a.get("run_id"),
        "b": b.get("run_id"),
        "comparable": comparable,
        "why_not": why,
        "banner": banner,
        "verdict": quality["verdict"],
        "context": context(a, b),
        "notes": notes,
        "errors": errs,
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
        "version": 2,
        "alpha": ALPHA,
        "runs": [_summary(r) for r in runs],
        "comparisons": [compare_pair(runs[0], r) for r in runs[1:]],
    }


# ------------------------------------------------------------------------ rendering
TEST_LABEL = {"mcnemar-exact": "McNemar", "mcnemar-chi2": "McNemar χ²", "paired-sign-flip": "sign-flip"}
CELL = {"pass": "pass", "wrong": "wrong", "error": "ERROR", None: MISSING}


def _md(s) -> str:
    from benchloop.report import safe_text

    return safe_text(s, 80).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _ctx_line(c: dict) -> str:
    return "; ".join(f"{x['field']} {x['a']} → {x['b']}" for x in c.get("context") or []) or "nothing but the runs themselves"


def _short_verdict(v: str) -> str:
    return {SIGNIFICANT: "significant", NOT_SIGNIFICANT: "not significant"}.get(v, "not comparable" if v.startswith(NOT_COMPARABLE) else "no test" if v.startswith("no test") else v)


def to_markdown(result: dict) -> str:
    out = ["# BenchLoop compare", ""]
    for i, r in enumerate(result["runs"]):
        role = "A (baseline)" if i == 0 else f"B{i}"
        out.append(f"- **{role}** `{_md(r['run_id'])}` — {_md(r['model'])} via {_md(r['provider'])}, harness {_md(r['harness'])}, {_md(r.get('locality'))}, status {_md(r['status'])}, overall {num(r['overall'])}")
    for c in result["comparisons"]:
        out += ["", f"## {_md(c['a'])} → {_md(c['b'])}: {c['verdict']}", "", f"Compared: {_md(_ctx_line(c))}.", ""]
        if c["banner"]:
            out += [f"> **{_md(c['banner'])}**", ""]
        out += [f"- {_md(n)}" for n in c.get("notes") or []]
        q = c["quality"]
        out.append(f"Quality {num(q['score_a'])} → {num(q['score_b'])} (shared tasks of comparable suites {signed(q['diff_shared'])}, p = {p_value(q['p'])}, {q['verdict']}); {c['changed']} task(s) changed.")
        out += ["", "| suite | n | A | B | diff | errors A/B | test | p | verdict |", "|---|---:|---:|---:|---:|---:|---|---:|---|"]
        for s in c["suites"].values():
            out.append(f"| {_md(s['suite'])} | {s['n']} | {num(s.get('score_a'))} | {num(s.get('score_b'))} | {signed(s.get('diff'))} | {s.get('errors_a', 0)}/{s.get('errors_b', 0)} | {s.get('test') or MISSING} | {p_value(s.get('p'))} | {_md(s['verdict'])} |")
        changed = [t for t in c["tasks"] if t["change"] != "same"]
        if changed:
            out += ["", "| task | A | B | change |", "|---|---|---|---|"]
            for t in changed:
                out.append(f"| {_md(t['suite'])}/{_md(t['task_id'])} | {CELL[t.get('outcome_a')]} {num(t['score_a'], digits=0)} | {CELL[t.get('outcome_b')]} {num(t['score_b'], digits=0)} | {t['change']} |")
        else:
            out += ["", "No task differs between the runs."]
    return "\n".join(out) + "\n"


def to_csv(result: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["run_a", "run_b", "comparable", "level", "suite", "task_id", "a", "b", "diff", "test", "p", "verdict"])
    for c in result["comparisons"]:
        q = c["quality"]
        w.writerow([c["a"], c["b"], c["comparable"], "quality", "", "", q["score_a"], q["score_b"], q["diff_shared"], q["test"], q["p"], c["verdict"]])
        for s in c["suites"].values():
            w.writerow([c["a"], c["b"], s.get("comparable"), "suite", s["suite"], "", s.get("score_a"), s.get("score_b"), s.get("diff"), s.get("test") or "", s.get("p"), s["verdict"]])
        for t in c["tasks"]:
            w.writerow([c["a"], c["b"], c["comparable"], "task", t["suite"], t["task_id"], t["score_a"], t["score_b"], None if t["score_a"] is None or t["score_b"] is None else t["score_b"] - t["score_a"], "", "", f"{t['change']} ({t.get('outcome_a') or 'absent'} → {t.get('outcome_b') or 'absent'})"])
    return buf.getvalue()


def print_console(result: dict, console=None) -> None:
    """The comparison for a terminal: every table fits 80 columns (short test and
    verdict labels, run ids never cut), errors told apart from wrong answers."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from benchloop.report import safe_text

    c = console or Console()
    esc = lambda s, n=60: escape(safe_text(s, n))  # noqa: E731
    line = lambda text, **kw: c.print(text, soft_wrap=False, overflow="fold", highlight=False, **kw)  # noqa: E731
    for i, r in enumerate(result["runs"]):
        role = "A" if i == 0 else f"B{i}"
        line(f"[bold]{role}[/bold] {esc(r['run_id'], 120)}")
        line(f"   overall {num(r['overall'])} · {esc(r['status'])} · {esc(r['model'])} · {esc(r['harness'])} harness · {esc(r['provider'])} ({esc(r.get('locality'))})")
    for cmp in result["comparisons"]:
        c.print()
        line(f"[bold]{esc(cmp['a'], 120)} → {esc(cmp['b'], 120)}[/bold]")
        line(f"compared: {esc(_ctx_line(cmp), 400)}")
        if cmp["banner"]:
            line(f"[bold red]{esc(cmp['banner'], 600)}[/bold red]")
        for n in cmp.get("notes") or []:
            line(f"[yellow]note:[/yellow] {esc(n, 300)}")
        t = Table(box=None, pad_edge=False, header_style="bold")
        t.add_column("suite", no_wrap=True)
        for col in ("n", "A", "B", "diff"):
            t.add_column(col, justify="right", no_wrap=True)
        t.add_column("test", no_wrap=True)
        t.add_column("p", justify="right", no_wrap=True)
        t.add_column("95%", no_wrap=True)
        q = cmp["quality"]
        t.add_row("quality", str(q["n"]), num(q["score_a"]), num(q["score_b"]), signed(q["diff_shared"]), "sign-flip", p_value(q["p"]), _short_verdict(q["verdict"]))
        for s in cmp["suites"].values():
            t.add_row(esc(s["suite"], 20), str(s["n"]), num(s.get("score_a")), num(s.get("score_b")), signed(s.get("diff")), TEST_LABEL.get(s.get("test"), s.get("test") or MISSING), p_value(s.get("p")), _short_verdict(s["verdict"]))
        c.print(t)
        changed = [x for x in cmp["tasks"] if x["change"] != "same"]
        if changed:
            tt = Table(box=None, pad_edge=False, header_style="bold", title=f"tasks that differ ({len(changed)})", title_justify="left")
            tt.add_column("task", no_wrap=True)
            tt.add_column("A", no_wrap=True)
            tt.add_column("B", no_wrap=True)
            tt.add_column("change", overflow="fold")
            for x in changed[:30]:
                err = x.get("error_b") or x.get("error_a")
                note = f"{x['change']}: {esc(err, 60)}" if err else x["change"]
                tt.add_row(f"{esc(x['suite'], 20)}/{esc(x['task_id'], 12)}", f"{CELL[x.get('outcome_a')]} {num(x['score_a'], digits=0)}", f"{CELL[x.get('outcome_b')]} {num(x['score_b'], digits=0)}", note)
            c.print(tt)
            if len(changed) > 30:
                line(f"… and {len(changed) - 30} more (--format md or json lists every task)")
        else:
            line("no task differs between the runs")
        line(f"[bold]verdict: {esc(cmp['verdict'], 200)}[/bold]")
