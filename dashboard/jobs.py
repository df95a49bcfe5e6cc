"""Benchmarks started from the browser: a ``benchloop run`` subprocess per job.

Why a subprocess and not an in-process run: a benchmark is the same code path as the
CLI (pytest, xdist, the embedded engine), a crash or a hung native call cannot take the
dashboard down, and cancelling is a signal to a process group. Progress is read from the
run's own ``tasks.jsonl`` (appended as each task finishes), so what the browser sees is
exactly what the artifact holds; it goes to the browser as Server-Sent Events.

Jobs outlive the dashboard: the job list is kept in ``<runs dir>/.jobs/jobs.json``
(public settings only) and read back on start; a benchmark whose process still runs is
followed again, one that died with the old server is settled from its artifact. One
benchmark runs at a time (a second Start is refused with 409 while one runs), so two
runs never share a GPU and distort each other's speed.

Secrets: an API key given for a remote endpoint is handed to the subprocess in its
environment (``BENCHLOOP_API_KEY``) only: never on its command line, never in the job
record, never in a log line written here.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchloop.artifact import new_run_id, utcnow, valid_run_id
from benchloop.dashboard.jobspec import JobBusy, JobError, build_argv, build_sweep_argv, expected_total, runnable_suites, validate_spec  # noqa: F401  (re-exported)

MAX_LOG_TAIL = 4000


JOBS_FILE = "jobs.json"


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
    pid: int | None = None
    kind: str = "run"  # run: a `benchloop run`; sweep: a `benchloop sweep` (run_id is the sweep id)
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / self.run_id

    @property
    def sweep_json(self) -> Path:
        return Path(self.runs_dir) / ".sweeps" / self.run_id / "sweep.json"

    def sweep_doc(self) -> dict | None:
        try:
            doc = json.loads(self.sweep_json.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        return doc if isinstance(doc, dict) and isinstance(doc.get("cells"), list) else None

    def running_cells(self) -> set[str]:
        """The run ids of a running sweep's cells that run now."""
        doc = self.sweep_doc() if self.kind == "sweep" and self.state == "running" else None
        return {c["run_id"] for c in (doc or {}).get("cells") or [] if isinstance(c, dict) and c.get("status") == "running" and isinstance(c.get("run_id"), str)}

    def saved(self) -> dict:
        """What jobs.json keeps (no key was ever part of a job; a key written into an
        endpoint URL, ``http://u:KEY@host`` or ``?api-key=``, is redacted, as in run.json)."""
        from benchloop.artifact import redact
        from benchloop.providers.base import endpoint_secrets

        urls = [self.spec.get("endpoint")] + [m.get("endpoint") for m in self.spec.get("models") or [] if isinstance(m, dict)]
        secrets = [x for u in urls if isinstance(u, str) for x in endpoint_secrets(u)]
        return redact({k: getattr(self, k) for k in ("run_id", "spec", "argv", "total", "log_path", "started_at", "ended_at", "returncode", "state", "message", "cancel_requested", "pid", "kind")}, secrets)

    def public(self) -> dict:
        if self.kind == "sweep":  # progress in cells, from sweep.json
            doc = self.sweep_doc() or {}
            cells = [c for c in doc.get("cells") or [] if isinstance(c, dict)]
            done = sum(1 for c in cells if c.get("status") in ("complete", "incomplete", "failed"))
            return {"run_id": self.run_id, "kind": "sweep", "spec": self.spec, "total": len(cells) or self.total, "started_at": self.started_at, "ended_at": self.ended_at,
                    "returncode": self.returncode, "state": self.state, "message": self.message, "done": done}
        return {
            "kind": "run",
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


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists (a zombie counts as gone)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:  # Linux: a zombie has exited already
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


class JobManager:
    """Starts, tracks and cancels benchmark subprocesses (one per run id)."""

    def __init__(self, runs_dir: str | Path, *, grace_s: float = 8.0):
        self.runs_dir = str(Path(runs_dir).resolve())
        self.jobs: dict[str, Job] = {}
        self.grace_s = grace_s
        self._lock = threading.Lock()
        self._restore()

    # ---- the job list on disk ----------------------------------------------------
    def _save(self) -> None:
        from benchloop.artifact import write_json_atomic

        with self._lock:
            data = {"version": 1, "jobs": [j.saved() for j in sorted(self.jobs.values(), key=lambda j: j.started_at)][-200:]}
        try:
            write_json_atomic(self.log_dir() / JOBS_FILE, data)
        except OSError:  # a read-only runs dir: jobs live in memory only
            pass

    def _restore(self) -> None:
        """Read jobs.json back: a job whose process still runs is followed again; one that
        died with the previous server is settled from its run's artifact."""
        try:
            data = json.loads((Path(self.runs_dir) / ".jobs" / JOBS_FILE).read_text(encoding="utf-8"))
            saved = [d for d in data.get("jobs") or [] if isinstance(d, dict)]
        except (OSError, ValueError, AttributeError):
            return
        for d in saved:
            try:
                if not valid_run_id(d.get("run_id") or "") or not isinstance(d.get("spec"), dict):
                    continue
                job = Job(run_id=d["run_id"], runs_dir=self.runs_dir, spec=d["spec"], argv=list(d.get("argv") or []), total=d.get("total"), log_path=str(d.get("log_path") or ""),
                          started_at=str(d.get("started_at") or ""), ended_at=d.get("ended_at"), returncode=d.get("returncode"), state=str(d.get("state") or "failed"),
                          message=str(d.get("message") or ""), cancel_requested=bool(d.get("cancel_requested")), pid=d.get("pid") if isinstance(d.get("pid"), int) else None,
                          kind="sweep" if d.get("kind") == "sweep" else "run")
            except (TypeError, ValueError):
                continue
            self.jobs[job.run_id] = job
            if job.state == "running":
                if job.pid and pid_alive(job.pid):
                    threading.Thread(target=self._watch, args=(job,), name=f"benchloop-job-{job.run_id}", daemon=True).start()
                else:
                    self._settle(job, None)
                    job.message = job.message if job.state != "failed" else "the dashboard stopped while this benchmark ran; " + (job.message or "no artifact")

    def busy(self) -> str | None:
        """The run (or sweep) id of the benchmark running now, if any."""
        running = sorted(rid for rid, j in list(self.jobs.items()) if j.state == "running")
        return running[0] if running else None

    def log_dir(self) -> Path:
        d = Path(self.runs_dir) / ".jobs"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def start(self, spec: dict, api_key: str | None = None) -> Job:
        """Start ``benchloop run`` for ``spec``; :class:`JobBusy` while another one runs."""
        running = self.busy()
        if running:
            raise JobBusy(running)
        run_id = new_run_id(spec["model"])
        assert valid_run_id(run_id)
        return self._launch(Job(run_id=run_id, runs_dir=self.runs_dir, spec=spec, argv=[], total=expected_total(spec), log_path=str(self.log_dir() / f"{run_id}.log")),
                            build_argv(spec, run_id, self.runs_dir), api_key)

    def start_sweep(self, spec: dict, matrix: str, api_key: str | None = None, *, cells: int | None = None) -> Job:
        """Start ``benchloop sweep`` on the matrix text (kept in ``.jobs/<sweep id>.yaml``);
        :class:`JobBusy` while another benchmark or sweep runs (one at a time: two would
        share the hardware and spoil each other's speed numbers)."""
        from benchloop.sweep_run import new_sweep_id

        running = self.busy()
        if running:
            raise JobBusy(running)
        from benchloop.providers.base import has_credentials

        if any(has_credentials(w.strip("'\",{}[]")) for w in matrix.split()):
            # the matrix file is on disk for the subprocess to read: a key goes in the API key field instead
            raise JobError("an endpoint URL carries a key or password; give the key in the API key field instead")
        sweep_id = new_sweep_id()
        assert valid_run_id(sweep_id)
        path = self.log_dir() / f"{sweep_id}.yaml"
        path.write_text(matrix, encoding="utf-8")
        job = Job(run_id=sweep_id, runs_dir=self.runs_dir, spec=spec, argv=[], total=cells, log_path=str(self.log_dir() / f"{sweep_id}.log"), kind="sweep")
        return self._launch(job, build_sweep_argv(spec, sweep_id, self.runs_dir, str(path)), api_key)

    def _launch(self, job: Job, argv: list[str], api_key: str | None) -> Job:
        run_id = job.run_id
        job.argv = argv[1:]
        env = dict(os.environ)
        env.pop("BENCHLOOP_API_KEY", None)
        if api_key:
            env["BENCHLOOP_API_KEY"] = api_key  # the subprocess's environment only
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("BENCHLOOP_PROGRESS", None)
        log = open(job.log_path, "wb")
        try:
            kw = {"start_new_session": True} if os.name == "posix" else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
            job.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, **kw)
        finally:
            log.close()
        job.pid = job.proc.pid
        with self._lock:
            self.jobs[run_id] = job
        self._save()
        threading.Thread(target=self._watch, args=(job,), name=f"benchloop-job-{run_id}", daemon=True).start()
        return job

    def _watch(self, job: Job) -> None:
        if job.proc is not None:
            rc = job.proc.wait()
        else:  # adopted from a previous server: poll its pid
            while pid_alive(job.pid):
                time.sleep(0.5)
            rc = None
        self._settle(job, rc)
        self._save()

    def _settle(self, job: Job, rc: int | None) -> None:
        """The job's final state, from its run.json (or the log tail when there is none)."""
        job.returncode = rc
        job.ended_at = job.ended_at or utcnow()
        status = None
        rj = job.run_dir / "run.json"
        if job.kind == "sweep":
            status = (job.sweep_doc() or {}).get("status")
            status = status if status in ("complete", "incomplete") else None
        elif rj.exists():
            try:
                status = json.loads(rj.read_text(encoding="utf-8")).get("status")
            except (OSError, ValueError, AttributeError):
                status = None
        if job.cancel_requested:
            job.state = "cancelled"
            job.message = "cancelled; the run keeps the tasks it finished and says incomplete"
        elif status in ("complete", "incomplete"):
            job.state = status
            job.message = f"{job.kind} {status}"
        else:
            job.state = "failed"
            job.message = self.log_tail(job) or (f"benchloop {job.kind} exited with status {rc}" if rc is not None else f"benchloop {job.kind} ended without an artifact")

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
        """Run ids running now: benchmark jobs, and the cells a running sweep runs."""
        out = set()
        for rid, j in list(self.jobs.items()):
            if j.state == "running":
                out |= j.running_cells() if j.kind == "sweep" else {rid}
        return out

    def cancel(self, run_id: str) -> Job | None:
        """Ctrl-C first (pytest finishes the session and writes an ``incomplete``
        artifact), then SIGTERM, then SIGKILL, each to the whole process group."""
        job = self.jobs.get(run_id)
        if job is None or job.state != "running":
            return job
        job.cancel_requested = True
        self._save()
        if job.proc is not None:
            threading.Thread(target=self._stop, args=(job,), daemon=True).start()
        elif job.pid and os.name == "posix":  # adopted: signal its process group
            try:
                os.killpg(job.pid, signal.SIGINT)
            except OSError:
                pass
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
