"""Continue an interrupted run (Ctrl-C, kill -9, power loss) in its own directory.

Why it can: ``tasks.jsonl`` is appended and fsynced as each task finishes, and
``meta.json`` holds the run's settings and, once collection is done, its *plan* (the
manifest of every task it set out to run). Resuming re-runs only the planned tasks that
have no result, with the stored settings, and refuses when the task files or checkers
changed since (the finished half and the new half would not measure the same thing).

The API key is never stored, so it comes again from ``--api-key`` / the environment.
Settings that change what is measured cannot be changed on resume; the endpoint, the
timeouts, retries and deadlines can (a restarted server may listen elsewhere). The
whole-run ``--deadline`` bounds one invocation, so it is not carried over.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from benchloop.errors import BenchLoopError

NOT_RUN = "not_run"  # error_kind of a task recorded without running (run deadline)
# settings a resume may change: they decide how patiently we talk to the server, not what is measured
OVERRIDABLE = ("endpoint", "timeout", "retries", "task_deadline", "deadline", "runs_dir")


class ResumeError(BenchLoopError, ValueError):
    """Why a run cannot be resumed, in one line that names the fix."""


@dataclass
class Resume:
    dir: Path
    meta: dict
    plan: dict
    settings: object
    prior: list = field(default_factory=list)  # the finished records, one per task
    done: set = field(default_factory=set)  # {(suite, task_id)} with a result
    overrides: dict = field(default_factory=dict)

    @property
    def planned(self) -> set:
        from benchloop.receipts import manifest_keys

        return manifest_keys(self.plan.get("manifest") or {})


def finished(records: list[dict]) -> list[dict]:
    """The last record of each task, unless that record says the task never ran."""
    from benchloop.artifact import order_tasks

    return [r for r in order_tasks(records) if r.get("error_kind") != NOT_RUN and r.get("suite") and r.get("task_id")]


def find_run_dir(ref: str, runs_root: str | os.PathLike) -> Path:
    from benchloop.artifact import RunNotFound, resolve_run

    p = Path(ref)
    if p.is_dir() and (p / "meta.json").is_file():  # killed before its first task: meta.json only
        return p.resolve()
    try:
        return resolve_run(str(ref), runs_root).resolve()
    except RunNotFound as exc:
        raise ResumeError(str(exc)) from None


def read_meta(run_dir: Path) -> dict:
    try:
        meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResumeError(f"{run_dir} has no meta.json, so it is not a BenchLoop run that can be resumed") from None
    except ValueError:
        raise ResumeError(f"{run_dir}/meta.json is corrupt; this run cannot be resumed, start a new one") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("settings"), dict):
        raise ResumeError(f"{run_dir}/meta.json holds no settings; this run cannot be resumed, start a new one")
    return meta


def settings_for_resume(meta: dict, given: dict, *, api_key: str | None = None):
    """The run's stored settings, with the overridable ones replaced by ``given``
    (option name -> raw value, None = not given). A non-overridable setting given with a
    different value is refused: resume must measure what the run started measuring."""
    from benchloop.options import OPTIONS, OptionError, Settings, convert, validate

    stored = dict(meta["settings"])
    known = {f.name for f in fields(Settings)}
    merged = {k: v for k, v in stored.items() if k in known and k != "api_key"}
    merged["deadline"] = None  # a whole-run deadline bounds one invocation; give it again to bound the resume
    overrides = {}
    for name, _h, _d, kind in OPTIONS:
        key = name.replace("-", "_")
        raw = given.get(name)
        if raw in (None, "", []) or kind == "secret":
            continue
        try:
            value = convert(name, kind, raw)
        except OptionError as exc:
            raise ResumeError(str(exc)) from None
        if key in OVERRIDABLE:
            if value != merged.get(key):
                overrides[key] = value
            merged[key] = value
        elif key == "run_id" and value == meta.get("run_id"):
            continue
        elif isinstance(value, list) and sorted(value) == sorted(merged.get(key) or []):
            continue  # the same task ids, in any order
        elif value != merged.get(key) and not (isinstance(value, list) and not value and not merged.get(key)):
            raise ResumeError(f"run {meta.get('run_id')} was made with --{name}={merged.get(key)!r}; resume keeps the run's settings (drop --{name}={value!r} or start a new run)")
    if stored.get("endpoint_credentials") and "endpoint" not in overrides:
        raise ResumeError(f"run {meta.get('run_id')} reached its endpoint with credentials in the URL, which are never stored; resume with the endpoint again (--endpoint / --benchloop-endpoint URL)")
    if given.get("remote") is not None and given.get("remote") != stored.get("remote"):
        raise ResumeError(f"run {meta.get('run_id')} was made with remote={stored.get('remote')!r}; resume keeps the run's settings")
    merged["run_id"] = meta.get("run_id") or merged.get("run_id")
    merged["api_key"] = api_key
    s = Settings(**merged)
    try:
        validate(s)
    except OptionError as exc:
        raise ResumeError(str(exc)) from None
    return s, overrides


def open_resume(ref: str, given: dict, *, runs_root: str | None = None, api_key: str | None = None, check_manifest: bool = True) -> Resume:
    """Everything a resumed session needs, or a ResumeError saying why not.

    ``check_manifest``: recompute the plan's manifest from the current task files and
    checkers and refuse on any difference (the controller does; workers trust it).
    """
    from benchloop.artifact import read_tasks_jsonl
    from benchloop.options import runs_dir

    root = runs_root or runs_dir(given=given.get("runs-dir"))
    run_dir = find_run_dir(ref, root)
    meta = read_meta(run_dir)
    rid = meta.get("run_id") or run_dir.name
    rj = run_dir / "run.json"
    if rj.exists():
        try:
            status = json.loads(rj.read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError, AttributeError):
            status = None
        if status == "complete":
            raise ResumeError(f"run {rid} is already complete; nothing to resume")
    plan = meta.get("plan")
    if not isinstance(plan, dict) or not (plan.get("manifest") or {}).get("suites"):
        raise ResumeError(f"run {rid} stopped before its task list was recorded (no task had run); start a new run instead")
    settings, overrides = settings_for_resume(meta, given, api_key=api_key)
    if check_manifest:
        why = plan_changed(plan, settings)
        if why:
            raise ResumeError(f"cannot resume {rid}: the tasks changed since it started ({why}); start a new run")
    prior = finished(read_tasks_jsonl(run_dir / "tasks.jsonl"))
    res = Resume(dir=run_dir, meta=meta, plan=plan, settings=settings, overrides=overrides)
    planned = res.planned
    res.prior = [r for r in prior if (r["suite"], r["task_id"]) in planned]
    res.done = {(r["suite"], r["task_id"]) for r in res.prior}
    return res


def plan_changed(plan: dict, settings) -> str | None:
    """None if the planned tasks still hash to the plan's manifest with today's files."""
    from benchloop.receipts import build_manifest, manifest_diff, manifest_keys
    from benchloop.tasks import TaskFileError, load_suite

    body = plan.get("manifest") or {}
    keys = manifest_keys(body)
    suites = {}
    for name in sorted({s for s, _ in keys}):
        try:
            suites[name] = load_suite(name)
        except TaskFileError as exc:
            return str(exc)
    known = {(n, t["id"]) for n, s in suites.items() for t in s["tasks"]}
    gone = sorted(f"{s}/{t}" for s, t in keys - known)
    if gone:
        return f"{len(gone)} planned task(s) no longer exist, e.g. {gone[0]}"
    now = build_manifest(keys, suites, harness=settings.harness, max_tokens=settings.max_tokens)
    if now["hash"] == plan.get("manifest_hash"):
        return None
    return manifest_diff(body, now["body"], old_name="run", new_name="now") or "manifest hash differs"


def make_plan(manifest: dict, suites_order: list[str]) -> dict:
    return {"manifest_hash": manifest["hash"], "manifest": manifest["body"], "suites": list(suites_order)}


def truncate_torn_tail(path: Path) -> int:
    """Cut a half-written last line (kill -9 mid-write) so the next append starts clean.
    Returns the number of bytes removed."""
    try:
        with open(path, "rb+") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size == 0:
                return 0
            f.seek(-1, os.SEEK_END)
            if f.read(1) == b"\n":
                return 0
            back = min(size, 1 << 20)
            pos = size
            while pos > 0:
                step = min(back, pos)
                f.seek(pos - step)
                chunk = f.read(step)
                i = chunk.rfind(b"\n")
                if i >= 0:
                    keep = pos - step + i + 1
                    f.truncate(keep)
                    return size - keep
                pos -= step
            f.truncate(0)
            return size
    except FileNotFoundError:
        return 0


class RunLocked(RuntimeError):
    pass


def lock_run(run_dir: Path):
    """An exclusive advisory lock on the run directory for this process's lifetime, so a
    resume cannot write into a run that is still going. The kernel drops it when the
    process dies (kill -9 included). Returns the open file (keep it) or None where
    ``fcntl`` does not exist."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the run id is still unique
        return None
    fh = open(run_dir / ".lock", "a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise RunLocked(f"run {run_dir.name} is being written by another benchloop process; wait for it or stop it first") from None
    return fh


def reopen_writer(run_dir: Path):
    """A RunWriter appending to an existing run's tasks.jsonl (torn tail cut first)."""
    from benchloop.artifact import RunWriter

    class _Reopened(RunWriter):
        def __init__(self, d):  # noqa: D401 - same object, existing directory
            self.dir = Path(d)
            self.tasks_path = self.dir / "tasks.jsonl"
            truncate_torn_tail(self.tasks_path)
            self._fh = open(self.tasks_path, "a", encoding="utf-8")

    return _Reopened(run_dir)
