"""The commands that read or move stored runs: ``runs``, ``show``, ``score``, ``suites``,
``compare``, ``export``, ``import`` and ``publish``. Each is a thin shell: find the runs
(:func:`benchloop.options.runs_dir`, the one rule), call the library, print."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from benchloop.errors import BenchLoopError


def runs_root(args) -> str:
    """Where this command finds runs: ``--runs-dir``, else the shared rule."""
    from benchloop.options import runs_dir

    return runs_dir(given=getattr(args, "runs_dir", None))


def load(ref: str, args) -> dict:
    from benchloop.artifact import RunNotFound, load_run

    try:
        return load_run(ref, runs_root(args))
    except RunNotFound as exc:
        raise BenchLoopError(str(exc)) from None


def cmd_runs(args) -> int:
    from benchloop.artifact import list_runs

    rows = list_runs(runs_root(args))
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print(f"no runs in {runs_root(args)}")
        return 0
    from rich.console import Console

    console = Console(highlight=False)
    console.print(runs_table(rows, console.width))
    return 0


RUN_COLUMNS = (("status", 10), ("model", 16), ("harness", 7), ("overall", 7), ("quality", 7), ("speed", 5), ("reliab.", 7), ("suites", 16))


def runs_table(rows: list[dict], width: int):
    """The ``benchloop runs`` table. A run id is never cut (``no_wrap`` and its full
    length as the minimum width: it is what ``show`` and ``compare`` take); the other
    facts get a column each where the terminal is wide enough, else one wrapped column
    beside the id, so the table reads at 80 columns and when piped."""
    from rich.markup import escape
    from rich.table import Table

    from benchloop.fmt import num
    from benchloop.report import safe_text

    id_width = max(len("run id"), *(len(r["run_id"]) for r in rows))
    t = Table(box=None, pad_edge=False, header_style="bold")
    t.add_column("run id", no_wrap=True, min_width=id_width)
    wide = width >= id_width + sum(w + 2 for _, w in RUN_COLUMNS) + 2
    if wide:
        for name, _w in RUN_COLUMNS:
            t.add_column(name, justify="right" if name in ("overall", "quality", "speed", "reliab.") else "left", overflow="fold")
    else:
        t.add_column("status · model · harness · scores · suites", overflow="fold", ratio=1)
    for r in rows:
        model = escape(safe_text(r.get("model"), 120))
        status, harness = str(r.get("status")), escape(safe_text(r.get("harness") or "", 20))
        suites = ",".join(r.get("suites") or [])
        if wide:
            t.add_row(r["run_id"], status, model, harness, num(r.get("overall")), num(r.get("quality")), num(r.get("speed")), num(r.get("reliability")), suites)
        else:
            scores = f"overall {num(r.get('overall'))} (quality {num(r.get('quality'))}, speed {num(r.get('speed'))}, reliability {num(r.get('reliability'))})"
            t.add_row(r["run_id"], f"{status} · {model} · {harness} · {scores} · {suites}" if r.get("status") != "broken" else f"broken: {escape(safe_text(r.get('error'), 200))}")
    return t


def cmd_show(args) -> int:
    from benchloop import report

    run = load(args.run, args)
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print(report.to_json(run))
    elif fmt == "md":
        sys.stdout.write(report.to_markdown(run))
    elif fmt == "csv":
        sys.stdout.write(report.to_csv(run))
    else:
        from benchloop.artifact import resolve_run

        report.print_report(run, run_dir=str(resolve_run(args.run, runs_root(args))))
    return 0


def cmd_score(args) -> int:
    """Re-score offline and say whether the stored numbers are reproduced exactly."""
    from benchloop.scoring import SCORING_VERSION, score_run

    run = load(args.run, args)
    fresh = score_run(run)
    stored = run.get("scores")
    same = json.dumps(fresh, sort_keys=True) == json.dumps(stored, sort_keys=True)
    made_with = (stored or {}).get("scoring_version") or "scoring-1"  # the first format had no scoring version
    if same:
        verdict = "re-scored: identical to the stored scores"
    elif made_with != SCORING_VERSION:
        verdict = f"re-scored: this run was scored with {made_with}; this BenchLoop scores with {SCORING_VERSION}, so the numbers above differ by design (see docs/artifact.md)"
    else:
        verdict = "re-scored: DIFFERS from the stored scores under the same scoring version (the artifact was edited)"
    if args.json:
        print(json.dumps({"scores": fresh, "matches_stored": same, "scoring_version": {"stored": made_with, "current": SCORING_VERSION}}, indent=1, sort_keys=True))
    else:
        from benchloop.report import print_report

        print_report(dict(run, scores=fresh))
        print(verdict)
    return 0 if same else 1


def cmd_suites(args) -> int:
    from benchloop.catalog import PROFILES
    from benchloop.harnesses import available
    from benchloop.tasks import suite_overview

    rows = [{k: v for k, v in r.items() if k != "task_ids"} | ({"tasks": len(r["task_ids"])} if "task_ids" in r else {}) for r in suite_overview()]
    harnesses = available()
    if args.json:
        print(json.dumps({"suites": rows, "harnesses": harnesses, "profiles": list(PROFILES)}, indent=1))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(box=None)
    for col in ("suite", "tasks", *PROFILES, "checker", "max_tokens"):
        t.add_column(col)
    for r in rows:
        if "error" in r:
            t.add_row(escape(r["suite"]), "[red]broken[/red]", escape(r["error"][:60]), *[""] * (len(PROFILES) + 1))
        else:
            t.add_row(r["suite"], str(r["tasks"]), *[str(r[p]) for p in PROFILES], r["checker"], str(r["max_tokens"] or ""))
    c = Console()
    c.print(t)
    c.print(f"harnesses: {', '.join(harnesses)}   profiles: {', '.join(PROFILES)}")
    return 0


def cmd_compare(args) -> int:
    from benchloop import compare

    if len(args.runs) < 2:
        raise BenchLoopError("compare needs two runs or more: benchloop compare RUN_A RUN_B")
    result = compare.compare_runs([load(ref, args) for ref in args.runs])
    fmt = getattr(args, "format", "console")
    if fmt == "json":
        print(json.dumps(result, indent=1, sort_keys=True))
    elif fmt == "md":
        print(compare.to_markdown(result), end="")
    elif fmt == "csv":
        print(compare.to_csv(result), end="")
    else:
        compare.print_console(result)
    return 0


def cmd_export(args) -> int:
    from benchloop.exchange import default_export_name, select_runs, write_export

    root = Path(runs_root(args))
    dirs = select_runs(root, args.runs, every=args.all)
    if not dirs:
        raise BenchLoopError(f"no runs to export in {root}")
    target = args.output or default_export_name()
    n = write_export(dirs, target)
    if target != "-":
        print(f"exported {n} run(s) to {target}")
    return 0


def cmd_import(args) -> int:
    from benchloop.exchange import import_file
    from benchloop.report import safe_text

    root = Path(runs_root(args))
    results = import_file(args.file, root)  # ExportError: one line, exit 2
    bad = 0
    for status, msg in results:
        if status in ("conflict", "invalid"):
            bad += 1
            sys.stderr.write(f"benchloop: refused {safe_text(msg, 300)}\n")
        else:
            print(safe_text(msg, 300))
    print(f"{sum(1 for s, _ in results if s == 'imported')} imported, {sum(1 for s, _ in results if s == 'identical')} already present, {bad} refused into {root}")
    return 1 if bad else 0


def cmd_publish(args) -> int:
    import os

    import requests

    from benchloop.publish import publish
    from benchloop.report import safe_text

    run = load(args.run, args)
    if run.get("status") != "complete":
        raise BenchLoopError(f"run {run.get('run_id')} is {run.get('status')}; finish it first (benchloop run --resume {run.get('run_id')})")
    token = args.token or os.environ.get("BENCHLOOP_PUBLISH_TOKEN") or None
    try:
        status, body = publish(run, args.to, token)
    except ValueError as exc:
        raise BenchLoopError(str(exc)) from None
    except requests.exceptions.RequestException as exc:
        raise BenchLoopError(f"cannot reach {safe_text(args.to, 200)} ({type(exc).__name__}); is the leaderboard server running?") from None
    reason = safe_text(body.get("reason") or "", 500)
    if status == 201 and body.get("accepted"):
        print(f"published {run.get('run_id')} as {safe_text(body.get('id'), 40)}: {reason}")
        return 0
    if status == 409:
        print(f"already published: {reason}")
        return 1
    raise BenchLoopError(f"the server refused the run (HTTP {status}): {reason or 'no reason given'}")
