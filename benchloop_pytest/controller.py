"""The controller: the one process that owns the run directory.

It opens the run (start-up in :mod:`benchloop_pytest.startup`), records the plan when
collection ends, takes every task record as its report arrives (its own or an xdist
worker's), redacts it once and appends it to ``tasks.jsonl``, and at the end has the
artifact code assemble ``run.json``. Workers never get here.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from benchloop.options import runs_dir
from benchloop.providers.base import safe_endpoint
from benchloop_pytest import startup

NODEID = re.compile(r"test_(?P<suite>\w+)\.py::[^\[]+\[(?P<task>[a-z]{2,3}-\d{3})\]$")


class Controller:
    def __init__(self, config, settings, resume, remote: bool):
        self.config = config
        self.settings = settings
        self.resume = resume  # benchloop.resume.Resume when continuing a run
        self.remote = remote
        self.t0 = time.perf_counter()
        self.marks: dict[str, float] = {}  # phase -> perf_counter(), for the run's "timings_ms"
        self.spent: dict[str, float] = {}  # work -> seconds spent on it in all, for "timings_ms"
        self.lines: list[str] = []  # this session's records as written to tasks.jsonl (compact: parsed again only at the end)
        self.expected: dict[str, tuple[str, str]] = {}  # nodeid -> (suite, task_id)
        self.listeners = []  # callables(record) — the CLI's progress display
        self.model_wait_s = 0.0
        self.interrupted = False
        self.writer = self.run_dir = self.lock = self.run = None
        self.prior_records = list(resume.prior) if resume else []  # finished before an interruption
        self.done = set(resume.done) if resume else set()
        self.plan_keys = set(resume.planned) if resume else set()  # every (suite, task_id) it set out to run
        self.run_deadline_at = time.time() + settings.deadline if settings.deadline else None
        self._open()
        self._sigterm_prev = startup.catch_sigterm()

    # ---- start ------------------------------------------------------------------------
    def _open(self):
        from benchloop.artifact import RunWriter, new_run_id, valid_run_id
        from benchloop.machine import collect

        s = self.settings
        # The machine probe (GPU tools, /proc) runs while the model loads or the endpoint
        # answers its preflight: it needs neither, and the user waits for both anyway.
        probe = None if self.resume else startup.Background(lambda: collect(hardware=s.hardware, gpu=s.gpu, gpu_memory_gb=s.gpu_memory_gb, remote=self.remote))
        self.endpoint, self.engine, facts, engine_info = startup.open_model(s, startup.xdist_workers(self.config))
        if self.resume:
            return self._reopen()
        self.run_id = s.run_id or new_run_id(s.model)
        if not valid_run_id(self.run_id):
            raise startup.usage_error(f"run id {self.run_id!r} may use letters, digits, '.', '_' and '-' only")
        self.run_dir = Path(runs_dir(s)) / self.run_id
        try:
            self.writer = RunWriter(self.run_dir)
        except FileExistsError:
            raise startup.usage_error(f"run {self.run_id} already exists in {self.run_dir.parent}; pick another --benchloop-run-id") from None
        from benchloop.resume import lock_run

        self.lock = lock_run(self.run_dir)  # a fresh directory: nobody else holds it
        self.meta = startup.new_meta(s, run_id=self.run_id, remote=self.remote, model_facts=facts, engine_info=engine_info, machine=probe.result())
        self.probe_ms = probe.elapsed_ms
        self._save_meta()
        self.marks["started"] = time.perf_counter()

    def _reopen(self):
        from benchloop import __version__
        from benchloop.artifact import utcnow
        from benchloop.resume import RunLocked, lock_run, reopen_writer

        r = self.resume
        self.run_dir = r.dir
        self.run_id = r.meta.get("run_id") or r.dir.name
        try:
            self.lock = lock_run(self.run_dir)
        except RunLocked as exc:
            raise startup.usage_error(str(exc)) from None
        self.writer = reopen_writer(self.run_dir)
        self.meta = dict(r.meta)
        entry = {"at": utcnow(), "finished_before": len(r.done), "planned": len(self.plan_keys), "benchloop_version": __version__}
        if r.overrides:
            entry["changed"] = {k: (safe_endpoint(v) if k == "endpoint" else v) for k, v in r.overrides.items() if k != "runs_dir"}
        self.meta["resumed"] = [*(self.meta.get("resumed") or []), entry]
        self.meta.pop("manifest_hash", None)
        self.meta.pop("manifest", None)
        self._save_meta()

    def handover(self) -> dict:
        """What every worker needs from the controller, as plain data."""
        return {"endpoint": self.endpoint, "run_id": self.run_id, "run_deadline_at": self.run_deadline_at, "done": sorted(self.done)}

    def secret_values(self) -> list[str]:
        """Fixed once the endpoint is known: worked out once, not per record."""
        cached = getattr(self, "_secrets", None)
        if cached is None or cached[0] != self.endpoint:
            cached = self._secrets = (self.endpoint, startup.secret_values(self.settings, self.endpoint))
        return cached[1]

    def _save_meta(self):
        from benchloop.artifact import redact

        self.writer.write_meta(redact(self.meta, self.secret_values()))

    # ---- plan -------------------------------------------------------------------------
    def _suites(self, names):
        """Each task file as this process already loaded and validated it: the worker
        registered beside the controller holds them (loading one again is a YAML parse
        and every checker's ``validate``, ~10 ms a suite)."""
        worker = self.config.pluginmanager.get_plugin("benchloop-worker")
        if worker is not None:
            return {n: worker.suite(n) for n in names}
        from benchloop.tasks import load_suite

        return {n: load_suite(n) for n in names}

    def _manifest(self, keys) -> dict:
        """The manifest of a set of (suite, task id) keys, built once per distinct set
        (the plan and the finished run usually name the same tasks)."""
        keys = frozenset(keys)
        cache = getattr(self, "_manifests", None)
        if cache is None:
            cache = self._manifests = {}
        if keys not in cache:
            from benchloop.receipts import build_manifest

            t = time.perf_counter()
            cache[keys] = build_manifest(keys, self._suites({s for s, _ in keys}), harness=self.settings.harness, max_tokens=self.settings.max_tokens)
            self.spent["manifest"] = self.spent.get("manifest", 0.0) + time.perf_counter() - t
        return cache[keys]

    def _write_plan(self):
        """Record in meta.json the manifest of every task this run will run, before the
        first one starts: what ``--resume`` needs after a kill -9 (no run.json then)."""
        if self.writer is None or self.resume is not None or "plan" in self.meta or not self.expected:
            return
        from benchloop.resume import make_plan

        order = list(dict.fromkeys(s for s, _ in self.expected.values()))
        self.meta["plan"] = make_plan(self._manifest(set(self.expected.values())), order)
        self._save_meta()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        """xdist: workers share the controller's engine and run id."""
        node.workerinput["benchloop"] = self.handover()

    def pytest_collection_finish(self, session):
        for item in session.items:
            task = getattr(getattr(item, "callspec", None), "params", {}).get("task")
            if isinstance(task, dict) and task.get("suite"):
                self.expected[item.nodeid] = (task["suite"], task["id"])
        self._write_plan()
        self.marks["collected"] = time.perf_counter()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        from benchloop.catalog import SUITES

        for nodeid in ids:
            m = NODEID.search(nodeid)
            if m and m.group("suite") in SUITES:
                self.expected[nodeid] = (m.group("suite"), m.group("task"))
        self._write_plan()

    # ---- records in -------------------------------------------------------------------
    def pytest_runtest_logreport(self, report):
        raw = getattr(report, "benchloop_record", None)
        if not raw:
            return
        from benchloop.artifact import record_line, redact

        t = time.perf_counter()
        self.marks.setdefault("first_task_done", t)
        self.marks["last_task_done"] = t
        rec = redact(json.loads(raw) if isinstance(raw, str) else dict(raw), self.secret_values())  # the one place a record is redacted
        rec["nodeid"] = report.nodeid
        try:
            line = record_line(rec)
        except TypeError:  # keys of mixed types (1 and "1") cannot be sorted: as JSON they are all text
            rec = json.loads(json.dumps(rec))
            line = record_line(rec)
        self.lines.append(line)
        self.model_wait_s += (rec.get("model_wait_ms") or rec.get("latency_ms") or 0) / 1000.0
        if self.writer is not None:
            self.writer.append_line(line)
        self.spent["keep_records"] = self.spent.get("keep_records", 0.0) + time.perf_counter() - t
        for fn in self.listeners:
            try:
                fn(rec)
            except Exception:  # a display problem must not lose a measurement
                pass

    def pytest_keyboard_interrupt(self, excinfo):
        self.interrupted = True

    # ---- finish -----------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if self.writer is not None:
            self.finish(interrupted=self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED)

    def finish(self, *, interrupted: bool = False):
        from benchloop.artifact import assemble_run, redact

        if self.writer is None or self.run is not None:
            return
        if not self.lines and not self.expected and self.resume is None:
            # nothing was measured (usage or collection error): leave no empty run behind
            import shutil

            self.writer.finish({})
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.writer = None
            return
        records = self.prior_records + [json.loads(line) for line in self.lines]
        planned = set(self.expected.values()) | self.plan_keys
        keys = planned | {(r["suite"], r["task_id"]) for r in records if r.get("suite") and r.get("task_id")}
        now = time.perf_counter()
        run = assemble_run(self.meta, records, planned=planned, manifest=self._manifest(keys), interrupted=interrupted, wall_s=now - self.t0, timings_ms=self._timings(now))
        self.run = redact(run, self.secret_values())
        self.run_path = self.writer.finish(self.run)

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
        for k, v in self.spent.items():  # durations, summed over the session
            out[k] = round(1000 * v, 1)
        return out

    def pytest_terminal_summary(self, terminalreporter):
        if self.run is None:
            return
        from benchloop.fmt import num as fmt

        sc = self.run["scores"]
        tr = terminalreporter
        tr.write_sep("=", "BenchLoop")
        tr.write_line(f"overall {fmt(sc['overall'])}  quality {fmt(sc['quality'])}  speed {fmt(sc['speed'])}  reliability {fmt(sc['reliability'])}  ({sc['formula']})")
        errors = sc.get("errors") or {}
        if errors.get("count"):
            tr.write_line(f"  errors: {errors['count']} tasks ({fmt(errors.get('rate'))}%), counted as not passed")
        for name, s in sc["suites"].items():
            ci = s.get("ci95") or [None, None]
            tr.write_line(f"  {name:<15} {fmt(s['score']):>6}  n={s['n']}  95% CI [{fmt(ci[0])}, {fmt(ci[1])}]")
        tr.write_line(f"status {self.run['status']}; run directory: {self.run_dir}")

    def pytest_unconfigure(self, config):
        if self._sigterm_prev is not None:
            import signal

            signal.signal(signal.SIGTERM, self._sigterm_prev)
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
