"""The dashboard's run index: one SQLite row per run directory, built from the artifacts.

Why an index at all: listing 1,000 runs by parsing 1,000 ``run.json`` files (each can hold
megabytes of raw outputs) would take seconds; the runs page must answer in milliseconds.
Why it can never lie for long: the artifacts stay the source of truth. Each row keeps a
signature of its directory (size and mtime of ``run.json``, ``tasks.jsonl`` and
``meta.json``); a refresh lists the runs directory, re-reads only the runs whose
signature changed, adds new ones and drops vanished ones. Delete the index file and the
next request rebuilds it. A run that cannot be read (corrupt JSON, half-written file,
wrong types) becomes a row with ``status = "broken"`` and the reason, never an exception.

Standard library only (``sqlite3``); the file lives inside the runs directory
(``.index.sqlite``), which ``valid_run_id`` can never name, so it is never mistaken for a
run. If the runs directory is read-only the index lives in memory instead.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from benchloop.artifact import RUN_ID, load_run, valid_run_id

INDEX_NAME = ".index.sqlite"
INDEX_VERSION = 3  # bump when the columns or their meaning change: the file is rebuilt
ARTIFACT_FILES = ("run.json", "tasks.jsonl", "meta.json")

# column name -> SQL type; the order is the table's order
COLUMNS = {
    "run_id": "TEXT PRIMARY KEY",
    "sig": "TEXT",
    "status": "TEXT",
    "model": "TEXT",
    "provider": "TEXT",
    "harness": "TEXT",
    "hardware": "TEXT",
    "profile": "TEXT",
    "endpoint": "TEXT",
    "remote": "INTEGER",
    "started_at": "TEXT",
    "finished_at": "TEXT",
    "overall": "REAL",
    "quality": "REAL",
    "speed": "REAL",
    "reliability": "REAL",
    "formula": "TEXT",
    "decode_tok_s": "REAL",
    "ttft_ms": "REAL",
    "n_tasks": "INTEGER",
    "n_passed": "INTEGER",
    "n_errors": "INTEGER",
    "manifest_hash": "TEXT",
    "benchloop_version": "TEXT",
    "suites": "TEXT",  # JSON {suite: {"score", "n", "ci95"}}
    "error": "TEXT",
}
FILTERS = ("model", "harness", "provider", "hardware", "profile", "status", "manifest_hash")
SORTABLE = ("started_at", "finished_at", "overall", "quality", "speed", "reliability", "decode_tok_s", "model", "harness", "provider", "hardware", "profile", "status", "n_tasks", "run_id")
TEXT_LIMIT = 300
# Deeper than any store (SQLite's INTEGER is 64-bit: a 23-digit offset would overflow it)
MAX_OFFSET = 1_000_000_000


def _num(v):
    """A finite number or None (booleans and strings are not scores)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if v != v or v in (float("inf"), float("-inf")):
        return None
    return float(v)


def _text(v, limit: int = TEXT_LIMIT):
    if v is None:
        return None
    if not isinstance(v, (str, int, float)):
        return None
    s = str(v)
    return s[:limit]


def summarize_run(run: dict, run_id: str) -> dict:
    """The index row of one loaded artifact. Defensive about types: a run.json edited
    by hand or written by another version must not break the list."""
    if not isinstance(run, dict):
        raise ValueError("run.json is not a JSON object")
    model = run.get("model")
    model_name = model.get("name") if isinstance(model, dict) else model
    machine = run.get("machine") if isinstance(run.get("machine"), dict) else {}
    scores = run.get("scores") if isinstance(run.get("scores"), dict) else {}
    speed = run.get("speed") if isinstance(run.get("speed"), dict) else {}
    tasks = [t for t in (run.get("tasks") or []) if isinstance(t, dict)] if isinstance(run.get("tasks"), list) else []
    suites = {}
    raw_suites = scores.get("suites") if isinstance(scores.get("suites"), dict) else {}
    for name, s in list(raw_suites.items())[:100]:
        if not isinstance(s, dict):
            continue
        ci = s.get("ci95")
        ci = [_num(ci[0]), _num(ci[1])] if isinstance(ci, (list, tuple)) and len(ci) == 2 else None
        n = s.get("n")
        suites[_text(name, 60)] = {"score": _num(s.get("score")), "n": n if isinstance(n, int) and not isinstance(n, bool) else None, "ci95": ci}
    hardware = machine.get("model_hardware") if run.get("remote") and machine.get("model_hardware") else machine.get("hardware")
    status = run.get("status")
    return {
        "run_id": run_id,
        "status": _text(status, 20) if status in ("complete", "incomplete") else "incomplete",
        "model": _text(model_name),
        "provider": _text(run.get("provider"), 40),
        "harness": _text(run.get("harness"), 40),
        "hardware": _text(hardware),
        "profile": _text(run.get("profile"), 20),
        "endpoint": _text(run.get("endpoint")),
        "remote": 1 if run.get("remote") is True else 0,
        "started_at": _text(run.get("started_at"), 40),
        "finished_at": _text(run.get("finished_at"), 40),
        "overall": _num(scores.get("overall")),
        "quality": _num(scores.get("quality")),
        "speed": _num(scores.get("speed")),
        "reliability": _num(scores.get("reliability")),
        "formula": _text(scores.get("formula"), 20),
        "decode_tok_s": _num(speed.get("decode_tok_s")),
        "ttft_ms": _num(speed.get("ttft_ms")),
        "n_tasks": len(tasks),
        "n_passed": sum(1 for t in tasks if t.get("passed") is True),
        "n_errors": sum(1 for t in tasks if t.get("error")),
        "manifest_hash": _text(run.get("manifest_hash"), 128),
        "benchloop_version": _text(run.get("benchloop_version"), 40),
        "suites": suites,
        "error": None,
    }


def read_run_dir(d: Path) -> dict:
    """Load one run directory: ``run.json`` when present, otherwise the run rebuilt from
    ``meta.json`` + ``tasks.jsonl`` (a run in progress or killed). Raises on anything broken."""
    rj = d / "run.json"
    if rj.exists():
        with open(rj, encoding="utf-8") as f:
            try:
                run = json.load(f)
            except ValueError as exc:
                raise ValueError(f"run.json is not valid JSON ({exc.msg} at line {exc.lineno}); half-written or corrupt") from None
        if not isinstance(run, dict):
            raise ValueError("run.json is not a JSON object")
        return run
    if (d / "tasks.jsonl").exists() or (d / "meta.json").exists():
        return load_run(str(d), d.parent)
    raise ValueError("no run.json, meta.json or tasks.jsonl in this directory")


def signature(d: Path) -> str | None:
    """Size and mtime of the artifact files: changes whenever a run is written to."""
    parts = []
    for name in ARTIFACT_FILES:
        try:
            st = os.stat(d / name)
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


class RunIndex:
    """Thread-safe (one lock) SQLite index over a runs directory.

    Keeping it fresh costs little per request: a run appearing or vanishing changes the
    runs directory's own mtime (one ``stat``); runs still being written (incomplete or
    broken, or just added) are "hot" and re-checked at most every ``min_interval``
    seconds; a full sweep of every run's signature (catching a finished run.json edited
    in place) runs every ``full_interval`` seconds, from :meth:`sweep_forever` in a
    background thread when the app runs one, else on the request path."""

    def __init__(self, runs_dir: str | Path, *, path: str | Path | None = None, min_interval: float = 1.0, full_interval: float | None = None):
        self.root = Path(runs_dir)
        self.path = Path(path) if path else self.root / INDEX_NAME
        self.min_interval = min_interval
        self.full_interval = 30.0 * min_interval if full_interval is None else full_interval
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._db_ident = None
        self._reset()
        self.last_build_s: float | None = None
        self.in_memory = False
        self.generation = 0  # bumps whenever a row changes (callers cache on it)
        # bumps only when a complete run appears, changes or goes: what the leaderboard
        # reads, so a benchmark writing its tasks.jsonl does not re-rank 1,000 runs a second
        self.board_generation = 0

    def _reset(self):
        self._complete: dict[str, dict] | None = None  # run_id -> row of each complete run, kept current by refresh
        self._last_full = None
        self._last_hot = 0.0
        self._root_mtime = None
        self._hot: set[str] = set()

    # ---- connection -------------------------------------------------------------
    def _ident(self):
        try:
            st = os.stat(self.path)
            return (st.st_dev, st.st_ino)
        except OSError:
            return None

    def _open(self) -> sqlite3.Connection:
        """(Re)open the index; a missing, foreign or corrupt file is rebuilt from scratch."""
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
        self._reset()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            db = self._connect(str(self.path))
            self.in_memory = False
        except (OSError, sqlite3.Error):
            db = self._connect(":memory:")  # read-only runs dir: index in memory
            self.in_memory = True
        self._db = db
        self._db_ident = None if self.in_memory else self._ident()
        return db

    def _connect(self, target: str) -> sqlite3.Connection:
        for attempt in (1, 2):
            db = sqlite3.connect(target, check_same_thread=False, timeout=5, isolation_level=None)
            try:
                # rollback journal, not WAL: a deleted index must not meet a stale -wal file
                db.execute("PRAGMA synchronous=NORMAL")
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version != INDEX_VERSION:
                    db.execute("DROP TABLE IF EXISTS runs")
                    cols = ", ".join(f"{k} {v}" for k, v in COLUMNS.items())
                    db.execute(f"CREATE TABLE runs ({cols})")
                    for c in ("model", "started_at", "manifest_hash", "status"):
                        db.execute(f"CREATE INDEX IF NOT EXISTS runs_{c} ON runs({c})")
                    db.execute(f"PRAGMA user_version={INDEX_VERSION}")
                return db
            except sqlite3.DatabaseError:
                db.close()
                if target == ":memory:" or attempt == 2:
                    raise
                for suffix in ("", "-journal"):  # not a database (or torn): start over
                    try:
                        os.unlink(target + suffix)
                    except OSError:
                        pass
        raise sqlite3.DatabaseError("cannot open the index")

    def _conn(self) -> sqlite3.Connection:
        if self._db is None or (not self.in_memory and self._ident() != self._db_ident):
            return self._open()
        return self._db

    # ---- refresh ------------------------------------------------------------------
    def _listing(self, with_sig: bool) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        try:
            with os.scandir(self.root) as it:
                for e in it:
                    if e.name.startswith(".") or not RUN_ID.match(e.name) or not valid_run_id(e.name):
                        continue
                    try:
                        if not e.is_dir(follow_symlinks=False):
                            continue
                    except OSError:
                        continue
                    out[e.name] = signature(Path(e.path)) if with_sig else None
        except OSError:
            pass
        return out

    def refresh(self, force: bool = False) -> dict:
        """Bring the index up to date with the directory (see the class docstring for
        what is checked when). ``force`` runs a full sweep now."""
        with self._lock:
            db = self._conn()
            try:
                root_mtime = os.stat(self.root).st_mtime_ns
            except OSError:
                root_mtime = None
            now = time.monotonic()
            full = force or self._last_full is None or now - self._last_full >= self.full_interval
            t0 = time.perf_counter()
            known = None
            if full:
                seen = self._listing(with_sig=True)
                known = dict(db.execute("SELECT run_id, sig FROM runs").fetchall())
                changed = [rid for rid, sig in seen.items() if known.get(rid) != sig]
                gone = [rid for rid in known if rid not in seen]
                fresh = {rid for rid in changed if rid not in known}
            else:
                changed, gone, seen, fresh = [], [], {}, set()
                if root_mtime != self._root_mtime:  # a run appeared or vanished
                    names = self._listing(with_sig=False)
                    have = {r[0] for r in db.execute("SELECT run_id FROM runs")}
                    gone = [rid for rid in have if rid not in names]
                    for rid in names:
                        if rid not in have:
                            seen[rid] = signature(self.root / rid)
                            changed.append(rid)
                            fresh.add(rid)
                if self._hot and now - self._last_hot >= self.min_interval:
                    self._last_hot = now
                    sigs = dict(db.execute("SELECT run_id, sig FROM runs WHERE status != 'complete'").fetchall())
                    for rid in list(self._hot):
                        if rid in seen or rid in gone:
                            continue
                        sig = signature(self.root / rid)
                        if sig == "-|-|-" and not (self.root / rid).is_dir():
                            gone.append(rid)
                        elif sig != sigs.get(rid):
                            seen[rid] = sig
                            changed.append(rid)
            if changed or gone:
                db.execute("BEGIN")
                board = False
                try:
                    for rid in gone:
                        db.execute("DELETE FROM runs WHERE run_id = ?", (rid,))
                        board = board or rid not in self._hot  # a complete run went (or one we are unsure of)
                        self._hot.discard(rid)
                        if self._complete is not None:
                            self._complete.pop(rid, None)
                    for rid in changed:
                        row = self._row_for(rid, seen[rid])
                        board = board or row["status"] == "complete" or (rid not in fresh and rid not in self._hot)
                        if self._complete is not None:
                            if row["status"] == "complete":
                                self._complete[rid] = {k: (bool(row[k]) if k == "remote" else row.get(k)) for k in COLUMNS if k != "sig"}
                            else:
                                self._complete.pop(rid, None)
                        db.execute(
                            f"INSERT OR REPLACE INTO runs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
                            [json.dumps(row[k]) if k == "suites" else row.get(k) for k in COLUMNS],
                        )
                        if row["status"] == "complete":
                            self._hot.discard(rid)
                        else:
                            self._hot.add(rid)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                self.generation += 1
                if board:
                    self.board_generation += 1
            if full:
                self._hot = {r[0] for r in db.execute("SELECT run_id FROM runs WHERE status != 'complete'")}
                self._last_full = now
                self._last_hot = now
                if not known and changed:
                    self.last_build_s = time.perf_counter() - t0
            self._root_mtime = root_mtime
            return {"full": full, "changed": len(changed), "removed": len(gone), "seconds": round(time.perf_counter() - t0, 4)}

    def sweep_forever(self, stop: threading.Event, interval: float | None = None) -> None:
        """Background full sweeps, so no request pays for one (run in a daemon thread)."""
        interval = interval or 0.9 * (self.full_interval or 30.0)
        while not stop.wait(interval):
            try:
                self.refresh(force=True)
            except Exception:  # the next sweep tries again; requests still refresh
                pass

    def _row_for(self, run_id: str, sig: str) -> dict:
        d = self.root / run_id
        try:
            row = summarize_run(read_run_dir(d), run_id)
        except Exception as exc:  # broken artifact -> a broken row with the reason
            row = {k: None for k in COLUMNS}
            row.update(run_id=run_id, status="broken", suites={}, error=f"{type(exc).__name__}: {exc}"[:300])
        row["sig"] = sig
        return row

    def rebuild(self) -> float:
        """Drop everything and index again; returns seconds taken."""
        with self._lock:
            db = self._conn()
            db.execute("DELETE FROM runs")
            t0 = time.perf_counter()
            self.refresh(force=True)
            self.last_build_s = time.perf_counter() - t0
            return self.last_build_s

    # ---- queries -------------------------------------------------------------------
    @staticmethod
    def _to_dict(cur, row) -> dict:
        d = {c[0]: v for c, v in zip(cur.description, row)}
        if "suites" in d:
            try:
                d["suites"] = json.loads(d["suites"]) if d["suites"] else {}
            except ValueError:
                d["suites"] = {}
        d.pop("sig", None)
        if "remote" in d:
            d["remote"] = bool(d["remote"])
        return d

    def query(self, *, filters: dict | None = None, sort: str = "started_at", order: str = "desc", limit: int = 50, offset: int = 0) -> dict:
        """Filtered, sorted, paginated runs. Unknown filter or sort names are refused
        by the caller; here they are simply not in the whitelist."""
        self.refresh()
        where, args = [], []
        for k, v in (filters or {}).items():
            if k in FILTERS and v not in (None, ""):
                vals = v if isinstance(v, (list, tuple)) else [v]
                where.append(f"{k} IN ({', '.join('?' for _ in vals)})")
                args.extend(vals)
        sql_where = f" WHERE {' AND '.join(where)}" if where else ""
        col = sort if sort in SORTABLE else "started_at"
        direction = "ASC" if str(order).lower() == "asc" else "DESC"
        limit = max(1, min(int(limit), 500))
        offset = max(0, min(int(offset), MAX_OFFSET))
        with self._lock:
            db = self._conn()
            total = db.execute(f"SELECT COUNT(*) FROM runs{sql_where}", args).fetchone()[0]
            # sort narrow (rowids), then read the page's 50 full rows: a deep page no longer
            # drags every row's columns through the sorter
            order_by = f"ORDER BY {col} IS NULL, {col} {direction}, run_id {direction}"
            cur = db.execute(
                f"SELECT * FROM runs WHERE rowid IN (SELECT rowid FROM runs{sql_where} {order_by} LIMIT ? OFFSET ?) {order_by}",
                [*args, limit, offset],
            )
            items = [self._to_dict(cur, r) for r in cur.fetchall()]
        return {"total": total, "limit": limit, "offset": offset, "sort": col, "order": direction.lower(), "items": items}

    def rows(self, *, status: str | None = None) -> list[dict]:
        """Every row, or those of one ``status``. The complete ones (the leaderboard's
        input) are kept in memory and updated row by row as runs change, so a board
        rebuilt after one run landed does not decode 1,000 rows again; callers get their
        own dicts."""
        self.refresh()
        if status == "complete":
            with self._lock:
                if self._complete is None:
                    cur = self._conn().execute("SELECT * FROM runs WHERE status = 'complete'")
                    self._complete = {d["run_id"]: d for d in (self._to_dict(cur, r) for r in cur.fetchall())}
                return [dict(r) for r in self._complete.values()]
        with self._lock:
            db = self._conn()
            if status:
                cur = db.execute("SELECT * FROM runs WHERE status = ?", (status,))
            else:
                cur = db.execute("SELECT * FROM runs")
            return [self._to_dict(cur, r) for r in cur.fetchall()]

    def get(self, run_id: str) -> dict | None:
        self.refresh()
        with self._lock:
            db = self._conn()
            cur = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,))
            r = cur.fetchone()
            return self._to_dict(cur, r) if r else None

    def facets(self) -> dict:
        """Distinct values of each filter, for the UI's drop-downs."""
        self.refresh()
        out = {}
        with self._lock:
            db = self._conn()
            for k in ("model", "harness", "provider", "hardware", "profile", "status"):
                out[k] = [r[0] for r in db.execute(f"SELECT DISTINCT {k} FROM runs WHERE {k} IS NOT NULL ORDER BY {k} LIMIT 500")]
        return out

    def close(self):
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
