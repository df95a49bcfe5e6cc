"""``benchloop sweep``: every combination of model × harness × endpoint as ordinary runs.

The parser lives here (``benchloop.cli`` asks :func:`add_parser` for it), the work in
:mod:`benchloop.sweep` (plan, checks, scheduling, ``sweep.json``) and
:mod:`benchloop.sweep_stats` (the matrix and its answer). What is left here is how one
cell runs: one plain pytest invocation of the suites (the same command line
``benchloop run`` builds), with its own ``--junitxml`` and ``-o junit_suite_name=<cell>``
so a CI pipeline can tell the cells apart. The command is written into ``sweep.json``
and printed by ``--print-commands``, so a pipeline can also run the cells itself.

Run as ``python -m benchloop.cli.sweep PYTEST_ARGS`` this module is the cell process:
pytest, plus (on Linux) a request to the kernel to stop the cell when the sweep dies,
so a killed sweep leaves no cell running that its ``--resume`` would collide with.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

AXIS_FLAGS = ("model", "harness", "endpoint", "provider", "profile")  # a comma list here is an axis


def add_parser(sub) -> None:
    """Register ``benchloop sweep`` on the top-level subparsers (kept cheap: no imports
    beyond the option table, which the parser builds anyway)."""
    from benchloop.options import CLI_PREFIX, add_run_options

    sp = sub.add_parser(
        "sweep",
        help="run every combination of models × harnesses × endpoints and answer which to pick",
        description="Comma lists in --model, --harness, --endpoint, --provider, --profile are axes; every combination is one ordinary run. "
        "'benchloop sweep matrix.yaml' reads the axes from a file; 'benchloop sweep show SWEEP' prints a stored sweep; "
        "--resume SWEEP finishes an interrupted sweep without repeating a finished task.",
    )
    sp.add_argument("target", nargs="*", metavar="matrix.yaml | show SWEEP", help="a matrix file, or 'show' and a sweep id")
    add_run_options(sp.add_argument, CLI_PREFIX)  # the same table as `benchloop run`; --resume takes a SWEEP here
    sp.add_argument("--suites", help="comma list of suites (default: all)")
    sp.add_argument("-n", "--parallel", type=int, default=0, help="parallel workers inside each cell (pytest-xdist)")
    sp.add_argument("--rows", help="axis for the table's rows (default model)")
    sp.add_argument("--cols", help="axis for the table's columns (default harness)")
    sp.add_argument("--serial", action="store_true", help="run one cell at a time even on different endpoints")
    sp.add_argument("--format", choices=["console", "md", "csv", "json"], default="console")
    sp.add_argument("--print-commands", action="store_true", help="print each cell's pytest command (for a CI matrix) and stop")


def cmd_sweep(args) -> int:
    from benchloop.options import given_values, runs_dir

    values = given_values(args)
    root = runs_dir(given=values["runs-dir"])
    if args.target[:1] == ["show"]:
        if len(args.target) != 2:
            from benchloop.errors import BenchLoopError

            raise BenchLoopError("usage: benchloop sweep show SWEEP [--format md|csv|json] [--rows AXIS --cols AXIS]")
        return show(args.target[1], root, args)
    if values["resume"]:
        return resume(values, root, args)
    return start(values, root, args)


def start(values: dict, root: str, args) -> int:
    from benchloop import sweep as sw
    from benchloop import sweep_run as sr

    if len(args.target) > 1:
        raise sw.SweepError(f"one matrix file at a time (got {len(args.target)}); or 'benchloop sweep show SWEEP'")
    if args.target:
        plan = sw.plan_from_matrix(_read(args.target[0]), args.target[0])
        flags = sw.plan_from_flags(values)
        both = sorted(set(flags["axes"]) & set(plan["axes"]))
        if both:
            raise sw.SweepError(f"{both[0]!r} is an axis in {args.target[0]} and a flag; give it in one place")
        plan["axes"].update({k: v for k, v in flags["axes"].items() if len(v) > 1})
        plan["settings"].update(flags["settings"])  # a flag wins over the file
        for k, v in flags["axes"].items():
            if len(v) == 1:
                plan["settings"][k] = v[0]
    else:
        plan = sw.plan_from_flags(values)
    if not plan["axes"].get("model") and not plan["settings"].get("model") and not os.environ.get("BENCHLOOP_MODEL"):
        raise sw.SweepError("--model is required, e.g. benchloop sweep --model a,b --harness raw,hermes")
    if args.suites:
        plan["settings"]["suites"] = args.suites
    _pass_api_key(values)
    cells = sw.expand(plan)
    problems = sw.check(plan, cells)
    for axis in (args.rows, args.cols):
        if axis and axis not in plan["axes"]:
            problems.append(f"--rows/--cols {axis!r} is not an axis of this sweep; its axes: {', '.join(plan['axes'])}")
    if args.parallel and args.parallel < 0:
        problems.append("-n/--parallel must be 0 or more")
    if problems:
        raise sw.problems_error(problems)
    sweep_id = values["run-id"] or sr.new_sweep_id()
    directory = sr.sweep_dir(root, sweep_id)
    if directory.exists():
        raise sw.SweepError(f"sweep {sweep_id} already exists in {directory.parent}; pick another id or --resume it")
    doc = sr.new_sweep(plan, cells, sweep_id=sweep_id, rows=args.rows, cols=args.cols)
    real = {c["name"]: c["values"] for c in cells}  # with the endpoint as given (credentials and all)
    if args.print_commands:
        import shlex

        for cell in doc["cells"]:
            cell["run_id"] = sr.cell_run_id(sweep_id, cell)
            print(shlex.join(["PYTEST_DISABLE_PLUGIN_AUTOLOAD=1", *ci_command(cell, real[cell["name"]], doc, root, directory, args.parallel, None)]))
        return 0
    return execute(doc, directory, root, args, real)


def resume(values: dict, root: str, args) -> int:
    from benchloop import sweep as sw
    from benchloop import sweep_run as sr

    given = [k for k in ("model", "harness", "endpoint", "provider", "profile") if values.get(k)]
    if args.target or given or args.suites:
        raise sw.SweepError("--resume keeps the sweep's axes and settings; drop " + ", ".join([f"--{k}" for k in given] + (["--suites"] if args.suites else []) + (args.target[:1] or [])))
    directory = sr.find_sweep(values["resume"], root)
    doc = sr.load_sweep(directory)
    todo = [c for c in doc["cells"] if not (c.get("run_id") and sr.run_state(Path(root) / c["run_id"]) == "complete")]
    _pass_api_key(values)
    if todo:
        plan = {"axes": doc["axes"], "settings": dict(doc.get("settings") or {}, suites=doc.get("suites"))}
        probe = [dict(c) for c in todo]
        problems = sw.check(plan, probe)
        if problems:
            raise sw.problems_error(problems)
    if args.rows or args.cols:
        doc["rows"], doc["cols"] = args.rows or doc.get("rows"), args.cols or doc.get("cols")
    real = {c["name"]: c["values"] for c in doc["cells"]}
    return execute(doc, directory, root, args, real)


def ci_command(cell: dict, values: dict, doc: dict, root: str, directory, parallel: int, resume_dir: str | None, *, python: str | None = None) -> list[str]:
    """The one pytest invocation of a cell: the suites, the plugins ``benchloop run``
    would load, the cell's ``--benchloop-*`` options, its JUnit file and suite name."""
    from benchloop.cli.run import pytest_args_for
    from benchloop.options import parse_suites

    suites = parse_suites(doc.get("suites"))
    if resume_dir:  # as `benchloop run --resume`: the run's own settings, only the run found again
        opts = {"timeout": values.get("timeout"), "run-id": cell["run_id"], "resume": resume_dir}
        if opts["timeout"] is None:
            opts["timeout"] = _stored_timeout(resume_dir)
    else:
        opts = dict(values, **{"run-id": cell["run_id"], "runs-dir": root})
    junit = str(directory / "junit" / f"{cell['slug']}.xml")
    pargs = pytest_args_for(opts, suites, parallel=parallel, junitxml=junit)
    return [python or sys.executable, "-m", "pytest", *_plugin_flags(parallel), *pargs, "-o", f"junit_suite_name={cell['name']}"]


def _stored_timeout(run_dir: str):
    import json
    from pathlib import Path

    try:
        return json.loads((Path(run_dir) / "meta.json").read_text(encoding="utf-8"))["settings"].get("timeout")
    except (OSError, ValueError, KeyError, AttributeError):
        return None


_PLUGINS: dict = {}


def _plugin_flags(parallel: int) -> list[str]:
    """``-p`` flags for the plugins a run loads (computed once, in the main thread:
    :func:`only_our_plugins` touches the environment while it looks)."""
    key = bool(parallel)
    if key not in _PLUGINS:
        from benchloop.cli.run import only_our_plugins

        marker = ["-n", "1"] if parallel else []
        with only_our_plugins(list(marker)) as full:
            _PLUGINS[key] = full[: len(full) - len(marker)]
    return _PLUGINS[key]


def _cell_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["BENCHLOOP_SWEEP_PARENT"] = str(os.getpid())
    return env


def execute(doc: dict, directory, root: str, args, real: dict) -> int:
    """Run the cells, then print the matrix, the sentence and the sweep directory."""
    import subprocess
    import threading
    import time

    from benchloop import sweep as sw
    from benchloop import sweep_run as sr
    from benchloop.sweep_stats import analyze

    _plugin_flags(args.parallel)  # before any thread starts
    (directory / "logs").mkdir(parents=True, exist_ok=True)
    (directory / "junit").mkdir(parents=True, exist_ok=True)
    procs: dict = {}
    lock = threading.Lock()
    total = len(doc["cells"])
    index = {c["name"]: i + 1 for i, c in enumerate(doc["cells"])}
    env = _cell_env()

    def launch(cell: dict, resume_dir: str | None) -> int:
        argv = ci_command(cell, real.get(cell["name"]) or cell["values"], doc, root, directory, args.parallel, resume_dir)
        cell["command"] = _redacted(argv, real.get(cell["name"]) or {})
        cell["junitxml"] = f"junit/{cell['slug']}.xml"
        cell["log"] = f"logs/{cell['slug']}.log"
        launched = [argv[0], "-m", "benchloop.cli.sweep", *argv[3:]]
        with open(directory / cell["log"], "ab") as log:
            # its own session: a terminal's Ctrl-C reaches the sweep, which stops the cells once each
            p = subprocess.Popen(launched, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
            with lock:
                procs[cell["name"]] = p
            code = p.wait()
            with lock:
                procs.pop(cell["name"], None)
        return code

    def on_event(kind: str, cell: dict, resume_dir) -> None:
        i = f"[{index[cell['name']]}/{total}]"
        if kind == "start":
            how = "resuming" if resume_dir else "running"
            line = f"{i} {how} {cell['name']} → run {cell['run_id']} ({cell.get('group')})"
        else:
            took = f" in {cell['attempts'][-1]['wall_s']:.1f} s" if cell.get("attempts") else ""
            line = f"{i} {cell['name']}: {cell['status']}{took}" + (f", model loaded in {cell['load_ms'] / 1000:.1f} s" if cell.get("load_ms") else "")
            if cell["status"] == "failed":
                line += f" ({cell['error']})" if cell.get("error") else f" (see {directory / cell['log']})" if cell.get("log") else ""
        with lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def on_interrupt() -> None:
        """Ctrl-C reaches only the sweep (each cell has its own session), which hands
        each running cell one SIGINT: it stops like `benchloop run` on Ctrl-C, with an
        incomplete, resumable run.json. A second Ctrl-C while waiting sends SIGTERM
        (the same orderly stop, sooner); a cell still running after 30 s is killed."""
        import signal

        with lock:
            running = list(procs.values())
        for p in running:
            try:
                p.send_signal(signal.SIGINT)
            except OSError:
                pass
        end = time.monotonic() + 30
        for p in running:
            while p.poll() is None:
                try:
                    p.wait(timeout=max(0.1, end - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
                except KeyboardInterrupt:
                    p.terminate()

    sys.stderr.write(f"sweep {doc['sweep_id']}: {total} cells, {len({c.get('group') for c in doc['cells']}) if not args.serial else 1} at a time at most\n")
    doc = sr.run_cells(doc, directory, root, launch, serial=args.serial, on_event=on_event, on_interrupt=on_interrupt)
    inv = doc["invocations"][-1]
    result = analyze(doc, sr.load_cell_runs(doc, root), rows=args.rows or doc.get("rows"), cols=args.cols or doc.get("cols"))
    doc["result"] = result
    sr.write_sweep(doc, directory)
    _render(result, args.format)
    sys.stderr.write(f"{inv['cells_run']} cell(s) in {inv['wall_s']:.1f} s; one after another they took {inv['cells_one_after_another_s']:.1f} s\n")
    print(str(directory))
    if doc.get("interrupted"):
        return 130
    return 0 if doc["status"] == "complete" else 3


def show(ref: str, root: str, args) -> int:
    from benchloop import sweep as sw
    from benchloop import sweep_run as sr
    from benchloop.sweep_stats import analyze

    directory = sr.find_sweep(ref, root)
    doc = sr.load_sweep(directory)
    result = analyze(doc, sr.load_cell_runs(doc, root), rows=args.rows, cols=args.cols)
    _render(result, args.format)
    return 0


def _render(result: dict, fmt: str) -> None:
    from benchloop import sweep_stats as st

    if fmt == "console":
        st.print_matrix(result)
    else:
        sys.stdout.write({"md": st.to_markdown, "csv": st.to_csv, "json": st.to_json}[fmt](result))
        if fmt == "json":
            sys.stdout.write("\n")


def _redacted(argv: list[str], values: dict) -> list[str]:
    """The command as stored: the endpoint without credentials (the key is never on it)."""
    from benchloop.artifact import redact
    from benchloop.providers.base import endpoint_secrets

    return redact(argv, endpoint_secrets(values.get("endpoint")))


def _pass_api_key(values: dict) -> None:
    if values.get("api-key"):
        os.environ["BENCHLOOP_API_KEY"] = values["api-key"]  # cells inherit it; it never goes on a command line


def _read(path: str) -> str:
    from benchloop.errors import BenchLoopError

    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise BenchLoopError(f"cannot read matrix file {path}: {exc.strerror or exc}") from None


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM when the sweep dies (even by kill -9), which the
    plugin turns into an orderly stop with an incomplete, resumable run.json."""
    parent = os.environ.get("BENCHLOOP_SWEEP_PARENT")
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the sweep died before the request was made
        sys.exit(2)


if __name__ == "__main__":
    _die_with_parent()
    import pytest

    sys.exit(int(pytest.main(sys.argv[1:])))
