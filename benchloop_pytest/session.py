"""The active side of the plugin, loaded only when a model is given.

Controller (the process without ``workerinput``): resolves settings, checks the
endpoint, starts the embedded engine once, creates the run directory, receives every
task record from the reports (its own or xdist workers'), appends them to
``tasks.jsonl`` and writes ``run.json`` at the end. Workers only run tasks.
"""
from __future__ import annotations

import json
import re
import time

import pytest

from benchloop.options import OptionError, dest, is_remote, resolve, runs_dir
from benchloop.providers.base import endpoint_secrets, safe_endpoint

NODEID = re.compile(r"test_(?P<suite>\w+)\.py::[^\[]+\[(?P<task>[a-z]{2,3}-\d{3})\]$")


def _cli_options(config) -> dict:
    from benchloop.options import OPTIONS

    cli = {name: config.getoption(dest(name)) for name, *_ in OPTIONS}
    ini = {}
    for name, _h, _d, kind in OPTIONS:
        if kind != "secret":
            v = config.getini(dest(name))
            if v not in (None, "", []):
                ini[name] = v
    cli["remote"] = config.getoption("benchloop_remote")
    ini_remote = config.getini("benchloop_remote")
    if ini_remote not in (None, ""):
        ini["remote"] = ini_remote
    return cli, ini


class BenchSession:
    def __init__(self, config):
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        cli, ini = _cli_options(config)
        self.resume = None  # benchloop.resume.Resume when continuing a run (--benchloop-resume)
        try:
            if config.getoption("benchloop_resume", None):
                self.resume = self._open_resume(config, cli)
                self.settings = self.resume.settings
            else:
                self.settings = resolve(cli, ini=ini)
        except OptionError as exc:
            raise pytest.UsageError(f"benchloop: {exc}") from None
        self.remote = is_remote(self.settings)
        self._suites: dict[str, dict] = {}
        self.records: list[dict] = []
        self.expected: dict[str, tuple[str, str]] = {}
        self.engine = None
        self.writer = None
        self.run_dir = None
        self.interrupted = False
        self.listeners = []  # callables(record) — the CLI's progress bar
        self.t0 = time.perf_counter()
        self.marks: dict[str, float] = {}  # phase -> perf_counter(), for the run's "timings_ms"
        self.model_wait_s = 0.0
        self.prior_records: list[dict] = []  # resume: finished records from the interrupted run
        self.done: set = set()  # resume: (suite, task_id) already finished, deselected at collection
        self.plan_keys: set = set()  # resume: every (suite, task_id) the run set out to run
        self.lock = None
        if self.is_worker:
            info = config.workerinput.get("benchloop") or {}
            self.endpoint = info.get("endpoint") or self.settings.endpoint
            self.run_id = info.get("run_id")
            self.run_deadline_at = info.get("run_deadline_at")
            self.done = {tuple(k) for k in info.get("done") or []}
        else:
            self.run_deadline_at = time.time() + self.settings.deadline if self.settings.deadline else None
            if self.resume is not None:
                self.prior_records = list(self.resume.prior)
                self.done = set(self.resume.done)
                self.plan_keys = set(self.resume.planned)
            self._start_controller()
            self._sigterm_prev = _catch_sigterm()

    # ---- controller ------------------------------------------------------------
    def _start_controller(self):
        from benchloop import __version__
        from benchloop.artifact import RunWriter, new_run_id, utcnow
        from benchloop.machine import collect

        s = self.settings
        model_facts = {"name": s.model}
        engine_info = None
        # The machine probe (GPU tools, /proc) runs while the model loads or the endpoint
        # answers its preflight: it needs neither, and the user waits for both anyway.
        probe = None if self.resume is not None else _Background(lambda: collect(hardware=s.hardware, gpu=s.gpu, gpu_memory_gb=s.gpu_memory_gb, remote=self.remote))
        if s.provider == "llamacpp":
            from benchloop.engine import Engine, EngineError

            n = self._xdist_workers()
            try:
                self.engine = Engine(s.model, parallel=max(1, n), threads=s.threads).start()
            except EngineError as exc:
                raise pytest.UsageError(f"benchloop: {exc}") from None
            self.endpoint = self.engine.url
            model_facts.update(self.engine.facts)
            engine_info = {"kind": "xllamacpp", "model_path": str(self.engine.path), "parallel": self.engine.parallel, "ctx_per_slot": self.engine.ctx_per_slot, "threads": self.engine.threads, "load_ms": round(self.engine.load_ms, 1)}
        else:
            self.endpoint = s.endpoint
            self._preflight()
            try:
                model_facts.update(self.make_provider().describe_model(s.model))
            except Exception:  # describing is best-effort
                pass
        if self.resume is not None:  # the resumed run keeps its own machine facts
            return self._reopen_run()
        self.run_id = s.run_id or new_run_id(s.model)
        from benchloop.artifact import valid_run_id

        if not valid_run_id(self.run_id):
            raise pytest.UsageError(f"benchloop: run id {self.run_id!r} may use letters, digits, '.', '_' and '-' only")
        from pathlib import Path

        self.run_dir = Path(runs_dir(s)) / self.run_id
        try:
            self.writer = RunWriter(self.run_dir)
        except FileExistsError:
            raise pytest.UsageError(f"benchloop: run {self.run_id} already exists in {self.run_dir.parent}; pick another --benchloop-run-id") from None
        from benchloop.resume import lock_run

        self.lock = lock_run(self.run_dir)  # a fresh directory: nobody else holds it
        self.meta = {
            "schema_version": 1,
            "run_id": self.run_id,
            "started_at": utcnow(),
            "benchloop_version": __version__,
            "model": model_facts,
            "provider": s.provider,
            "endpoint": "embedded" if s.provider == "llamacpp" else safe_endpoint(s.endpoint),
            "harness": s.harness,
            "remote": self.remote,
            "profile": s.profile,
            "sampling": {"temperature": s.temperature, "seed": s.seed, "max_tokens": s.max_tokens},
            "settings": s.public(),
            "engine": engine_info,
            "machine": probe.result(),
        }
        self.probe_ms = probe.elapsed_ms
        self._save_meta()
        self.marks["started"] = time.perf_counter()

    def _save_meta(self):
        from benchloop.artifact import redact

        self.writer.write_meta(redact(self.meta, self.secret_values()))

    def _xdist_workers(self) -> int:
        n = getattr(self.config.option, "numprocesses", None)
        if isinstance(n, int):
            return n
        if n in ("auto", "logical"):
            import os

            return os.cpu_count() or 1
        try:
            return int(n or 0)
        except (TypeError, ValueError):
            return 1

    def _preflight(self):
        """Fail at once, in one line, on a dead endpoint or an unknown model."""
        from benchloop.providers import ProviderError

        s = self.settings
        try:
            models = self.make_provider().list_models()
        except ProviderError as exc:
            hint = "start the server or pass --benchloop-endpoint/--endpoint"
            if exc.kind == "http" and exc.status in (401, 403):
                hint = "pass a valid key with --api-key or OPENAI_API_KEY"
            from benchloop.artifact import redact

            raise pytest.UsageError(redact(f"benchloop: cannot reach {safe_endpoint(s.endpoint)} ({exc}); {hint}", self.secret_values())) from None
        from benchloop.providers.ollama import OllamaProvider

        ok = OllamaProvider.matches(s.model, models) if s.provider == "ollama" else (s.model in models or not models)
        if not ok:
            shown = ", ".join(models[:20]) + (" …" if len(models) > 20 else "")
            raise pytest.UsageError(f"benchloop: model {s.model!r} is not served at {safe_endpoint(s.endpoint)}; available: {shown or 'none'}")

    # ---- resume / plan (controller) -------------------------------------------------
    @staticmethod
    def _open_resume(config, cli):
        """Settings and finished tasks of the run being continued; OptionError says why not."""
        import os

        from benchloop.resume import ResumeError, open_resume

        key = cli.get("api-key") or os.environ.get("BENCHLOOP_API_KEY") or None
        try:
            return open_resume(config.getoption("benchloop_resume"), cli, api_key=key, check_manifest=not hasattr(config, "workerinput"))
        except ResumeError as exc:
            raise OptionError(str(exc)) from None

    def _reopen_run(self):
        from benchloop import __version__
        from benchloop.artifact import utcnow
        from benchloop.resume import RunLocked, lock_run, reopen_writer

        r = self.resume
        self.run_dir = r.dir
        self.run_id = r.meta.get("run_id") or r.dir.name
        try:
            self.lock = lock_run(self.run_dir)
        except RunLocked as exc:
            raise pytest.UsageError(f"benchloop: {exc}") from None
        self.writer = reopen_writer(self.run_dir)
        self.meta = dict(r.meta)
        entry = {"at": utcnow(), "finished_before": len(r.done), "planned": len(self.plan_keys), "benchloop_version": __version__}
        if r.overrides:
            entry["changed"] = {k: (safe_endpoint(v) if k == "endpoint" else v) for k, v in r.overrides.items() if k != "runs_dir"}
        self.meta["resumed"] = [*(self.meta.get("resumed") or []), entry]
        self.meta.pop("manifest_hash", None)
        self.meta.pop("manifest", None)
        self._save_meta()

    def _manifest(self, keys) -> dict:
        from benchloop.receipts import build_manifest

        return build_manifest(keys, {name: self.suite(name) for name in {s for s, _ in keys}}, harness=self.settings.harness, max_tokens=self.settings.max_tokens)

    def _write_plan(self):
        """Record in meta.json the manifest of every task this run will run, before the
        first one starts: what ``--resume`` needs after a kill -9 (no run.json then)."""
        if self.is_worker or self.writer is None or self.resume is not None or "plan" in self.meta or not self.expected:
            return
        from benchloop.resume import make_plan

        order = []
        for s, _ in self.expected.values():
            if s not in order:
                order.append(s)
        self.meta["plan"] = make_plan(self._manifest(set(self.expected.values())), order)
        self._save_meta()

    # ---- both --------------------------------------------------------------------
    def make_provider(self):
        from benchloop.providers import make_provider

        return make_provider(self.settings.provider, self.endpoint, api_key=self.settings.api_key, timeout=self.settings.timeout)

    def secret_values(self) -> list[str]:
        """Every key this process could send: redacted from records, artifacts and failure text."""
        import os

        keys = [v for v in (self.settings.api_key, os.environ.get("OPENAI_API_KEY"), os.environ.get("BENCHLOOP_API_KEY")) if v]
        return keys + endpoint_secrets(self.settings.endpoint) + endpoint_secrets(getattr(self, "endpoint", None))

    def make_harness(self):
        from benchloop.harnesses import get_harness

        try:
            return get_harness(self.settings.harness)
        except ValueError as exc:
            raise pytest.UsageError(f"benchloop: {exc}") from None

    def suite(self, name: str) -> dict:
        if name not in self._suites:
            from benchloop.tasks import TaskFileError, load_suite

            try:
                self._suites[name] = load_suite(name)
            except TaskFileError as exc:
                # a collection error whose text is just this line (no traceback)
                raise pytest.Collector.CollectError(f"benchloop: {exc}") from None
        return self._suites[name]

    def tasks_for(self, name: str) -> list[dict]:
        from benchloop.tasks import select

        suite = self.suite(name)
        picked = select(suite["tasks"], profile=self.settings.profile, only=self.settings.task)
        return picked

    def context(self, provider, harness, suite: str):
        from benchloop.runner import RunContext

        s = self.settings
        return RunContext(
            provider=provider,
            harness=harness,
            model=s.model,
            temperature=s.temperature,
            seed=s.seed,
            max_tokens_override=s.max_tokens,
            suite_defaults=self.suite(suite)["defaults"],
            settings=s.public() | {"remote": self.remote},
            retries=s.retries,
            task_deadline_s=s.task_deadline or s.timeout * 10,
            run_deadline_at=self.run_deadline_at,
        )

    def not_run_record(self, task: dict) -> dict:
        """A task the run deadline left no time for: recorded at once, never sent."""
        from benchloop.resume import NOT_RUN
        from benchloop.runner import empty_record

        rec = empty_record(task)
        rec.update(error="run deadline exceeded", error_kind=NOT_RUN, reason="run deadline exceeded; task not run", retries=[], wall_ms=0.0)
        return rec

    def setup_error_record(self, task: dict, report) -> dict:
        from benchloop.runner import empty_record

        rec = empty_record(task)
        msg = str(getattr(report, "longreprtext", "") or "setup failed").strip().splitlines()
        rec.update(error=f"harness error: {msg[-1][:300] if msg else 'setup failed'}", error_kind="harness", reason="setup failed")
        return rec

    # ---- hooks (controller) ---------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        """xdist: workers share the controller's engine and run id."""
        node.workerinput["benchloop"] = {"endpoint": self.endpoint, "run_id": self.run_id, "run_deadline_at": self.run_deadline_at, "done": sorted(self.done)}

    def pytest_collection_modifyitems(self, session, config, items):
        """Resume: deselect tasks the interrupted run already finished. Workers do the
        same from the controller's list, so every xdist worker collects the same items."""
        if not self.done:
            return
        keep, drop = [], []
        for item in items:
            task = getattr(getattr(item, "callspec", None), "params", {}).get("task")
            key = (task.get("suite"), task.get("id")) if isinstance(task, dict) else None
            (drop if key in self.done else keep).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def pytest_collection_finish(self, session):
        if self.is_worker:
            return
        for item in session.items:
            task = getattr(getattr(item, "callspec", None), "params", {}).get("task")
            if isinstance(task, dict) and task.get("suite"):
                self.expected[item.nodeid] = (task["suite"], task["id"])
        self._write_plan()
        self.marks["collected"] = time.perf_counter()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        for nodeid in ids:
            m = NODEID.search(nodeid)
            if m and m.group("suite") in self._known_suites():
                self.expected[nodeid] = (m.group("suite"), m.group("task"))
        self._write_plan()

    def _known_suites(self):
        from benchloop.checkers.registry import CHECKERS

        return CHECKERS

    def pytest_runtest_logreport(self, report):
        if self.is_worker:
            return
        raw = getattr(report, "benchloop_record", None)
        if not raw:
            return
        rec = json.loads(raw)
        rec["nodeid"] = report.nodeid
        self.marks.setdefault("first_task_done", time.perf_counter())
        self.marks["last_task_done"] = time.perf_counter()
        self.records.append(rec)
        self.model_wait_s += (rec.get("model_wait_ms") or rec.get("latency_ms") or 0) / 1000.0
        if self.writer is not None:
            from benchloop.artifact import redact

            self.writer.append(redact(rec, self.secret_values()))
        for fn in self.listeners:
            try:
                fn(rec)
            except Exception:  # a display problem must not lose a measurement
                pass

    def pytest_keyboard_interrupt(self, excinfo):
        self.interrupted = True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if self.is_worker or self.writer is None:
            return
        self.finish(interrupted=self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED)

    def finish(self, *, interrupted: bool = False):
        from benchloop.artifact import build_run, redact, utcnow

        if self.writer is None or getattr(self, "run", None) is not None:
            return
        if not self.records and not self.expected and self.resume is None:
            # nothing was measured (usage or collection error): leave no empty run behind
            import shutil

            self.writer.finish({})
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.writer = None
            return
        records = self.prior_records + self.records
        from benchloop.resume import NOT_RUN

        got = {(r.get("suite"), r.get("task_id")) for r in records if r.get("error_kind") != NOT_RUN}
        planned = set(self.expected.values()) | self.plan_keys
        missing = sorted(f"{s}/{t}" for (s, t) in planned if (s, t) not in got)
        man = self._manifest(planned | {(r["suite"], r["task_id"]) for r in records if r.get("suite") and r.get("task_id")})
        meta = dict(self.meta)
        meta["manifest_hash"] = man["hash"]
        meta["manifest"] = man["body"]
        now = time.perf_counter()
        meta["wall_s"] = round(now - self.t0, 3)
        meta["timings_ms"] = self._timings(now)
        speed = None
        if any(r.get("suite") == "speed" for r in records):
            try:
                from benchloop.speed import aggregate

                speed = aggregate([r for r in records if r.get("suite") == "speed"], meta)
            except ImportError:
                speed = None
        status = "incomplete" if (interrupted or missing) else "complete"
        run = build_run(meta, records, status=status, missing=missing, speed=speed)
        run["finished_at"] = utcnow()
        run = redact(run, self.secret_values())
        self.run_path = self.writer.finish(run)
        self.run = run

    def _timings(self, now: float) -> dict:
        """Where this process's wall time went, in ms from the session's start: when the
        run directory was ready (engine loaded, machine probed), collection ended, the
        first and last task records arrived, and the artifact was assembled. What
        ``benchmarks/overhead.py`` splits BenchLoop's own cost by."""
        out = {k: round(1000 * (v - self.t0), 1) for k, v in self.marks.items()}
        out["assembled"] = round(1000 * (now - self.t0), 1)
        if self.engine is not None:
            out["engine_load"] = round(self.engine.load_ms, 1)  # a duration, as is machine_probe
        if getattr(self, "probe_ms", None) is not None:
            out["machine_probe"] = round(self.probe_ms, 1)
        return out

    def pytest_terminal_summary(self, terminalreporter):
        if self.is_worker or getattr(self, "run", None) is None:
            return
        sc = self.run["scores"]
        tr = terminalreporter
        tr.write_sep("=", "BenchLoop")
        fmt = lambda v: "—" if v is None else f"{v:.1f}"  # noqa: E731
        tr.write_line(f"overall {fmt(sc['overall'])}  quality {fmt(sc['quality'])}  speed {fmt(sc['speed'])}  reliability {fmt(sc['reliability'])}  ({sc['formula']})")
        for name, s in sc["suites"].items():
            ci = s.get("ci95") or [None, None]
            tr.write_line(f"  {name:<15} {fmt(s['score']):>6}  n={s['n']}  95% CI [{fmt(ci[0])}, {fmt(ci[1])}]")
        tr.write_line(f"status {self.run['status']}; run directory: {self.run_dir}")

    def pytest_unconfigure(self, config):
        prev = getattr(self, "_sigterm_prev", None)
        if prev is not None:
            import signal

            signal.signal(signal.SIGTERM, prev)
        if self.engine is not None:
            self.engine.stop()
            self.engine = None


def _catch_sigterm():
    """Make SIGTERM (``kill``, ``timeout``, a service manager stopping us) end the run
    like Ctrl-C: pytest unwinds, the session finishes and ``run.json`` says
    ``incomplete``, instead of the process vanishing with only ``tasks.jsonl`` left.
    Only when nobody else handles SIGTERM; returns the handler to put back, or None."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt("SIGTERM")

    return signal.signal(signal.SIGTERM, stop)


class _Background:
    """Run one function in a daemon thread; ``result()`` joins it and re-raises its error."""

    def __init__(self, fn):
        import threading

        self._box: dict = {}

        self.elapsed_ms = None

        def work():
            t0 = time.perf_counter()
            try:
                self._box["value"] = fn()
            except BaseException as exc:  # handed to the caller of result()
                self._box["error"] = exc
            self.elapsed_ms = (time.perf_counter() - t0) * 1000

        self._thread = threading.Thread(target=work, name="benchloop-probe", daemon=True)
        self._thread.start()

    def result(self):
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        return self._box.get("value")


class Recorder:
    """The per-test recorder fixture: run, record on the item, fail with the reason."""

    def __init__(self, session: BenchSession, item, key):
        self.session = session
        self.item = item
        self.key = key

    def run(self, task: dict, provider, harness) -> dict:
        from benchloop.runner import run_task

        deadline = self.session.run_deadline_at
        if deadline is not None and time.time() >= deadline:
            rec = self.session.not_run_record(task)
        else:
            rec = run_task(task, self.session.context(provider, harness, task["suite"]))
        return self.record(rec)

    def record(self, rec: dict) -> dict:
        from benchloop.artifact import redact

        rec = redact(rec, self.session.secret_values())  # before it reaches the report, JUnit or a log
        self.item.stash[self.key] = rec
        if self.item.config.getini("benchloop_junit_properties"):
            self.item.user_properties.append(("score", f"{rec.get('score', 0):.1f}"))
            self.item.user_properties.append(("latency_ms", "" if rec.get("latency_ms") is None else f"{rec['latency_ms']:.1f}"))
            self.item.user_properties.append(("tokens", str(rec.get("completion_tokens") or 0)))
        if rec.get("error"):
            pytest.fail(rec["error"], pytrace=False)
        if not rec.get("passed"):
            pytest.fail(rec.get("reason") or f"score {rec.get('score')}", pytrace=False)
        return rec
