"""The run artifact: a directory per run holding ``tasks.jsonl`` (appended as each
task finishes, so a killed run keeps what it measured) and ``run.json`` (written at the
end, atomically). One format feeds the console report, ``benchloop score``, the
dashboard, compare and publishing.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets as _secrets
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

SCHEMA_VERSION = 1
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RunNotFound(LookupError):
    pass


def slug(text: str, n: int = 40) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.basename(str(text).rstrip("/")) or "model").strip("-.")
    return (s or "model")[:n]


def new_run_id(model: str) -> str:
    """Sortable by time, unique even for two runs started in the same second."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{slug(model, 32)}-{_secrets.token_hex(3)}"


def valid_run_id(run_id: str) -> bool:
    return bool(RUN_ID.match(run_id or "")) and ".." not in run_id


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def manifest(suites: dict[str, dict], *, extra: dict | None = None) -> dict:
    """What a score depends on: each suite's task file hash, checker version and the
    selected task ids, plus scoring versions. Equal hashes = comparable runs."""
    from benchloop.checkers import registry
    from benchloop.scoring import SCORING_VERSION, SPEED_FORMULA_VERSION

    body = {
        "scoring": SCORING_VERSION,
        "speed_formula": SPEED_FORMULA_VERSION,
        "suites": {
            name: {
                "task_file_sha256": info.get("sha256"),
                "checker": registry.version(name),
                "task_ids": sorted(info.get("task_ids") or []),
                "max_tokens": info.get("max_tokens"),
            }
            for name, info in sorted(suites.items())
        },
    }
    if extra:
        body.update(extra)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {"hash": digest, "body": body}


class RunWriter:
    """Appends task records as they come; writes run.json at the end.

    Durability without a disk wait per task: each record is written and flushed to the
    OS before ``append`` returns, so a killed process (Ctrl-C, SIGKILL, a crash) keeps
    every finished record; the fsync that also survives a power cut runs in a background
    thread (one fsync covers every record written before it starts), and ``finish``
    waits for it before ``run.json`` is written. On a disk where fsync takes 15 ms that
    was 15 ms added to every task.
    """

    def __init__(self, run_dir: str | Path):
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=False)
        self.tasks_path = self.dir / "tasks.jsonl"
        self._fh = open(self.tasks_path, "a", encoding="utf-8")

    def append(self, record: dict) -> None:
        self.append_line(record_line(record))

    def append_line(self, line: str) -> None:
        """One record already serialized by :func:`record_line` (no newline)."""
        self._fh.write(line + "\n")
        self._fh.flush()
        syncer = getattr(self, "_syncer", None)
        if syncer is None:
            syncer = self._syncer = Syncer(self._fh.fileno())
        syncer.request()

    def write_meta(self, meta: dict) -> None:
        """``meta.json`` holds the settings up front, so a killed run still says what it was."""
        write_json_atomic(self.dir / "meta.json", meta)

    def sync(self) -> None:
        """Block until every appended record is on disk."""
        syncer = getattr(self, "_syncer", None)
        if syncer is not None:
            syncer.close()
            self._syncer = None

    def finish(self, run: dict) -> Path:
        self.sync()
        self._fh.close()
        path = self.dir / "run.json"
        write_json_atomic(path, run)
        return path


def record_line(record: dict) -> str:
    """A task record as its ``tasks.jsonl`` line (without the newline)."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


class Syncer:
    """fsyncs one file descriptor from a daemon thread. ``request()`` returns at once and
    makes sure an fsync starts after it; ``close()`` waits until every request is covered."""

    def __init__(self, fd: int):
        import threading

        self.fd = fd
        self._cv = threading.Condition()
        self._wanted = self._done = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="benchloop-fsync", daemon=True)
        self._thread.start()

    def request(self) -> None:
        with self._cv:
            self._wanted += 1
            self._cv.notify_all()

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._wanted == self._done and not self._closing:
                    self._cv.wait()
                if self._wanted == self._done:
                    return
                target = self._wanted
            try:
                os.fsync(self.fd)
            except OSError:
                pass
            with self._cv:
                self._done = target
                self._cv.notify_all()

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._thread.join()


def json_text(data) -> str:
    """The text of an artifact file: a dict's top-level keys one per line, a top-level
    list's items (``tasks``) one per line, everything inside compact. Readable and
    diffable, and written by the C encoder: ``json.dump`` with ``indent`` always runs the
    pure-Python encoder, ten times slower on a run.json of a few hundred kB."""
    return "".join(json_chunks(data))


def json_chunks(data):
    """:func:`json_text` piece by piece (one task at a time), so a large run.json is
    written without first holding all of its text in memory."""
    enc = partial(json.dumps, sort_keys=True, ensure_ascii=False)

    def value(v):
        if isinstance(v, list) and v:
            for i, x in enumerate(v):
                yield ("[\n  " if i == 0 else ",\n  ") + enc(x)
            yield "\n ]"
        else:
            yield enc(v)

    if isinstance(data, dict) and data:
        for i, k in enumerate(sorted(data)):
            yield ("{\n " if i == 0 else ",\n ") + enc(k if isinstance(k, str) else enc(k)) + ": "
            yield from value(data[k])
        yield "\n}"
    else:
        yield from value(data)


def write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for chunk in json_chunks(data):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_tasks_jsonl(path: Path) -> list[dict]:
    """Records from tasks.jsonl; a torn last line (killed mid-write) is ignored."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    except FileNotFoundError:
        pass
    return out


def order_tasks(records: list[dict]) -> list[dict]:
    """One record per (suite, task_id), the last one written wins, in a stable order
    so the artifact does not depend on which xdist worker finished first."""
    latest = {}
    for r in records:
        latest[(r.get("suite") or "", r.get("task_id") or "")] = r
    return [latest[k] for k in sorted(latest)]


def build_run(meta: dict, records: list[dict], *, status: str, missing: list[str] | None = None, speed: dict | None = None) -> dict:
    from benchloop.scoring import score_run

    run = dict(meta)
    run["schema_version"] = SCHEMA_VERSION
    run["status"] = status
    run["finished_at"] = utcnow()
    run["tasks"] = order_tasks(records)
    run["missing_tasks"] = sorted(missing or [])
    if speed is not None:
        run["speed"] = speed
    run["scores"] = score_run(run)
    return run


def assemble_run(meta: dict, records: list[dict], *, planned: set, manifest: dict, interrupted: bool, wall_s: float, timings_ms: dict) -> dict:
    """``run.json`` from the start-up facts and every task record: the manifest, what is
    missing, the speed summary, the status and the scores. The controller calls this
    once at the end; ``benchloop score`` re-derives only the scores."""
    from benchloop.record import NOT_RUN

    got = {(r.get("suite"), r.get("task_id")) for r in records if r.get("error_kind") != NOT_RUN}
    missing = sorted(f"{s}/{t}" for (s, t) in planned if (s, t) not in got)
    meta = dict(meta)
    meta["manifest_hash"] = manifest["hash"]
    meta["manifest"] = manifest["body"]
    meta["wall_s"] = round(wall_s, 3)
    meta["timings_ms"] = timings_ms
    speed = None
    if any(r.get("suite") == "speed" for r in records):
        from benchloop.speed import aggregate

        speed = aggregate([r for r in records if r.get("suite") == "speed"], meta)
    status = "incomplete" if (interrupted or missing) else "complete"
    return build_run(meta, records, status=status, missing=missing, speed=speed)


def resolve_run(ref: str, runs_dir: str | Path) -> Path:
    """A run directory from an id, a unique id prefix, a directory or a run.json path."""
    p = Path(ref)
    if p.is_file() and p.name == "run.json":
        return p.parent
    if p.is_dir() and ((p / "run.json").exists() or (p / "tasks.jsonl").exists()):
        return p
    if not valid_run_id(ref):
        raise RunNotFound(f"{ref!r} is not a run id; list runs with: benchloop runs")
    root = Path(runs_dir)
    if (root / ref).is_dir():
        return root / ref
    matches = [d for d in root.glob(ref + "*") if d.is_dir()] if root.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise RunNotFound(f"{ref!r} matches {len(matches)} runs; give more of the id")
    raise RunNotFound(f"no run {ref!r} in {root}; list runs with: benchloop runs")


def load_run(ref: str, runs_dir: str | Path) -> dict:
    """run.json, or for a killed run, the run rebuilt from meta.json + tasks.jsonl."""
    d = resolve_run(ref, runs_dir)
    rj = d / "run.json"
    if rj.exists():
        try:
            return json.loads(rj.read_text(encoding="utf-8"))
        except ValueError:
            raise RunNotFound(f"{rj} is corrupt (not JSON); the task log {d / 'tasks.jsonl'} may still hold the results") from None
    meta = {}
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {"run_id": d.name}
    return build_run(meta, read_tasks_jsonl(d / "tasks.jsonl"), status="incomplete")


def list_runs(runs_dir: str | Path) -> list[dict]:
    root = Path(runs_dir)
    out = []
    if not root.is_dir():
        return out
    for d in sorted(root.iterdir()):
        if not d.is_dir() or d.name.startswith("."):  # .sweeps, .jobs: not runs
            continue
        row = {"run_id": d.name, "dir": str(d)}
        try:
            run = load_run(str(d), root)
            sc = run.get("scores") or {}
            row.update(
                status=run.get("status"),
                model=(run.get("model") or {}).get("name"),
                provider=run.get("provider"),
                harness=run.get("harness"),
                started_at=run.get("started_at"),
                overall=sc.get("overall"),
                quality=sc.get("quality"),
                speed=sc.get("speed"),
                reliability=sc.get("reliability"),
                suites=sorted((sc.get("suites") or {}).keys()),
                n_tasks=len(run.get("tasks") or []),
            )
        except Exception as exc:  # a broken run is listed as broken, never crashes the list
            row.update(status="broken", error=str(exc)[:200])
        out.append(row)
    return out


def redact(obj, secret_values: list[str]):
    """Replace every occurrence of each secret in every string, recursively."""
    secret_values = [s for s in secret_values if s and len(s) >= 4]
    if not secret_values:
        return obj

    def walk(x):
        if isinstance(x, str):
            for s in secret_values:
                if s in x:
                    x = x.replace(s, "[REDACTED]")
            return x
        if isinstance(x, dict):
            return {walk(k): walk(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        return x

    return walk(obj)


def elapsed_ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)
