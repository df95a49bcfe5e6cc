"""The dashboard's run index: one SQLite row per run directory, built from the artifacts.

Why an index at all: listing 1,000 runs by parsing 1,000 ``run.json`` files (each can hold
megabytes of raw outputs) would take seconds; the runs page must answer in milliseconds.
Why it can never lie for long: the artifacts stay the source of truth. Each row keeps a
signature of its files (size and mtime of ``run.json``, ``tasks.jsonl`` and ``meta.json``)
and its directory's mtime; a refresh looks only where something can have changed (see
:class:`RunIndex`), re-reads only the runs whose signature changed, adds new ones and
drops vanished ones. Delete the index file and the next request rebuilds it. A run that
cannot be read (corrupt JSON, half-written file, wrong types) becomes a row with
``status = "broken"`` and the reason, never an exception. Pages are read by keyset
(:mod:`.runs_query`), so the last page of 100,000 runs costs what the first one does.

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

from benchloop.artifact import RUN_ID, valid_run_id
from benchloop.dashboard import runs_query as rq
from benchloop.dashboard.run_rows import ARTIFACT_FILES, TEXT_LIMIT, dir_mtime as _dir_mtime, newest_mtime_ns, read_run_dir, signature, summarize_run

__all__ = ["ARTIFACT_FILES", "TEXT_LIMIT", "RunIndex", "read_run_dir", "signature", "summarize_run"]

INDEX_NAME = ".index.sqlite"
INDEX_VERSION = 4  # bump when the columns or their meaning change: the file is rebuilt
HOT_QUIET_S = 300  # a run not complete and not written for this long is left to the full sweeps
SETTLE_NS = 2_000_000_000  # an mtime younger than this may hide a second write in the same tick
BUILD_CHUNK = 2000  # rows read outside the lock, then written in one transaction
MMAP_BYTES = 1 << 30
SCAN_BUDGET_S = 0.004  # how long a filtered page may walk the sort index before the filter index answers

# column name -> SQL type; the order is the table's order
COLUMNS = {
    "run_id": "TEXT PRIMARY KEY",
    "sig": "TEXT",
    "dmtime": "INTEGER",  # the run directory's mtime (0: too recent to trust)
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
# Deeper than any store (SQLite's INTEGER is 64-bit: a 23-digit offset would overflow it)
MAX_OFFSET = 1_000_000_000


def _settled(mtime_ns: int | None) -> int:
    """An mtime old enough to trust for "nothing changed since" (0 otherwise): a write in
    the same clock tick as the one we saw would leave it unchanged."""
    if mtime_ns is None or time.time_ns() - mtime_ns < SETTLE_NS:
        return 0
    return mtime_ns


class RunIndex:
    """Thread-safe SQLite index over a runs directory, kept fresh by looking only at what
    can have changed.

    - **Request path** (:meth:`refresh`): one ``stat`` of the runs directory. Its mtime
      changes when a run directory appears or vanishes; only then are the names listed
      and compared with the names known. Runs being written ("hot": not complete, a file
      written in the last ``HOT_QUIET_S`` seconds) are re-checked at most every
      ``min_interval`` seconds, three ``stat`` calls each. Nothing changed: one ``stat``.
    - **Full sweep** (every ``full_interval`` seconds, from :meth:`sweep_forever` in a
      background thread when the app runs one, else on the request path; ``force=True``):
      one ``stat`` per run directory. A finished run's ``run.json`` is replaced by rename
      (``write_json_atomic``), which changes its directory's mtime; only directories whose
      mtime moved, and runs not complete, get their file signatures checked and changed
      ones are re-read. The ``stat`` calls run outside the lock, so requests never wait
      on them."""

    def __init__(self, runs_dir: str | Path, *, path: str | Path | None = None, min_interval: float = 1.0, full_interval: float | None = None):
        self.root = Path(runs_dir)
        self.path = Path(path) if path else self.root / INDEX_NAME
        self.min_interval = min_interval
        self.full_interval = 30.0 * min_interval if full_interval is None else full_interval
        self._lock = threading.RLock()
        self._sweep_lock = threading.Lock()  # one full sweep at a time
        self._db: sqlite3.Connection | None = None
        self._db_ident = None
        self.last_build_s: float | None = None
        self.in_memory = False
        self.generation = 0  # bumps whenever a row changes (callers cache on it)
        # bumps only when a complete run appears, changes or goes: what the leaderboard
        # reads, so a benchmark writing its tasks.jsonl does not re-rank 1,000 runs a second
        self.board_generation = 0
        self._reset()

    def _reset(self):
        self._complete: dict[str, dict] | None = None  # run_id -> row of each complete run, kept current by refresh
        self._names: set[str] | None = None  # run ids in the table
        self._hot: dict[str, str] = {}  # run_id -> signature of the runs being written
        self._last_full = None
        self._full_started = 0.0
        self._last_hot = 0.0
        self._last_list = 0.0
        self._root_mtime = None
        self._root_settled = False
        self._counts: dict = {}
        self._facets = None
        self._analyzed = 0

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
                # rollback journal, not WAL: a deleted index must not meet a stale -wal file;
                # truncated, not deleted, after each write: creating and deleting it would move
                # the runs directory's mtime, which the refresh reads as "a run came or went"
                db.execute("PRAGMA journal_mode=TRUNCATE")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")  # page reads without a syscall each
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version != INDEX_VERSION:
                    db.execute("DROP TABLE IF EXISTS runs")
                    cols = ", ".join(f"{k} {v}" for k, v in COLUMNS.items())
                    db.execute(f"CREATE TABLE runs ({cols})")
                    # one (column, run_id) index per sort key: keyset pages seek, never skip
                    for c in SORTABLE:
                        if c != "run_id":
                            db.execute(f"CREATE INDEX IF NOT EXISTS runs_{c} ON runs({c}, run_id)")
                    db.execute("CREATE INDEX IF NOT EXISTS runs_manifest_hash ON runs(manifest_hash)")
                    # counts of the common filters (model, harness, …) from one covering index
                    db.execute("CREATE INDEX IF NOT EXISTS runs_filters ON runs(model, harness, hardware, profile, provider, status)")
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
    def _list_names(self) -> set[str]:
        """The run directories' names (no ``stat``: the directory entry's type is enough)."""
        out = set()
        try:
            with os.scandir(self.root) as it:
                for e in it:
                    if e.name.startswith(".") or not RUN_ID.match(e.name) or not valid_run_id(e.name):
                        continue
                    try:
                        if e.is_dir(follow_symlinks=False):
                            out.add(e.name)
                    except OSError:
                        continue
        except OSError:
            pass
        return out

    def refresh(self, force: bool = False) -> dict:
        """Bring the index up to date with the directory (see the class docstring for
        what is checked when). ``force`` runs a full sweep now."""
        called = time.monotonic()
        with self._lock:
            self._conn()
            full = force or self._names is None or self._last_full is None or called - self._last_full >= self.full_interval
        if full:
            return self._sweep(called, force)
        with self._lock:
            t0 = time.perf_counter()
            self._conn()
            if self._names is None:  # reopened meanwhile (index file deleted)
                return self._sweep(called, True)
            changed: dict[str, str] = {}
            gone: list[str] = []
            root_mtime = _dir_mtime(self.root)
            if root_mtime != self._root_mtime or (not self._root_settled and called - self._last_list >= self.min_interval):
                self._last_list = called
                names = self._list_names()
                gone = [rid for rid in self._names if rid not in names]
                changed = {rid: signature(self.root / rid) for rid in names if rid not in self._names}
                self._root_mtime, self._root_settled = root_mtime, bool(_settled(root_mtime))
            if self._hot and called - self._last_hot >= self.min_interval:
                self._last_hot = called
                quiet = time.time_ns() - HOT_QUIET_S * 1_000_000_000
                for rid, old in list(self._hot.items()):
                    if rid in changed or rid in gone:
                        continue
                    sig = signature(self.root / rid)
                    if sig == "-|-|-" and not (self.root / rid).is_dir():
                        gone.append(rid)
                    elif sig != old:
                        changed[rid] = sig
                    elif newest_mtime_ns(sig) < quiet:  # quiet: left to the full sweeps
                        del self._hot[rid]
            self._apply({rid: self._row_for(rid, sig) for rid, sig in changed.items()}, gone)
            return {"full": False, "changed": len(changed), "removed": len(gone), "seconds": round(time.perf_counter() - t0, 4)}

    def _sweep(self, called: float, force: bool) -> dict:
        with self._sweep_lock:
            if self._full_started >= called and self._names is not None:  # a sweep that began after we were asked just ran
                return {"full": True, "changed": 0, "removed": 0, "seconds": 0.0}
            t0 = time.perf_counter()
            self._full_started = time.monotonic()
            with self._lock:
                db = self._conn()
                first = self._names is None
                known = {r[0]: r[1:] for r in db.execute("SELECT run_id, sig, dmtime, status FROM runs")}
            root_mtime = _dir_mtime(self.root)
            names = self._list_names()
            changed: dict[str, str] = {}
            moved: dict[str, int] = {}  # run_id -> settled dir mtime (files unchanged)
            for rid in names:
                k = known.get(rid)
                if k is None:
                    changed[rid] = signature(self.root / rid)
                    continue
                dm = _dir_mtime(self.root / rid)
                if k[2] == "complete" and dm == k[1] and dm:
                    continue
                sig = signature(self.root / rid)
                if sig != k[0]:
                    changed[rid] = sig
                elif _settled(dm) != k[1]:
                    moved[rid] = _settled(dm)
            gone = [rid for rid in known if rid not in names]
            items = list(changed.items())
            for i in range(0, max(1, len(items)), BUILD_CHUNK):  # read outside the lock, write in chunks
                rows = {rid: self._row_for(rid, sig) for rid, sig in items[i : i + BUILD_CHUNK]}
                with self._lock:
                    self._apply(rows, gone if i == 0 else [], moved if i == 0 else {}, recheck=not first)
            with self._lock:
                if self._names is None or first:
                    self._names = set(names)
                    self._hot = {r[0]: r[1] for r in self._conn().execute("SELECT run_id, sig FROM runs WHERE status != 'complete'") if newest_mtime_ns(r[1]) >= time.time_ns() - HOT_QUIET_S * 1_000_000_000}
                self._last_full = self._last_hot = time.monotonic()  # the next one is due full_interval after this one ended
                self._root_mtime, self._root_settled = root_mtime, bool(_settled(root_mtime))
                if first and changed:
                    self.last_build_s = time.perf_counter() - t0
                if len(self._names) >= 2 * self._analyzed + 100:  # the planner's row counts, sampled (ms)
                    self._conn().execute("PRAGMA analysis_limit=1000")
                    self._conn().execute("ANALYZE")
                    self._analyzed = len(self._names)
            return {"full": True, "changed": len(changed), "removed": len(gone), "seconds": round(time.perf_counter() - t0, 4)}

    def _apply(self, rows: dict[str, dict], gone, moved: dict | None = None, recheck: bool = False) -> None:
        """Write changed rows, drop vanished ones (under the lock). ``recheck``: skip a row
        whose files changed again since it was read (the request path got there first)."""
        if not (rows or gone or moved):
            return
        db = self._conn()
        quiet = time.time_ns() - HOT_QUIET_S * 1_000_000_000
        board = False
        db.execute("BEGIN")
        try:
            for rid in gone:
                old = db.execute("SELECT status FROM runs WHERE run_id = ?", (rid,)).fetchone()
                db.execute("DELETE FROM runs WHERE run_id = ?", (rid,))
                board = board or (old is not None and old[0] == "complete")
                self._hot.pop(rid, None)
                if self._names is not None:
                    self._names.discard(rid)
                if self._complete is not None:
                    self._complete.pop(rid, None)
            for rid, dm in (moved or {}).items():
                db.execute("UPDATE runs SET dmtime = ? WHERE run_id = ?", (dm, rid))
            for rid, row in rows.items():
                if recheck and signature(self.root / rid) != row["sig"]:
                    continue
                old = db.execute("SELECT status FROM runs WHERE run_id = ?", (rid,)).fetchone()
                board = board or row["status"] == "complete" or (old is not None and old[0] == "complete")
                if self._complete is not None:
                    if row["status"] == "complete":
                        self._complete[rid] = {k: (bool(row[k]) if k == "remote" else row.get(k)) for k in COLUMNS if k not in ("sig", "dmtime")}
                    else:
                        self._complete.pop(rid, None)
                db.execute(
                    f"INSERT OR REPLACE INTO runs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
                    [json.dumps(row[k]) if k == "suites" else row.get(k) for k in COLUMNS],
                )
                if self._names is not None:
                    self._names.add(rid)
                if row["status"] != "complete" and newest_mtime_ns(row["sig"]) >= quiet:
                    self._hot[rid] = row["sig"]
                else:
                    self._hot.pop(rid, None)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if rows or gone:
            self.generation += 1
            self._counts.clear()
            self._facets = None
            if board:
                self.board_generation += 1

    def drop(self, run_id: str) -> None:
        """Forget one run now (its directory was just deleted)."""
        with self._lock:
            self._conn()
            self._apply({}, [run_id])

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
        dm = _settled(_dir_mtime(d))  # before reading: a later write moves it again
        try:
            row = summarize_run(read_run_dir(d), run_id)
        except Exception as exc:  # broken artifact -> a broken row with the reason
            row = {k: None for k in COLUMNS}
            row.update(run_id=run_id, status="broken", suites={}, error=f"{type(exc).__name__}: {exc}"[:300])
        row["sig"] = sig
        row["dmtime"] = dm
        return row

    def rebuild(self) -> float:
        """Drop everything and index again; returns seconds taken."""
        with self._lock:
            db = self._conn()
            db.execute("DELETE FROM runs")
            self._reset()
        t0 = time.perf_counter()
        self.refresh(force=True)
        self.last_build_s = time.perf_counter() - t0
        return self.last_build_s

    # ---- queries -------------------------------------------------------------------
    @staticmethod
    def _to_dict(names, row) -> dict:
        d = dict(zip(names, row))
        if "suites" in d:
            try:
                d["suites"] = json.loads(d["suites"]) if d["suites"] else {}
            except ValueError:
                d["suites"] = {}
        d.pop("sig", None)
        d.pop("dmtime", None)
        if "remote" in d:
            d["remote"] = bool(d["remote"])
        return d

    def _rows(self, cur) -> list[dict]:
        names = [c[0] for c in cur.description]
        return [self._to_dict(names, r) for r in cur.fetchall()]

    def query(self, *, filters: dict | None = None, sort: str = "started_at", order: str = "desc", limit: int = 50, offset: int = 0, cursor: str | None = None) -> dict:
        """Filtered, sorted runs, one page: ``offset`` rows in, or (``cursor``, the
        ``run_id`` of the previous page's last row) the rows after that one, ``offset``
        rows further. ``next_cursor`` continues the list (None at its end). Raises
        ``LookupError`` when the cursor's run is not in the index."""
        self.refresh()
        where, args = rq.where_clause(filters or {}, FILTERS)
        col = sort if sort in SORTABLE else "started_at"
        desc = str(order).lower() != "asc"
        limit = max(1, min(int(limit), 500))
        offset = max(0, min(int(offset), MAX_OFFSET))
        with self._lock:
            db = self._conn()
            key = (where, tuple(args), col)
            if key not in self._counts:
                if len(self._counts) > 256:
                    self._counts.clear()
                self._counts[key] = rq.counts(db, where, args, col)
            total, valued = self._counts[key]
            at = None
            if cursor is not None:
                at = db.execute(f"SELECT {col}, run_id FROM runs WHERE run_id = ?", (cursor,)).fetchone()
                if at is None:
                    raise LookupError(cursor)

            def read(w):
                if at is not None:
                    return rq.page_after(db, w, args, col, desc, cursor=tuple(at), offset=offset, n=limit + 1)
                if offset >= total:
                    return []
                return rq.page_at_offset(db, w, args, col, desc, total=total, valued=valued, offset=offset, n=limit + 1)

            ids = None
            if args and total * 50 >= len(self._names or ()):  # a broad filter: walk the sort index first, briefly
                ids = rq.try_scan(db, SCAN_BUDGET_S, lambda: read(rq.where_clause(filters or {}, FILTERS, scan=True)[0]))
            if ids is None:
                ids = read(where)
            names, rows = rq.fetch(db, ids[:limit])
            items = [self._to_dict(names, r) for r in rows]
        nxt = items[-1]["run_id"] if len(ids) > limit and items else None
        return {"total": total, "limit": limit, "offset": offset, "cursor": cursor, "next_cursor": nxt, "sort": col, "order": "desc" if desc else "asc", "items": items}

    def rows(self, *, status: str | None = None) -> list[dict]:
        """Every row, or those of one ``status``. The complete ones (the leaderboard's
        input) are kept in memory and updated row by row as runs change, so a board
        rebuilt after one run landed does not decode 1,000 rows again; callers get their
        own dicts."""
        self.refresh()
        if status == "complete":
            return [dict(r) for r in self.complete_rows()]
        with self._lock:
            db = self._conn()
            if status:
                return self._rows(db.execute("SELECT * FROM runs WHERE status = ?", (status,)))
            return self._rows(db.execute("SELECT * FROM runs"))

    def complete_rows(self) -> list[dict]:
        """The complete runs' rows themselves, not copies, for the board builders in
        :mod:`dashboard.views`, which only read them: copying 100,000 rows took a third
        of a second of each regroup (issue 14). Callers must not change them."""
        self.refresh()
        with self._lock:
            if self._complete is None:
                self._complete = {d["run_id"]: d for d in self._rows(self._conn().execute("SELECT * FROM runs WHERE status = 'complete'"))}
            return list(self._complete.values())

    def get(self, run_id: str) -> dict | None:
        self.refresh()
        with self._lock:
            rows = self._rows(self._conn().execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)))
            return rows[0] if rows else None

    def facets(self) -> dict:
        """Distinct values of each filter, for the UI's drop-downs (cached per generation)."""
        self.refresh()
        with self._lock:
            if self._facets is None:
                self._facets = rq.facets(self._conn())
            return {k: list(v) for k, v in self._facets.items()}

    def close(self):
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
