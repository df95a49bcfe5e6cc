"""Benchmarks started from the browser: a ``benchloop run`` subprocess per job.

Why a subprocess and not an in-process run: a benchmark is the same code path as the
CLI (pytest, xdist, the embedded engine), a crash or a hung native call cannot take the
dashboard down, and cancelling is a signal to a process group. Progress is read from the
run's own ``tasks.jsonl`` (appended as each task finishes), so what the browser sees is
exactly what the artifact holds; it goes to the browser as Server-Sent Events.

Secrets: an API key given for a remote endpoint is handed to the subprocess in its
environment (``BENCHLOOP_API_KEY``) only: never on its command line, never in the job
record, never in a log line written here.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchloop.artifact import new_run_id, utcnow, valid_run_id
from benchloop.catalog import PROFILES, PROVIDERS, SUITES

SUITE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TASK_ID = re.compile(r"^[a-z]{2,3}-\d{3}$")
MAX_LOG_TAIL = 4000


class JobError(ValueError):
    """A bad job request; the message is shown to the user as is."""


@dataclass
class Job:
    run_id: str
    runs_dir: str
    spec: dict  # public settings only: no key
    argv: list[str]
    total: int | None
    log_path: str
    started_at: str = field(default_factory=utcnow)
    ended_at: str | None = None
    returncode: int | None = None
    state: str = "running"  # running | complete | incomplete | failed | cancelled
    message: str = ""
    cancel_requested: bool = False
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / self.run_id

    def public(self) -> dict:
        return {
            "run_id": self.run_id,
            "spec": self.spec,
            "total": self.total,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "returncode": self.returncode,
            "state": self.state,
            "message": self.message,
            "done": len(read_records(self.run_dir / "tasks.jsonl")[0]),
        }


def read_records(path: Path, offset: int = 0) -> tuple[list[dict], int]:
    """Complete JSON lines from ``offset``; a line still being written is left for later."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    out = []
    for line in data[: end + 1].splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out, offset + end + 1


def task_event(rec: dict) -> dict:
    """What the progress view needs about one finished task (no outputs)."""
    err = rec.get("error")
    return {
        "suite": str(rec.get("suite") or "")[:60],
        "task_id": str(rec.get("task_id") or "")[:60],
        "score": rec.get("score") if isinstance(rec.get("score"), (int, float)) else None,
        "passed": bool(rec.get("passed")),
        "error": None if not err else str(err)[:300],
        "latency_ms": rec.get("latency_ms") if isinstance(rec.get("latency_ms"), (int, float)) else None,
        "completion_tokens": rec.get("completion_tokens") if isinstance(rec.get("completion_tokens"), int) else None,
    }


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=True)}\n\n"


SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no caching, no proxy buffering


def validate_spec(body: dict, *, available_suites: list[str], available_harnesses: list[str]) -> tuple[dict, str | None]:
    """Check a start request and return (public spec, api key). Every value ends up as
    one ``--flag=value`` argument, so a value cannot smuggle in another flag."""
    if not isinstance(body, dict):
        raise JobError("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip() or len(model) > 300 or "\n" in model:
        raise JobError("model is required (a model name, up to 300 characters)")
    provider = body.get("provider") or "ollama"
    if provider not in PROVIDERS:
        raise JobError(f"provider must be one of {', '.join(PROVIDERS)}")
    endpoint = body.get("endpoint") or None
    if provider != "llamacpp":
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")) or len(endpoint) > 500 or any(c.isspace() for c in endpoint):
            raise JobError("endpoint must be an http:// or https:// URL")
    else:
        endpoint = None
    suites = body.get("suites") or []
    if isinstance(suites, str):
        suites = [s.strip() for s in suites.split(",") if s.strip()]
    if not isinstance(suites, list) or not all(isinstance(s, str) and SUITE_NAME.match(s) for s in suites):
        raise JobError("suites must be a list of suite names")
    bad = [s for s in suites if s not in available_suites]
    if bad:
        raise JobError(f"unknown suite {bad[0]!r}; available: {', '.join(available_suites)}")
    profile = body.get("profile") or None
    if profile is not None and profile not in PROFILES:
        raise JobError(f"profile must be one of {', '.join(PROFILES)}")
    harness = body.get("harness") or "raw"
    if harness not in available_harnesses:
        raise JobError(f"unknown harness {harness!r}; available: {', '.join(available_harnesses)}")
    tasks = body.get("tasks") or []
    if isinstance(tasks, str):
        tasks = [t.strip() for t in tasks.split(",") if t.strip()]
    if not isinstance(tasks, list) or len(tasks) > 500 or not all(isinstance(t, str) and TASK_ID.match(t) for t in tasks):
        raise JobError("tasks must be task ids like rm-001")
    spec = {"model": model.strip(), "provider": provider, "endpoint": endpoint, "suites": suites, "profile": profile, "harness": harness, "tasks": tasks}
    for key, lo, hi in (("max_tokens", 1, 65536), ("parallel", 0, 16)):
        v = body.get(key)
        if v in (None, ""):
            continue
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise JobError(f"{key} must be a whole number from {lo} to {hi}")
        spec[key] = v
    v = body.get("timeout")
    if v not in (None, ""):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 3600:
            raise JobError("timeout must be a number of seconds up to 3600")
        spec["timeout"] = float(v)
    if body.get("remote") in (True, False):
        spec["remote"] = body["remote"]
    key = body.get("api_key") or None
    if key is not None and (not isinstance(key, str) or len(key) > 4096 or "\n" in key):
        raise JobError("api_key must be a single line of text")
    return spec, key


def build_argv(spec: dict, run_id: str, runs_dir: str) -> list[str]:
    argv = [sys.executable, "-m", "benchloop", "run", f"--model={spec['model']}", f"--provider={spec['provider']}", f"--runs-dir={runs_dir}", f"--run-id={run_id}", f"--harness={spec['harness']}"]
    shown = {"suites": ",".join, "timeout": lambda v: f"{v:g}"}  # how a spec value is written on the flag
    for key in ("endpoint", "suites", "profile", "max_tokens", "parallel", "timeout"):
        if spec.get(key):
            argv.append(f"--{key.replace('_', '-')}={shown.get(key, str)(spec[key])}")
    argv += [f"--task={t}" for t in spec.get("tasks") or []]
    if spec.get("remote") is True:
        argv.append("--remote")
    elif spec.get("remote") is False:
        argv.append("--local")
    return argv


def runnable_suites() -> list[str]:
    """The catalog's suites whose pytest module ships in this build (what ``benchloop
    run`` can run), in catalog order."""
    from benchloop.paths import suites_dir

    d = suites_dir()
    return [s for s in SUITES if (d / f"test_{s}.py").is_file()]


def expected_total(spec: dict) -> int | None:
    """How many tasks the run will have, so the progress bar has an end (best effort)."""
    try:
        from benchloop.tasks import load_suite, select

        suites = spec.get("suites") or runnable_suites()
        n = 0
        for s in suites:
            n += len(select(load_suite(s)["tasks"], profile=spec.get("profile") or "full", only=spec.get("tasks") or None))
        return n
    except Exception:  # the subprocess reports real problems itself
        return None


class JobManager:
    """Starts, tracks and cancels benchmark subprocesses (one per run id)."""

    def __init__(self, runs_dir: str | Path, *, grace_s: float = 8.0):
        self.runs_dir = str(Path(runs_dir).resolve())
        self.jobs: dict[str, Job] = {}
        self.grace_s = grace_s
        self._lock = threading.Lock()

    def log_dir(self) -> Path:
        d = Path(self.runs_dir) / ".jobs"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def start(self, spec: dict, api_key: str | None = None) -> Job:
        run_id = new_run_id(spec["model"])
        assert valid_run_id(run_id)
        argv = build_argv(spec, run_id, self.runs_dir)
        env = dict(os.environ)
        env.pop("BENCHLOOP_API_KEY", None)
        if api_key:
            env["BENCHLOOP_API_KEY"] = api_key  # the subprocess's environment only
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("BENCHLOOP_PROGRESS", None)
        log_path = self.log_dir() / f"{run_id}.log"
        job = Job(run_id=run_id, runs_dir=self.runs_dir, spec=spec, argv=argv[1:], total=expected_total(spec), log_path=str(log_path))
        log = open(log_path, "wb")
        try:
            kw = {"start_new_session": True} if os.name == "posix" else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
            job.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, **kw)
        finally:
            log.close()
        with self._lock:
            self.jobs[run_id] = job
        threading.Thread(target=self._watch, args=(job,), name=f"benchloop-job-{run_id}", daemon=True).start()
        return job

    def _watch(self, job: Job) -> None:
        rc = job.proc.wait()
        job.returncode = rc
        job.ended_at = utcnow()
        status = None
        rj = job.run_dir / "run.json"
        if rj.exists():
            try:
                status = json.loads(rj.read_text(encoding="utf-8")).get("status")
            except (OSError, ValueError, AttributeError):
                status = None
        if job.cancel_requested:
            job.state = "cancelled"
            job.message = "cancelled; the run keeps the tasks it finished and says incomplete"
        elif status in ("complete", "incomplete"):
            job.state = status
            job.message = f"run {status}"
        else:
            job.state = "failed"
            job.message = self.log_tail(job) or f"benchloop run exited with status {rc}"

    def log_tail(self, job: Job) -> str:
        """The last lines the subprocess printed (for a failed start: its one-line reason)."""
        from benchloop.report import safe_text

        try:
            with open(job.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - MAX_LOG_TAIL))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        picked = [ln for ln in lines if ln.startswith(("benchloop:", "ERROR", "error"))] or lines[-3:]
        return safe_text(" ".join(picked[-3:]), 600)

    def get(self, run_id: str) -> Job | None:
        return self.jobs.get(run_id)

    def list(self) -> list[dict]:
        with self._lock:
            jobs = list(self.jobs.values())
        return [j.public() for j in sorted(jobs, key=lambda j: j.started_at, reverse=True)]

    def active_ids(self) -> set[str]:
        return {rid for rid, j in list(self.jobs.items()) if j.state == "running"}

    def cancel(self, run_id: str) -> Job | None:
        """Ctrl-C first (pytest finishes the session and writes an ``incomplete``
        artifact), then SIGTERM, then SIGKILL, each to the whole process group."""
        job = self.jobs.get(run_id)
        if job is None or job.proc is None:
            return job
        if job.state != "running":
            return job
        job.cancel_requested = True
        threading.Thread(target=self._stop, args=(job,), daemon=True).start()
        return job

    def _stop(self, job: Job) -> None:
        proc = job.proc
        steps = [(signal.SIGINT, self.grace_s), (signal.SIGTERM, 5.0), (getattr(signal, "SIGKILL", signal.SIGTERM), 5.0)] if os.name == "posix" else [(signal.SIGTERM, 5.0)]
        for sig, wait in steps:
            if proc.poll() is not None:
                return
            try:
                if os.name == "posix":
                    os.killpg(proc.pid, sig)  # the group: pytest, xdist workers, engine
                else:  # pragma: no cover - Windows
                    proc.send_signal(signal.CTRL_BREAK_EVENT)
            except ProcessLookupError:
                return
            except OSError:
                proc.terminate()
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def shutdown(self) -> None:
        """Server stopping: cancel what still runs so no benchmark is orphaned."""
        for job in list(self.jobs.values()):
            if job.state == "running" and job.proc is not None and job.proc.poll() is None:
                job.cancel_requested = True
                try:
                    os.killpg(job.proc.pid, signal.SIGINT) if os.name == "posix" else job.proc.terminate()
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        for job in list(self.jobs.values()):
            if job.proc is not None:
                try:
                    job.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(job.proc.pid, signal.SIGKILL) if os.name == "posix" else job.proc.kill()
                    except OSError:
                        pass

    async def events(self, job: Job, *, poll_s: float = 0.25, heartbeat_s: float = 15.0):
        """SSE stream: ``start``, a ``task`` per finished task, ``progress``, then ``end``.
        Reads the run's tasks.jsonl, so a reconnecting browser replays from the start."""
        offset = 0
        done = 0
        yield sse("start", {"run_id": job.run_id, "total": job.total, "spec": job.spec, "started_at": job.started_at})
        last_beat = time.monotonic()
        while True:
            finished = job.state != "running"
            recs, offset = read_records(job.run_dir / "tasks.jsonl", offset)
            for rec in recs:
                done += 1
                yield sse("task", task_event(rec))
            if recs:
                yield sse("progress", {"done": done, "total": job.total})
            if finished:
                yield sse("end", {"run_id": job.run_id, "state": job.state, "returncode": job.returncode, "message": job.message, "done": done, "total": job.total})
                return
            if time.monotonic() - last_beat > heartbeat_s:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(poll_s)
