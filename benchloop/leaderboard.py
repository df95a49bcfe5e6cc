"""A self-hosted leaderboard that re-checks what it is sent instead of trusting it.

This module is the leaderboard's library half: pure checks and a file store, no web
framework. The HTTP routes (``POST/GET /api/submissions``, mounted by
``python -m benchloop.dashboard --accept-submissions --token T``) live with the
dashboard in ``benchloop.dashboard.leaderboard_api``; ``benchloop publish`` builds the
payload with :data:`FORMAT` and :data:`VERSION`.

A submission is a whole run artifact. Before it is stored, :func:`verify_submission`
re-derives everything a score depends on with the *server's own* task files, checkers
and scorer:

1. the claimed manifest matches its own hash, and equals the manifest the server
   computes for the same tasks (same task files, checker versions, token budgets,
   scoring versions) — so the run measured what this server measures;
2. every suite ran a whole profile (quick, core or full), each task exactly once;
3. every task's prompt is the server's prompt, and its stored raw output (or, for
   multi-turn suites, its stored turns) re-checked by the server's checker gives the
   claimed score;
4. the scores block recomputed from the re-checked tasks equals the claimed one.

Any disagreement rejects the run with the reason. Suites whose results cannot be
re-derived from the artifact (speed: a measurement) are listed as not re-checked.
Submissions are deduplicated on (machine id, run id); the machine id is a salted hash.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

FORMAT = "benchloop-submission"
VERSION = 1
MAX_BODY_BYTES = 64 * 1024 * 1024
MACHINE_ID = re.compile(r"^[0-9a-f]{16,64}$")
MAC_LIKE = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{12}$")
SUBMISSION_ID = re.compile(r"^[0-9a-f]{32}$")
TOLERANCE = 1e-6


class Rejected(ValueError):
    """Why a submission is refused (one line)."""


# ------------------------------------------------------------------ re-checking one task
def _reply_of(rec: dict) -> dict:
    return {
        "content": rec.get("output") if isinstance(rec.get("output"), str) else "",
        "reasoning": rec.get("reasoning") if isinstance(rec.get("reasoning"), str) else "",
        "tool_calls": rec.get("tool_calls") if isinstance(rec.get("tool_calls"), list) else [],
        "finish_reason": rec.get("finish_reason"),
    }


def _recheck_turns(checker, task: dict, rec: dict, defaults: dict):
    """Tool rounds (``drivers.toolround``): the checker judges the list of replies, one
    per turn, and replays the scripted tool results itself, so the stored turns lead
    through the same conversation to the same verdict."""
    replies = [{"content": t.get("content") or "", "reasoning": t.get("reasoning") or "", "tool_calls": t.get("tool_calls") if isinstance(t.get("tool_calls"), list) else []}
               for t in rec.get("turns") or [] if isinstance(t, dict)]
    return checker.check(task, replies or [_reply_of(rec)])


def _recheck_episode(checker, task: dict, rec: dict, defaults: dict):
    """Agent loops (``drivers.agentloop``): play the stored turns through a fresh episode
    of the task's simulated tools, then grade the outcome."""
    from benchloop.agent_episode import max_turns, simulate

    script = []
    for t in rec.get("turns") or []:
        if not isinstance(t, dict):
            continue
        calls = [{"name": c.get("name"), "arguments": c.get("arguments") if isinstance(c.get("arguments"), dict) else {}} for c in t.get("calls") or [] if isinstance(c, dict)]
        script.append({"content": t.get("output") or "", "reasoning": t.get("reasoning") or "", "tool_calls": calls})
    outcome, _turns = simulate(task, script, max_turns(task, defaults))
    return checker.check(task, outcome)


# driver -> how to re-judge its stored record (single-turn drivers judge the stored reply)
REPLAYS = {"benchloop.drivers.toolround": _recheck_turns, "benchloop.drivers.agentloop": _recheck_episode}
# drivers whose results are measurements: nothing in the artifact can re-derive them
MEASURED = {"benchloop.drivers.speed"}


def recheck_record(suite: str, task: dict, rec: dict, defaults: dict | None = None):
    """The server checker's :class:`~benchloop.record.Verdict` for one stored record, or
    None when this suite's results cannot be re-derived from an artifact (an unknown
    suite, or a measuring driver: the speed suite). A checker may provide its own
    ``recheck(task, rec, defaults)``; multi-turn drivers are replayed as above."""
    import importlib

    from benchloop.catalog import SUITES
    from benchloop.record import Verdict

    driver_name, checker_name, _ = SUITES.get(suite, (None, None, None))
    if checker_name is None or driver_name in MEASURED:
        return None
    checker = importlib.import_module(checker_name)
    if hasattr(checker, "recheck"):
        return Verdict.of(checker.recheck(task, rec, defaults or {}))
    replay = REPLAYS.get(driver_name)
    if replay is not None:
        return Verdict.of(replay(checker, task, rec, defaults or {}))
    return Verdict.of(checker.check(task, _reply_of(rec)))


# ------------------------------------------------------------------ verifying a run
def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _first_difference(a, b, path="scores") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            d = _first_difference(a.get(k), b.get(k), f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            d = _first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return None if abs(na - nb) <= TOLERANCE else f"claimed {path} {a} but re-scoring gives {b}"
    return None if a == b else f"claimed {path} {str(a)[:40]} but re-scoring gives {str(b)[:40]}"


def verify(run: dict, *, tasks_dir: str | Path | None = None) -> dict:
    """Re-check a submitted run. Returns {"ok", "reason", "rechecked", "unverified",
    "scores"}; never raises on hostile input (a malformed run is just rejected)."""
    try:
        return _verify(run, tasks_dir)
    except Rejected as exc:
        return {"ok": False, "reason": str(exc), "rechecked": [], "unverified": []}
    except Exception as exc:  # a malformed artifact must not become a server error
        return {"ok": False, "reason": f"malformed submission ({type(exc).__name__})", "rechecked": [], "unverified": []}


def verify_submission(run: dict) -> tuple[bool, str]:
    """(ok, reason): the pure check the server runs on every submission."""
    r = verify(run)
    return r["ok"], r["reason"]


def _verify(run, tasks_dir) -> dict:
    from benchloop.artifact import valid_run_id
    from benchloop.tasks import task_messages
    from benchloop.receipts import build_manifest, manifest_diff, manifest_keys
    from benchloop.scoring import score_run
    from benchloop.catalog import PROFILES
    from benchloop.tasks import TaskFileError, in_profile, load_suite

    if not isinstance(run, dict):
        raise Rejected("the submission is not a run object")
    rid = run.get("run_id")
    if not isinstance(rid, str) or not valid_run_id(rid):
        raise Rejected("the run has no valid run id")
    if run.get("status") != "complete":
        raise Rejected(f"run {rid} is {run.get('status')!s:.20}; only complete runs are accepted (resume it first)")
    mid = (run.get("machine") or {}).get("machine_id") if isinstance(run.get("machine"), dict) else None
    if not isinstance(mid, str) or MAC_LIKE.match(mid) or not MACHINE_ID.match(mid):
        raise Rejected("the machine id must be BenchLoop's salted hash (hex), never a MAC address or hostname")
    tasks = run.get("tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, dict) for t in tasks):
        raise Rejected("the run holds no task records")

    # 1. the manifest: self-consistent, then equal to the server's own
    body, claimed_hash = run.get("manifest"), run.get("manifest_hash")
    if not isinstance(body, dict) or not isinstance(body.get("suites"), dict) or not isinstance(claimed_hash, str):
        raise Rejected("the run has no manifest")
    if hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() != claimed_hash:
        raise Rejected("the manifest does not match its own hash (edited after the run)")
    keys = manifest_keys(body)
    suites = {}
    for name in sorted({s for s, _ in keys}):
        try:
            suites[name] = load_suite(name, Path(tasks_dir) if tasks_dir else None)
        except TaskFileError:
            raise Rejected(f"suite {name!s:.40} is unknown to this server") from None
    harness = body.get("harness_format")
    if not isinstance(harness, str):
        raise Rejected("the manifest names no harness format")
    server = build_manifest(keys, suites, harness=harness, max_tokens=None)
    if server["hash"] != claimed_hash:
        why = manifest_diff(body, server["body"], old_name="submission", new_name="server") or "manifest differs"
        raise Rejected(f"the run's manifest differs from this server's: {why}")

    # 2. whole profiles, each task exactly once
    by_suite_ids = {}
    for s, t in keys:
        by_suite_ids.setdefault(s, set()).add(t)
    for name, ids in by_suite_ids.items():
        whole = [p for p in PROFILES if {t["id"] for t in suites[name]["tasks"] if in_profile(t, p)} == ids]
        if not whole:
            raise Rejected(f"{name}: {len(ids)} of {len(suites[name]['tasks'])} tasks is not a whole profile (quick, core or full)")
    seen = {}
    for rec in tasks:
        k = (rec.get("suite"), rec.get("task_id"))
        if k in seen:
            raise Rejected(f"{k[0]!s:.40}/{k[1]!s:.20} appears twice")
        seen[k] = rec
    if set(seen) != keys:
        extra = sorted(f"{s}/{t}" for s, t in set(seen) - keys)[:1]
        lack = sorted(f"{s}/{t}" for s, t in keys - set(seen))[:1]
        raise Rejected(f"the task records do not match the manifest ({'missing ' + lack[0] if lack else 'unexpected ' + str(extra[0])[:60]})")
    if run.get("missing_tasks"):
        raise Rejected("the run lists missing tasks")

    # 3. re-check every task with the server's checkers
    rechecked, unverified = set(), set()
    rescored = []
    for rec in tasks:
        suite, tid = rec["suite"], rec["task_id"]
        task = next(t for t in suites[suite]["tasks"] if t["id"] == tid)
        label = f"{suite}/{tid}"
        claimed_score, claimed_pass = _num(rec.get("score")), rec.get("passed")
        if claimed_score is None or not isinstance(claimed_pass, bool):
            raise Rejected(f"{label}: no score")
        if (task.get("prompt") or task.get("messages")) and rec.get("prompt") not in (None, []) and rec.get("prompt") != task_messages(task):
            raise Rejected(f"{label}: the prompt differs from this server's task")
        if rec.get("error"):
            if claimed_score != 0.0 or claimed_pass:
                raise Rejected(f"{label}: claims score {claimed_score:g} for a task that failed with an error")
            rescored.append(rec)
            if suite != "speed":
                rechecked.add(suite)
            continue
        try:
            verdict = recheck_record(suite, task, rec, suites[suite]["defaults"])
        except Exception as exc:
            raise Rejected(f"{label}: the server's checker could not re-check the stored output ({type(exc).__name__})") from None
        if verdict is None:
            unverified.add(suite)
            rescored.append(rec)
            continue
        score, passed = verdict.score, verdict.passed
        if abs(score - claimed_score) > TOLERANCE or passed != claimed_pass:
            reason = verdict.reason[:120]
            raise Rejected(f"{label}: claimed score {claimed_score:g} ({'pass' if claimed_pass else 'fail'}) but the server's checker gives {score:g} ({reason})")
        rechecked.add(suite)
        rescored.append(dict(rec, score=score, passed=passed))

    # 4. the scores block, recomputed
    fresh = score_run(dict(run, tasks=rescored))
    diff = _first_difference(run.get("scores") if isinstance(run.get("scores"), dict) else {}, fresh)
    if diff:
        raise Rejected(diff)
    unverified -= rechecked
    note = f"re-checked {', '.join(sorted(rechecked)) or 'nothing'}"
    if unverified:
        note += f"; not re-checkable from an artifact: {', '.join(sorted(unverified))}"
    return {"ok": True, "reason": note, "rechecked": sorted(rechecked), "unverified": sorted(unverified), "scores": fresh}


# ------------------------------------------------------------------ the store
def submission_id(machine_id: str, run_id: str) -> str:
    """Dedupe key: one entry per (machine, run)."""
    return hashlib.sha256(f"{machine_id}\0{run_id}".encode()).hexdigest()[:32]


def summary(entry: dict) -> dict:
    return {k: entry.get(k) for k in ("id", "received_at", "run_id", "machine_id", "model", "provider", "harness", "hardware", "remote", "scores", "rechecked", "unverified", "manifest_hash")}


class Duplicate(Exception):
    """This (machine, run) is already stored."""


def read_payload(payload) -> dict:
    """The run inside a ``benchloop publish`` payload; :class:`Rejected` when the payload
    is not one (wrong format, a newer version than this server knows)."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise Rejected(f"not a {FORMAT} (publish with benchloop publish)")
    if not isinstance(payload.get("version"), int) or payload["version"] > VERSION:
        raise Rejected(f"submission format version {payload.get('version')!s:.10} is not supported here")
    return payload.get("run")


def make_entry(run: dict, result: dict, received_at: str) -> dict:
    """What the store keeps for an accepted run: a summary for listings plus the run."""
    machine = run.get("machine") or {}
    return {
        "id": submission_id(machine["machine_id"], run["run_id"]),
        "received_at": received_at,
        "run_id": run["run_id"],
        "machine_id": machine["machine_id"],
        "model": (run.get("model") or {}).get("name"),
        "provider": run.get("provider"),
        "harness": run.get("harness"),
        "hardware": machine.get("model_hardware") or machine.get("hardware"),
        "remote": run.get("remote"),
        "scores": {k: result["scores"].get(k) for k in ("overall", "quality", "speed", "reliability")} | {"suites": {s: v.get("score") for s, v in result["scores"]["suites"].items()}},
        "rechecked": result["rechecked"],
        "unverified": result["unverified"],
        "manifest_hash": run.get("manifest_hash"),
        "run": run,
    }


class SubmissionStore:
    """Accepted submissions, one JSON file each (``<id>.json``), never overwritten."""

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def add(self, entry: dict) -> None:
        """Store a new entry; :class:`Duplicate` when its id is already there."""
        with self._lock:
            try:
                with open(self.dir / f"{entry['id']}.json", "x", encoding="utf-8") as f:
                    json.dump(entry, f, sort_keys=True)
            except FileExistsError:
                raise Duplicate(entry["id"]) from None

    def listing(self) -> list[dict]:
        """Summaries, best overall score first (unreadable files are skipped)."""
        rows = []
        for p in sorted(self.dir.glob("*.json")):
            try:
                rows.append(summary(json.loads(p.read_text(encoding="utf-8"))))
            except (OSError, ValueError):
                continue
        rows.sort(key=lambda r: (-(((r.get("scores") or {}).get("overall")) or 0.0), r.get("received_at") or ""))
        return rows

    def get(self, sid: str) -> dict | None:
        """One whole entry, or None for an unknown or malformed id."""
        if not isinstance(sid, str) or not SUBMISSION_ID.match(sid):
            return None
        p = self.dir / f"{sid}.json"
        return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None
