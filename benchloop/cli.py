"""The ``benchloop`` command. ``run`` wraps pytest (so CI users and CLI users run the
same code path); the other commands read the run store.

Import discipline: ``benchloop --version`` must stay under 0.2 s, so every command
imports what it needs inside its handler.
"""
from __future__ import annotations

import contextlib
import os
import sys

QUALITY_SUITES = ["reasonmath", "toolcall", "coding", "dataextract", "instructfollow", "agent"]
ALL_SUITES = ["speed", *QUALITY_SUITES]


class CliError(Exception):
    """One line for the user, naming the fix; exit status 2."""


def _err(msg: str) -> int:
    sys.stderr.write(f"benchloop: {msg}\n")
    return 2


def build_parser():
    import argparse

    from benchloop import __version__

    p = argparse.ArgumentParser(prog="benchloop", description="Local-first LLM benchmark with receipts.")
    p.add_argument("--version", action="version", version=f"benchloop {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("run", help="benchmark a model (wraps pytest)")
    r.add_argument("--model", "-m", help="model name (or a .gguf path with --provider llamacpp)")
    r.add_argument("--endpoint", help="server URL (default http://localhost:11434)")
    r.add_argument("--provider", choices=["ollama", "openai_compat", "llamacpp"], help="wire format (default ollama)")
    r.add_argument("--suites", help=f"comma list of suites (default: all of {','.join(ALL_SUITES)})")
    r.add_argument("--profile", choices=["quick", "core", "full"], help="task subset (default full)")
    r.add_argument("--harness", help="raw, hermes, qwen or pi (default raw)")
    r.add_argument("--api-key", help="bearer key (else OPENAI_API_KEY); never written to disk")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--remote", dest="remote", action="store_const", const=True, default=None, help="score as a remote endpoint")
    g.add_argument("--local", dest="remote", action="store_const", const=False, help="score as a local endpoint")
    r.add_argument("--hardware", help="describe the hardware yourself")
    r.add_argument("--gpu", help="GPU name override")
    r.add_argument("--gpu-memory-gb", type=float, help="GPU memory override")
    r.add_argument("--runs-dir", help="where runs are stored (default $BENCHLOOP_HOME/runs)")
    r.add_argument("-n", "--parallel", type=int, default=0, help="parallel workers (pytest-xdist); the embedded engine gets as many slots")
    r.add_argument("--timeout", type=float, help="seconds a reply may make no progress (default 120)")
    r.add_argument("--task", action="append", help="run only this task id (repeatable)")
    r.add_argument("--max-tokens", type=int, help="override every suite's output token budget")
    r.add_argument("--temperature", type=float)
    r.add_argument("--seed", type=int)
    r.add_argument("--trials", type=int, help="speed: repetitions per scenario (default 5)")
    r.add_argument("--concurrency", help="speed: concurrency sweep, e.g. 1,2,4,8")
    r.add_argument("--model-bytes", type=float, help="speed: bytes read per token when the model file is unknown")
    r.add_argument("--junitxml", help="also write JUnit XML here")
    r.add_argument("--run-id", help="use this run id")
    r.add_argument("--resume", metavar="RUN", help="continue an interrupted run")
    r.add_argument("--retries", type=int, default=None, help="retries for transient provider errors (default 2)")
    r.add_argument("--deadline", type=float, help="whole-run deadline in seconds")
    r.add_argument("--task-deadline", type=float, help="wall-clock seconds one task may take (default 10x --timeout)")
    r.add_argument("--threads", type=int, help="embedded engine: CPU threads for llama.cpp (default: every core)")
    r.add_argument("--json", action="store_true", help="print run.json instead of the report")

    ls = sub.add_parser("runs", help="list stored runs")
    ls.add_argument("--runs-dir")
    ls.add_argument("--json", action="store_true")

    sh = sub.add_parser("show", help="print one run")
    sh.add_argument("run")
    sh.add_argument("--runs-dir")
    sh.add_argument("--json", action="store_true", help="print run.json")
    sh.add_argument("--format", choices=["console", "md", "csv", "json"], default="console")

    sc = sub.add_parser("score", help="re-score a stored run offline")
    sc.add_argument("run")
    sc.add_argument("--runs-dir")
    sc.add_argument("--json", action="store_true")

    su = sub.add_parser("suites", help="list suites, task counts, profiles and harnesses")
    su.add_argument("--json", action="store_true")

    d = sub.add_parser("dashboard", help="serve the web dashboard")
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=int, default=8877)
    d.add_argument("--runs-dir")
    d.add_argument("--accept-submissions", action="store_true", help="act as a self-hosted leaderboard server")
    d.add_argument("--token", help="submission token (with --accept-submissions)")
    d.add_argument("--service-template", choices=["launchd", "systemd", "windows-task"], help="print a service definition and exit")
    d.add_argument("--endpoint", action="append", dest="endpoints", help="extra model endpoint to discover (repeatable)")

    c = sub.add_parser("compare", help="compare runs with paired significance tests")
    c.add_argument("runs", nargs="+")
    c.add_argument("--runs-dir")
    c.add_argument("--format", choices=["console", "md", "json", "csv"], default="console")

    e = sub.add_parser("export", help="export runs with full receipts")
    e.add_argument("runs", nargs="*")
    e.add_argument("--all", action="store_true")
    e.add_argument("--output", "-o")
    e.add_argument("--runs-dir")

    i = sub.add_parser("import", help="import an export file")
    i.add_argument("file")
    i.add_argument("--runs-dir")

    pb = sub.add_parser("publish", help="send a run to a leaderboard server (opt-in)")
    pb.add_argument("run")
    pb.add_argument("--to", required=True, help="leaderboard URL")
    pb.add_argument("--token")
    pb.add_argument("--runs-dir")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["--version"], ["-V"]):
        from benchloop import __version__

        print(f"benchloop {__version__}")
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    handler = {
        "run": cmd_run,
        "runs": cmd_runs,
        "show": cmd_show,
        "score": cmd_score,
        "suites": cmd_suites,
        "dashboard": _delegate("benchloop.dashboard.app", "main"),
        "compare": _delegate("benchloop.compare", "main"),
        "export": _delegate("benchloop.exchange", "export_main"),
        "import": _delegate("benchloop.exchange", "import_main"),
        "publish": _delegate("benchloop.publish", "main"),
    }[args.command]
    try:
        return int(handler(args) or 0)
    except CliError as exc:
        return _err(str(exc))
    except KeyboardInterrupt:
        return 130


def _delegate(module: str, func: str):
    def run(args):
        import importlib

        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                raise CliError(f"'{args.command}' is not available in this build") from None
            raise
        return getattr(mod, func)(args)

    return run


def _runs_dir(args) -> str:
    from benchloop.options import runs_dir

    return runs_dir(given=getattr(args, "runs_dir", None))


def _load(args):
    from benchloop.artifact import RunNotFound, load_run

    try:
        return load_run(args.run, _runs_dir(args))
    except RunNotFound as exc:
        raise CliError(str(exc)) from None


def cmd_runs(args) -> int:
    from benchloop.artifact import list_runs

    rows = list_runs(_runs_dir(args))
    if args.json:
        import json

        print(json.dumps(rows, indent=1))
        return 0
    from rich.console import Console
    from rich.table import Table

    from benchloop.report import safe_text

    if not rows:
        print(f"no runs in {_runs_dir(args)}")
        return 0
    t = Table(box=None)
    for col in ("run id", "status", "model", "harness", "overall", "quality", "speed", "reliability", "suites"):
        t.add_column(col)
    f = lambda v: "—" if v is None else f"{v:.1f}"  # noqa: E731
    for r in rows:
        t.add_row(r["run_id"], str(r.get("status")), safe_text(r.get("model"), 40), str(r.get("harness") or ""), f(r.get("overall")), f(r.get("quality")), f(r.get("speed")), f(r.get("reliability")), ",".join(r.get("suites") or []))
    Console(width=None if sys.stdout.isatty() else 220).print(t)  # piped output keeps whole ids
    return 0


def cmd_show(args) -> int:
    from benchloop import report

    run = _load(args)
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print(report.to_json(run))
    elif fmt == "md":
        sys.stdout.write(report.to_markdown(run))
    elif fmt == "csv":
        sys.stdout.write(report.to_csv(run))
    else:
        from benchloop.artifact import resolve_run

        report.print_report(run, run_dir=str(resolve_run(args.run, _runs_dir(args))))
    return 0


def cmd_score(args) -> int:
    """Re-score offline and say whether the stored numbers are reproduced exactly."""
    import json

    from benchloop.scoring import score_run

    run = _load(args)
    fresh = score_run(run)
    stored = run.get("scores")
    same = json.dumps(fresh, sort_keys=True) == json.dumps(stored, sort_keys=True)
    if args.json:
        print(json.dumps({"scores": fresh, "matches_stored": same}, indent=1, sort_keys=True))
    else:
        from benchloop.report import print_report

        print_report(dict(run, scores=fresh))
        print("re-scored: identical to the stored scores" if same else "re-scored: DIFFERS from the stored scores (checker or scoring changed, or the artifact was edited)")
    return 0 if same else 1


def cmd_suites(args) -> int:
    from benchloop.harnesses import available
    from benchloop.tasks import suite_overview

    rows = [{k: v for k, v in r.items() if k != "task_ids"} | ({"tasks": len(r["task_ids"])} if "task_ids" in r else {}) for r in suite_overview()]
    harnesses = available()
    if args.json:
        import json

        print(json.dumps({"suites": rows, "harnesses": harnesses, "profiles": ["quick", "core", "full"]}, indent=1))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(box=None)
    for col in ("suite", "tasks", "quick", "core", "full", "checker", "max_tokens"):
        t.add_column(col)
    for r in rows:
        if "error" in r:
            t.add_row(escape(r["suite"]), "[red]broken[/red]", escape(r["error"][:60]), "", "", "", "")
        else:
            t.add_row(r["suite"], str(r["tasks"]), str(r["quick"]), str(r["core"]), str(r["full"]), r["checker"], str(r["max_tokens"] or ""))
    c = Console()
    c.print(t)
    c.print(f"harnesses: {', '.join(harnesses)}   profiles: quick, core, full")
    return 0


# --------------------------------------------------------------------------- run
def pytest_args_for(args, run_id: str, suites: list[str]) -> list[str]:
    """Translate ``benchloop run`` flags into a pytest command line (no secrets in it)."""
    from benchloop.paths import suites_dir

    sdir = suites_dir()
    paths = []
    for s in suites:
        f = sdir / f"test_{s}.py"
        if not f.exists():
            raise CliError(f"unknown suite {s!r}; available: {', '.join(available_suite_names())}")
        paths.append(str(f))
    pa = [*paths, "-c", os.devnull, "--rootdir", str(sdir), "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:randomly", "-p", "no:benchmark"]
    opt = {
        "model": args.model,
        "endpoint": args.endpoint,
        "provider": args.provider,
        "harness": args.harness,
        "profile": args.profile,
        "runs-dir": args.runs_dir,
        "hardware": args.hardware,
        "gpu": args.gpu,
        "gpu-memory-gb": args.gpu_memory_gb,
        "timeout": args.timeout,
        "max-tokens": args.max_tokens,
        "temperature": args.temperature,
        "seed": args.seed,
        "trials": args.trials,
        "concurrency": args.concurrency,
        "model-bytes": args.model_bytes,
        "retries": args.retries,
        "deadline": args.deadline,
        "task-deadline": getattr(args, "task_deadline", None),
        "threads": getattr(args, "threads", None),
        "run-id": run_id,
    }
    for k, v in opt.items():
        if v is not None:
            pa.append(f"--benchloop-{k}={v}")
    for t in args.task or []:
        pa.append(f"--benchloop-task={t}")
    if args.remote is True:
        pa.append("--benchloop-remote")
    elif args.remote is False:
        pa.append("--benchloop-local")
    if args.parallel and args.parallel > 0:
        pa += ["-n", str(args.parallel)]
    if args.junitxml:
        pa.append(f"--junitxml={args.junitxml}")
    # pytest-timeout is only a backstop behind the provider's own deadlines (a dependency,
    # but a broken environment may lack it: then the deadlines alone bound a task).
    import importlib.util

    if importlib.util.find_spec("pytest_timeout") is not None:
        per_task = (args.timeout or 120.0) * 12 + 60
        pa += [f"--timeout={per_task:.0f}", "-o", "timeout_method=signal", "-o", "timeout_func_only=true"]
    return pa


def available_suite_names() -> list[str]:
    from benchloop.paths import suites_dir

    return sorted(p.stem[len("test_"):] for p in suites_dir().glob("test_*.py"))


def cmd_run(args) -> int:
    from benchloop.artifact import new_run_id
    from benchloop.options import OptionError, resolve

    if args.resume:
        from benchloop.resume import prepare_resume  # receipts issue: resume support

        return prepare_resume(args)
    if not args.model and not os.environ.get("BENCHLOOP_MODEL"):
        raise CliError("--model is required, e.g. benchloop run --provider llamacpp --model smollm2-135m")
    if args.api_key:
        os.environ["BENCHLOOP_API_KEY"] = args.api_key  # workers inherit it; it never goes on a command line
    cli = {k: getattr(args, k.replace("-", "_"), None) for k in ("model", "endpoint", "provider", "harness", "profile", "runs-dir", "timeout", "max-tokens", "trials", "threads")}
    try:
        settings = resolve(cli)
    except OptionError as exc:
        raise CliError(str(exc)) from None
    if args.parallel and args.parallel < 0:
        raise CliError("-n/--parallel must be 0 or more")
    if args.parallel and args.parallel > 0:
        import importlib.util

        if importlib.util.find_spec("xdist") is None:
            raise CliError("-n needs pytest-xdist; run: pip install pytest-xdist")
    suites = [s.strip() for s in (args.suites or "").split(",") if s.strip()] or [s for s in ALL_SUITES if s in available_suite_names()]
    bad = [s for s in suites if s not in available_suite_names()]
    if bad:
        raise CliError(f"unknown suite {bad[0]!r}; available: {', '.join(available_suite_names())}")
    from benchloop.tasks import TaskFileError, load_suite

    for s in suites:
        try:
            load_suite(s)
        except TaskFileError as exc:
            raise CliError(str(exc)) from None
    run_id = args.run_id or new_run_id(settings.model)
    pargs = pytest_args_for(args, run_id, suites)
    return execute(pargs, run_id, settings, args)


@contextlib.contextmanager
def only_our_plugins(pargs: list[str]):
    """Run the suites with the pytest plugins BenchLoop needs and no others.

    Whatever else is installed beside pytest (rerunfailures, randomly, cov, hypothesis...)
    could rerun a failed task, reorder or slow a run, and loading them all costs start-up
    time on every run. Autoloading is switched off for this one call (xdist workers
    inherit the environment) and the needed plugins are named with ``-p``, which xdist
    hands on to its workers. ``PYTEST_ADDOPTS`` and ``PYTEST_PLUGINS`` are set aside for
    the call too: they belong to the user's own test runs (``--cov``, ``--reruns``) and
    would name plugins that are not loaded here.
    """
    import importlib.util

    wanted = ["benchloop_pytest.plugin", "pytest_timeout"]
    if "-n" in pargs:
        wanted.append("xdist.plugin")
    extra = []
    for name in wanted:
        if importlib.util.find_spec(name.split(".")[0]) is not None:
            extra += ["-p", name]
    names = ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    before = {k: os.environ.get(k) for k in names}
    for k in names[1:]:
        os.environ.pop(k, None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield [*extra, *pargs]
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(pargs: list[str], run_id: str, settings, args) -> int:
    """Run pytest in-process with a progress bar, then print the report."""
    import json
    from pathlib import Path

    import pytest

    from benchloop.options import runs_dir

    from benchloop.progress import Progress

    progress = Progress(quiet=args.json)
    with only_our_plugins(pargs) as pargs:
        code = pytest.main(pargs, plugins=[progress])
    progress.close()
    run_dir = Path(runs_dir(settings)) / run_id
    rj = run_dir / "run.json"
    if code == pytest.ExitCode.USAGE_ERROR or code == pytest.ExitCode.INTERNAL_ERROR:
        # pytest already printed "ERROR: benchloop: …"; a run.json there belongs to another
        # run (an id collision, a locked resume) and must not be reported as this one
        return 2
    if not rj.exists():
        if not (run_dir / "tasks.jsonl").exists():
            return _err(f"the run did not start (pytest exit {int(code)}); see the messages above")
    from benchloop.artifact import load_run

    run = load_run(str(run_dir), runs_dir(settings))
    if args.json:
        print(json.dumps(run, indent=1, sort_keys=True))
    else:
        from benchloop.report import print_report

        print_report(run)
    print(str(run_dir))
    if code == pytest.ExitCode.INTERRUPTED:
        return 130
    return 0 if run.get("status") == "complete" else 3
