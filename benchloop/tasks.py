"""Frozen task files: load, validate, select.

A suite's tasks live in ``tasks/<suite>.yaml``. Validation happens once, at collection,
and a broken file fails with one line naming the file, the task id and the field, so
nobody finds out from a half-run benchmark. The file's bytes are hashed into the run's
manifest: change a task and runs stop being comparable.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from benchloop.catalog import PROFILES
from benchloop.paths import tasks_dir

TASK_ID = re.compile(r"^[a-z]{2,3}-\d{3}$")


def task_messages(task: dict) -> list[dict]:
    """The conversation a task opens with: its ``messages``, or ``system`` + ``prompt``."""
    if task.get("messages"):
        return [dict(m) for m in task["messages"]]
    msgs = []
    if task.get("system"):
        msgs.append({"role": "system", "content": task["system"]})
    msgs.append({"role": "user", "content": task["prompt"]})
    return msgs


class TaskFileError(ValueError):
    """Invalid task file; str() is a single line that names file, task and field."""


def _fail(path, task_id, field_name, why):
    where = f"{Path(path).name}"
    if task_id:
        where += f" task {task_id}"
    raise TaskFileError(f"{where}: field '{field_name}' {why}")


def load_suite(suite: str, directory: Path | None = None) -> dict:
    """Load and validate ``<suite>.yaml``; returns {"suite", "path", "sha256", "defaults", "tasks"}."""
    path = Path(directory or tasks_dir()) / f"{suite}.yaml"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TaskFileError(f"{path.name}: no such task file; suites live in {path.parent}") from None
    digest = hashlib.sha256(raw).hexdigest()
    memo = _LOADED.get((suite, digest))
    if memo is not None:  # validated already in this process (the command, then the plugin)
        import json

        return dict(json.loads(memo), path=str(path))
    doc = parse_yaml(raw, digest, path)
    if not isinstance(doc, dict):
        _fail(path, None, "tasks", "is missing: the file must be a mapping with a 'tasks' list")
    if doc.get("suite") != suite:
        _fail(path, None, "suite", f"must be {suite!r}, found {doc.get('suite')!r}")
    tasks = doc.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        _fail(path, None, "tasks", "must be a non-empty list")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        _fail(path, None, "defaults", "must be a mapping")
    seen = set()
    for i, t in enumerate(tasks):
        if not isinstance(t, dict):
            _fail(path, f"#{i + 1}", "id", "is missing: each task must be a mapping")
        tid = t.get("id")
        if not isinstance(tid, str) or not TASK_ID.match(tid):
            _fail(path, tid or f"#{i + 1}", "id", "must look like 'rm-001' (letters, dash, three digits)")
        if tid in seen:
            _fail(path, tid, "id", "is a duplicate; task ids must be unique")
        seen.add(tid)
        if "prompt" in t and not isinstance(t["prompt"], str):
            _fail(path, tid, "prompt", "must be text")
        if suite != "speed":
            if not (isinstance(t.get("prompt"), str) and t["prompt"].strip()) and not t.get("messages"):
                _fail(path, tid, "prompt", "is missing or empty")
            for f in ("check", "reference", "wrong"):
                if f not in t:
                    _fail(path, tid, f, "is missing (every task ships a check, a reference answer and a wrong one)")
        prof = t.get("profiles", [])
        if not isinstance(prof, list) or any(p not in PROFILES for p in prof):
            _fail(path, tid, "profiles", f"must be a list drawn from {', '.join(PROFILES)}")
    from benchloop.checkers import registry

    checker = registry.get(suite)
    if checker is not None and hasattr(checker, "validate"):
        for t in tasks:
            problem = checker.validate(t)
            if problem:
                field_name, why = problem
                _fail(path, t["id"], field_name, why)
    for t in tasks:
        t.setdefault("suite", suite)
        if defaults.get("system") and "system" not in t and "messages" not in t:
            t["system"] = defaults["system"]
    loaded = {
        "suite": suite,
        "path": str(path),
        "sha256": digest,
        "defaults": defaults,
        "tasks": tasks,
    }
    try:
        import json

        text = json.dumps(loaded, ensure_ascii=False)
        if json.loads(text) == loaded:  # integer or boolean keys would come back as strings
            _LOADED[(suite, digest)] = text
    except (TypeError, ValueError, RecursionError):
        pass
    return loaded


PARSE_TAG = "y1"  # bump when the YAML loading changes: cached parses then stop matching
_LOADED: dict[tuple, str] = {}  # (suite, sha256) -> a validated load as JSON text, this process
_PARSED: dict[str, str] = {}  # sha256 of a task file -> its parse as JSON text, this process


def parse_yaml(raw: bytes, digest: str, path: Path):
    """A task file's YAML, parsed once per content: from this process's memo, else from
    ``$BENCHLOOP_HOME/cache/tasks/<sha256>.json``, else by PyYAML (then cached). Every
    call gets fresh objects (a JSON load, ~0.2 ms), so a caller may change its tasks.

    Why: a run parsed each file twice (the command checks the files before pytest starts,
    the plugin loads them again) and imported PyYAML for it; the frozen files change
    rarely, so their parse is reused across runs (issue 14). Only a parse that survives
    JSON unchanged is cached (YAML dates or integer keys would not), and a cache file is
    named by the content it was parsed from (and this BenchLoop's version), so an edited
    file never meets a stale parse. Validation runs on every load that does not find the
    same file already validated in this process (:data:`_LOADED`, which also keeps only
    what JSON gives back unchanged)."""
    import json
    import os

    text = _PARSED.get(digest)
    from benchloop import __version__

    cache = Path(_cache_dir(), f"{digest}-{PARSE_TAG}-{__version__}.json")
    if text is None:
        try:
            text = cache.read_text(encoding="utf-8")
            doc = json.loads(text)
        except (OSError, ValueError):
            text = None
        else:
            _PARSED[digest] = text
            return doc
    if text is not None:
        return json.loads(text)
    import yaml

    try:
        # libyaml's loader when present: the pure-Python one is most of a suite's load time
        doc = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise TaskFileError(f"{path.name}:{line} is not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax") from None
    try:
        text = json.dumps(doc, ensure_ascii=False)
        same = json.loads(text) == doc
    except (TypeError, ValueError, RecursionError):
        same = False
    if same:
        _PARSED[digest] = text
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only home: parse again next time
    return doc


def _cache_dir() -> str:
    import os

    from benchloop.paths import home

    return os.path.join(home(), "cache", "tasks")


def in_profile(task: dict, profile: str) -> bool:
    """full = every task; core = tasks marked core or quick; quick = tasks marked quick."""
    if profile == "full":
        return True
    prof = task.get("profiles") or []
    if profile == "core":
        return "core" in prof or "quick" in prof
    return "quick" in prof


def select(tasks: list[dict], *, profile: str = "full", only: list[str] | None = None) -> list[dict]:
    """Exact-id selection (``--task``) wins over the profile."""
    if only:
        wanted = set(only)
        return [t for t in tasks if t["id"] in wanted]
    return [t for t in tasks if in_profile(t, profile)]


def available_suites(directory: Path | None = None) -> list[str]:
    d = Path(directory or tasks_dir())
    return sorted(p.stem for p in d.glob("*.yaml"))


def suite_overview(directory: Path | None = None) -> list[dict]:
    """One row per task file, for ``benchloop suites`` and the dashboard: task ids, how
    many each profile runs, checker version, token budget; a broken file becomes a row
    with its one-line ``error`` instead of hiding the others."""
    from benchloop.checkers import registry

    rows = []
    for name in available_suites(directory):
        try:
            s = load_suite(name, directory)
        except TaskFileError as exc:
            rows.append({"suite": name, "error": str(exc)})
            continue
        row = {"suite": name, "task_ids": [t["id"] for t in s["tasks"]]}
        row.update({p: sum(1 for t in s["tasks"] if in_profile(t, p)) for p in PROFILES})
        row.update(checker=registry.version(name), max_tokens=s["defaults"].get("max_tokens"))
        rows.append(row)
    return rows
