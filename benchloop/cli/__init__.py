"""The ``benchloop`` command. ``run`` wraps pytest (so CI users and CLI users run the
same code path); the other commands read the run store.

The package is the CLI room: the parser and dispatch here, ``run`` (and ``--resume``)
in :mod:`benchloop.cli.run`, the run-store commands in :mod:`benchloop.cli.store`, the
progress bar in :mod:`benchloop.cli.progress`. Arrows point one way: the CLI imports
the library, never the reverse; a library failure the user can fix is a
:class:`benchloop.errors.BenchLoopError`, printed here as one line with exit status 2.

Import discipline: ``benchloop --version`` must stay under 0.2 s, so every command
imports what it needs inside its handler.
"""
from __future__ import annotations

import sys

from benchloop.errors import BenchLoopError, CliError  # noqa: F401 - CliError: the name callers know

# command -> (module, function); imported only when the command runs
COMMANDS = {
    "run": ("benchloop.cli.run", "cmd_run"),
    "runs": ("benchloop.cli.store", "cmd_runs"),
    "show": ("benchloop.cli.store", "cmd_show"),
    "score": ("benchloop.cli.store", "cmd_score"),
    "suites": ("benchloop.cli.store", "cmd_suites"),
    "compare": ("benchloop.cli.store", "cmd_compare"),
    "export": ("benchloop.cli.store", "cmd_export"),
    "import": ("benchloop.cli.store", "cmd_import"),
    "publish": ("benchloop.cli.store", "cmd_publish"),
    "sweep": ("benchloop.cli.sweep", "cmd_sweep"),
}
DASHBOARD = ("benchloop.dashboard.serve", "main")  # takes its own argv


def err(msg: str) -> int:
    """Print one ``benchloop: …`` line on stderr; returns exit status 2."""
    sys.stderr.write(f"benchloop: {msg}\n")
    return 2


def build_parser():
    import argparse

    from benchloop import __version__
    from benchloop.catalog import SUITES
    from benchloop.options import CLI_PREFIX, add_run_options

    p = argparse.ArgumentParser(prog="benchloop", description="Local-first LLM benchmark with receipts.")
    p.add_argument("--version", action="version", version=f"benchloop {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("run", help="benchmark a model (wraps pytest)")
    add_run_options(r.add_argument, CLI_PREFIX)  # the same table as the plugin's --benchloop-* options
    r.add_argument("--suites", help=f"comma list of suites (default: all of {','.join(SUITES)})")
    r.add_argument("-n", "--parallel", type=int, default=0, help="parallel workers (pytest-xdist); the embedded engine gets as many slots")
    r.add_argument("--junitxml", help="also write JUnit XML here")
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

    # the dashboard is its own module with its own flags: `benchloop dashboard ARGS` hands
    # ARGS to `python -m benchloop.dashboard` (see main)
    sub.add_parser("dashboard", help="serve the web dashboard (benchloop dashboard --help for its flags)", add_help=False)

    c = sub.add_parser("compare", help="compare runs with paired significance tests")
    c.add_argument("runs", nargs="+")
    c.add_argument("--runs-dir")
    c.add_argument("--format", choices=["console", "md", "json", "csv"], default="console")

    e = sub.add_parser("export", help="export runs with full receipts (every run when none is named)")
    e.add_argument("runs", nargs="*", help="run ids or directories (default: every run)")
    e.add_argument("--all", action="store_true", help="every run (the default when no run is named)")
    e.add_argument("--output", "-o", help="file to write: NAME.json is one JSON document, NAME.jsonl JSON Lines, .gz compresses; - is stdout (default benchloop-export-DATE.jsonl.gz)")
    e.add_argument("--runs-dir")

    i = sub.add_parser("import", help="import an export file")
    i.add_argument("file")
    i.add_argument("--runs-dir")

    pb = sub.add_parser("publish", help="send a run to a leaderboard server (opt-in)")
    pb.add_argument("run")
    pb.add_argument("--to", required=True, help="leaderboard URL")
    pb.add_argument("--token")
    pb.add_argument("--runs-dir")

    from benchloop.cli.sweep import add_parser as add_sweep_parser

    add_sweep_parser(sub)  # `benchloop sweep`: its flags live with the command
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["--version"], ["-V"]):
        from benchloop import __version__

        print(f"benchloop {__version__}")
        return 0
    try:
        if argv[:1] == ["dashboard"]:
            return int(_load("dashboard", *DASHBOARD)(argv[1:]) or 0)
        parser = build_parser()
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 0
        return int(_load(args.command, *COMMANDS[args.command])(args) or 0)
    except BenchLoopError as exc:
        return err(str(exc))
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    """The console command (``benchloop``, ``python -m benchloop``): :func:`main`, then a
    quick exit. Once a run's report is printed nothing is left but tearing down some 600
    modules and collecting their objects, which took ~80 ms of every run (issue 14). The
    atexit handlers still run (they flush and stop things), and output is flushed; only
    the interpreter's own teardown is skipped. While a thread that is not a daemon is
    still alive, the exit is the ordinary one, which waits for it."""
    import os
    import threading

    code = main()
    if any(t is not threading.main_thread() and t.is_alive() and not t.daemon for t in threading.enumerate()):
        raise SystemExit(code)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (benchloop runs | head): as Python's own exit says
            code = code or 120
    os._exit(code)


def _load(command: str, module: str, func: str):
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise BenchLoopError(f"'{command}' is not available in this build") from None
        raise
    return getattr(mod, func)
