"""``benchloop run`` and ``benchloop run --resume``: check what can be checked in one
line, turn the flags into a pytest command line (by walking the option table in
:mod:`benchloop.options`, the same one the plugin registers), run pytest in-process
with a progress bar, then print the report and the run directory."""
from __future__ import annotations

import contextlib
import os

import pytest  # this module runs pytest; the command imports it only for `run`

from benchloop.errors import BenchLoopError


# The pytest plugins a run switches off, in one list:
# - the terminal reporter (the command draws its own progress and report) and the cache;
# - the unraisable/thread-exception reporters, which end a session with five full garbage
#   collections (~0.5 s on a busy machine, issue 14);
# - plugins a suite never uses (no tmp_path, caplog, doctests, unittest classes, pdb,
#   subtests...): each is set up at start-up, and logging and unittest add hook calls to
#   every task (issue 14); randomly and benchmark would reorder or slow a run if present.
UNUSED_PYTEST_PLUGINS = (
    "cacheprovider", "terminal", "randomly", "benchmark", "unraisableexception", "threadexception",
    "doctest", "legacypath", "tmpdir", "logging", "subtests", "pastebin", "setuponly", "setupplan",
    "stepwise", "recwarn", "monkeypatch", "unittest", "debugging",
)


def pytest_args_for(values: dict, suites: list[str], *, parallel: int = 0, junitxml: str | None = None) -> list[str]:
    """The pytest command line for a run: the suite modules, BenchLoop's own pytest
    settings and the ``--benchloop-*`` flags of ``values`` (option name -> raw value, as
    :func:`benchloop.options.given_values` makes them). No secrets in it."""
    import importlib.util

    from benchloop.options import pytest_flags
    from benchloop.paths import suites_dir

    sdir = suites_dir()
    pa = [str(sdir / f"test_{s}.py") for s in suites]
    pa += ["-c", os.devnull, "--rootdir", str(sdir)]
    for name in UNUSED_PYTEST_PLUGINS + (() if junitxml else ("junitxml",)):  # JUnit XML only when asked for
        pa += ["-p", f"no:{name}"]
    pa += pytest_flags(values)
    if parallel and parallel > 0:
        pa += ["-n", str(parallel)]
    if junitxml:
        pa.append(f"--junitxml={junitxml}")
    # pytest-timeout is only a backstop behind the provider's own deadlines (a dependency,
    # but a broken environment may lack it: then the deadlines alone bound a task).
    if importlib.util.find_spec("pytest_timeout") is not None:
        per_task = float(values.get("timeout") or 120.0) * 12 + 60
        pa += [f"--timeout={per_task:.0f}", "-o", "timeout_method=signal", "-o", "timeout_func_only=true"]
    return pa


def _check_parallel(parallel: int) -> None:
    if parallel and parallel < 0:
        raise BenchLoopError("-n/--parallel must be 0 or more")
    if parallel and parallel > 0:
        import importlib.util

        if importlib.util.find_spec("xdist") is None:
            raise BenchLoopError("-n needs pytest-xdist; run: pip install pytest-xdist")


def check_unused(settings, values: dict, suites: list[str]) -> None:
    """Refuse a flag that would change nothing in this run, in one line naming it. The
    same setting from the environment or an ini file is a standing default for the runs
    it applies to (``BENCHLOOP_THREADS`` for the embedded engine), so it stays quiet."""
    from benchloop.options import unused_options

    for name, why in unused_options(settings, suites).items():
        if values.get(name) not in (None, "", []):
            raise BenchLoopError(why)


def cli_flags(msg: str) -> str:
    """A message from the plugin, in this command's own flags: ``--benchloop-endpoint``
    becomes ``--endpoint`` (the option table gives both the same name)."""
    from benchloop.options import PYTEST_PREFIX

    return msg.replace(PYTEST_PREFIX, "--")


class UsageErrors:
    """Takes the plugin's start-up refusal (a ``pytest.UsageError``: dead endpoint,
    unknown model, a run id taken) away from pytest, which would print it after its own
    ``ERROR:`` prefix and in pytest's flag names, so the command prints it as one
    ``benchloop: …`` line like every other error. Handed to ``pytest.main(plugins=…)``."""

    def __init__(self):
        self.message: str | None = None

    def _take(self, exc):
        text = " ".join(str(a) for a in exc.args).strip()
        self.message = cli_flags(text.removeprefix("benchloop:").strip()) or "the run could not start"
        return pytest.UsageError()  # no args: pytest prints nothing, the command prints the line

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_main(self, config):
        """Around the whole session (configure, where the plugin starts up, included:
        pytest_configure itself is historic and takes no wrappers)."""
        try:
            return (yield)
        except pytest.UsageError as exc:
            raise self._take(exc) from None


def _pass_api_key(values: dict) -> None:
    if values.get("api-key"):
        os.environ["BENCHLOOP_API_KEY"] = values["api-key"]  # workers inherit it; it never goes on a command line


def cmd_run(args) -> int:
    from benchloop.artifact import new_run_id
    from benchloop.options import given_values, parse_suites, resolve

    values = given_values(args)
    if values["resume"]:
        return cmd_resume(args, values)
    if not values["model"] and not os.environ.get("BENCHLOOP_MODEL"):
        raise BenchLoopError("--model is required, e.g. benchloop run --provider llamacpp --model smollm2-135m")
    _pass_api_key(values)
    settings = resolve(values)  # OptionError: one line naming the fix
    _check_parallel(args.parallel)
    suites = parse_suites(args.suites)
    check_unused(settings, values, suites)
    from benchloop.tasks import TaskFileError, load_suite

    for s in suites:
        try:
            load_suite(s)
        except TaskFileError as exc:
            raise BenchLoopError(str(exc)) from None
    run_id = settings.run_id or new_run_id(settings.model)
    pargs = pytest_args_for(values | {"run-id": run_id}, suites, parallel=args.parallel, junitxml=args.junitxml)
    return execute(pargs, run_id, settings, args)


def cmd_resume(args, values: dict) -> int:
    """``benchloop run --resume RUN``: check, then run pytest with --benchloop-resume.

    Refusals come before pytest starts, as one line: a setting given that differs from
    the run's, suites or a run id that are not the run's, a plan that changed since."""
    from benchloop.options import Settings, runnable_suites, runs_dir
    from benchloop.resume import OVERRIDABLE, find_run_dir, open_resume, read_meta, settings_for_resume

    run_dir = find_run_dir(values["resume"], runs_dir(given=values["runs-dir"]))
    meta = read_meta(run_dir)
    rid = meta.get("run_id") or run_dir.name
    if values["run-id"] and values["run-id"] != rid:
        raise BenchLoopError("--run-id cannot be combined with --resume (the run keeps its id)")
    settings_for_resume(meta, values)  # a changed setting is refused before anything else
    plan = meta.get("plan") or {}
    suites = list(plan.get("suites") or sorted((plan.get("manifest") or {}).get("suites") or {}))
    if args.suites:
        asked = [s.strip() for s in args.suites.split(",") if s.strip()]
        if sorted(asked) != sorted(suites):
            raise BenchLoopError(f"run {rid} ran suites {','.join(suites)}; --resume keeps them (drop --suites)")
    unknown = [s for s in suites if s not in runnable_suites()]
    if unknown:
        raise BenchLoopError(f"run {rid} used suite {unknown[0]!r}, which this BenchLoop does not have")
    # only what a resume may change travels on; the plugin reads the rest from meta.json
    given = {name: v for name, v in values.items() if name.replace("-", "_") in OVERRIDABLE and name != "runs-dir"}
    if given.get("timeout") is None:
        given["timeout"] = meta["settings"].get("timeout")
    open_resume(str(run_dir), given, runs_root=str(run_dir.parent))  # the session's own checks, as one line now
    _pass_api_key(values)
    _check_parallel(args.parallel)
    pargs = pytest_args_for(given | {"run-id": rid, "resume": str(run_dir)}, suites, parallel=args.parallel, junitxml=args.junitxml)
    settings = Settings(model=meta["settings"].get("model"), runs_dir=str(run_dir.parent))
    return execute(pargs, rid, settings, args)


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
    """Run pytest in-process with a progress bar, then print the report. A run that
    stopped short (Ctrl-C, SIGTERM, the run deadline) ends with how to finish it."""
    import json
    from pathlib import Path

    from benchloop.cli import err
    from benchloop.cli.progress import Progress
    from benchloop.options import runs_dir

    progress = Progress(quiet=args.json)
    errors = UsageErrors()
    interrupted = False
    try:
        with only_our_plugins(pargs) as pargs:
            code = pytest.main(pargs, plugins=[errors, progress])
    except KeyboardInterrupt:  # a second Ctrl-C while pytest was already unwinding
        code, interrupted = pytest.ExitCode.INTERRUPTED, True
    finally:
        progress.close()
    run_dir = Path(runs_dir(settings)) / run_id
    rj = run_dir / "run.json"
    if errors.message:
        return err(errors.message)
    if code == pytest.ExitCode.USAGE_ERROR or code == pytest.ExitCode.INTERNAL_ERROR:
        # pytest printed why; a run.json there belongs to another run (an id collision,
        # a locked resume) and must not be reported as this one
        return 2
    if not rj.exists():
        if (run_dir / "tasks.jsonl").exists() or (run_dir / "meta.json").exists():
            err(f"run {run_id} stopped before it finished; finish it with: benchloop run --resume {run_id}")
            return 130 if interrupted or code == pytest.ExitCode.INTERRUPTED else 3
        return err(f"the run did not start (pytest exit {int(code)}); see the messages above")
    from benchloop.artifact import load_run

    run = load_run(str(run_dir), runs_dir(settings))
    if args.json:
        print(json.dumps(run, indent=1, sort_keys=True))
    else:
        from benchloop.report import print_report

        print_report(run)
    print(str(run_dir))
    if run.get("status") != "complete":
        left = len(run.get("missing_tasks") or [])
        what = "was interrupted" if code == pytest.ExitCode.INTERRUPTED else "is incomplete"
        err(f"run {run_id} {what}{f' ({left} tasks left)' if left else ''}; finish it with: benchloop run --resume {run_id}")
    if code == pytest.ExitCode.INTERRUPTED:
        return 130
    return 0 if run.get("status") == "complete" else 3
