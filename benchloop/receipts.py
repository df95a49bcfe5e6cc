"""Manifests as receipts: build one for a set of tasks, and say in one line how two differ.

Resume (refuses a run whose task files or checkers changed underneath it), compare
(refuses to call two runs comparable) and the leaderboard (re-derives the manifest from
its own task files) all ask the same two questions, so they share these pure functions.
"""
from __future__ import annotations

from typing import Iterable


def build_manifest(keys: Iterable[tuple[str, str]], suites: dict[str, dict], *, harness: str, max_tokens: int | None = None) -> dict:
    """The manifest of the tasks ``keys`` ((suite, task_id) pairs). ``suites`` maps a suite
    name to its loaded suite (``tasks.load_suite``); ``max_tokens`` is the run's override."""
    from benchloop.artifact import manifest

    by_suite: dict[str, set] = {}
    for suite, task_id in keys:
        by_suite.setdefault(suite, set()).add(task_id)
    body = {}
    for name in sorted(by_suite):
        info = suites[name]
        body[name] = {"sha256": info["sha256"], "task_ids": sorted(by_suite[name]), "max_tokens": max_tokens or info["defaults"].get("max_tokens")}
    return manifest(body, extra={"harness_format": harness})


def manifest_keys(body: dict) -> set[tuple[str, str]]:
    """The (suite, task_id) pairs a manifest body covers."""
    out = set()
    for suite, info in ((body or {}).get("suites") or {}).items():
        for tid in (info or {}).get("task_ids") or []:
            out.add((str(suite), str(tid)))
    return out


def _short(v) -> str:
    s = str(v)
    return s[:12] + "…" if len(s) > 16 else s


def manifest_diff(old: dict | None, new: dict | None, *, old_name: str = "run", new_name: str = "now") -> str | None:
    """None when the two manifest bodies are equal, else one line naming what differs."""
    old, new = old or {}, new or {}
    if old == new:
        return None
    why = []
    for key in sorted((set(old) | set(new)) - {"suites"}):
        if old.get(key) != new.get(key):
            why.append(f"{key} {old.get(key)!s} ({old_name}) vs {new.get(key)!s} ({new_name})")
    so, sn = old.get("suites") or {}, new.get("suites") or {}
    for name in sorted(set(so) - set(sn)):
        why.append(f"suite {name} only in {old_name}")
    for name in sorted(set(sn) - set(so)):
        why.append(f"suite {name} only in {new_name}")
    for name in sorted(set(so) & set(sn)):
        a, b = so[name] or {}, sn[name] or {}
        if a.get("task_file_sha256") != b.get("task_file_sha256"):
            why.append(f"tasks/{name}.yaml differs (sha256 {_short(a.get('task_file_sha256'))} vs {_short(b.get('task_file_sha256'))})")
        if a.get("checker") != b.get("checker"):
            why.append(f"{name} checker {a.get('checker')} ({old_name}) vs {b.get('checker')} ({new_name})")
        ta, tb = set(a.get("task_ids") or []), set(b.get("task_ids") or [])
        if ta != tb:
            parts = []
            if ta - tb:
                parts.append(f"{len(ta - tb)} only in {old_name}, e.g. {sorted(ta - tb)[0]}")
            if tb - ta:
                parts.append(f"{len(tb - ta)} only in {new_name}, e.g. {sorted(tb - ta)[0]}")
            why.append(f"{name} task set differs ({'; '.join(parts)})")
        if a.get("max_tokens") != b.get("max_tokens"):
            why.append(f"{name} max_tokens {a.get('max_tokens')} ({old_name}) vs {b.get('max_tokens')} ({new_name})")
    if not why:
        why.append("manifests differ")
    shown = why[:4]
    more = f" (+{len(why) - 4} more)" if len(why) > 4 else ""
    return "; ".join(shown) + more
