"""Pages of the run index that cost the same on page 1 and on page 2,000.

Why not ``LIMIT ? OFFSET ?``: SQLite walks every skipped row, so the last page of
100,000 runs sorted by quality walked 99,950 rows (42 ms at 10,000 runs). Here:

- **Keyset.** The sort order is ``column dir, run_id dir`` with NULLs last, one index
  ``(column, run_id)`` per sortable column. A page after a cursor (the ``run_id`` of the
  previous page's last row) seeks straight to ``(value, run_id)`` in that index: no
  skipped rows, whatever the depth. The list is two segments in index order: the rows
  with a value, then the rows without one (by ``run_id``).
- **Offsets, translated.** ``offset`` still works (the page's Prev/Next and old links
  use it): it is located in its segment and read from whichever end of that segment is
  nearer, so the deepest page reads backwards from the end and skips nothing. A page in
  the middle of 100,000 runs skips at most a quarter of them, index entries only.
- **Counts** (the ``total``, and how many rows have a value) are cached per index
  generation: a list re-requested while nothing changed does not count 100,000 rows again.

Pure functions of an open ``sqlite3`` connection; :class:`~.index.RunIndex` owns the
lock, the refresh and the cache.
"""
from __future__ import annotations

import sqlite3
import time

FACET_KEYS = ("model", "harness", "provider", "hardware", "profile", "status")
FACET_LIMIT = 500


def where_clause(filters: dict, allowed, *, scan: bool = False) -> tuple[str, list]:
    """``col IN (?, …) AND …`` for the whitelisted filters that have values ("1" when none).
    ``scan``: written ``+col`` so SQLite cannot use the filter columns' indexes and walks
    the sort index instead (see :func:`try_scan`)."""
    where, args = [], []
    for k, v in (filters or {}).items():
        if k in allowed and v not in (None, ""):
            vals = list(v) if isinstance(v, (list, tuple)) else [v]
            if vals:
                where.append(f"{'+' if scan else ''}{k} IN ({', '.join('?' for _ in vals)})")
                args.extend(vals)
    return (" AND ".join(where) or "1"), args


def counts(db, where: str, args: list, col: str) -> tuple[int, int]:
    """(rows matching, of those the rows where ``col`` has a value)."""
    total = db.execute(f"SELECT COUNT(*) FROM runs WHERE {where}", args).fetchone()[0]
    if col == "run_id" or total == 0:
        return total, total
    valued = db.execute(f"SELECT COUNT(*) FROM runs WHERE {where} AND {col} IS NOT NULL", args).fetchone()[0]
    return total, valued


def _segment(db, where, args, col, desc: bool, valued: bool, *, after=None, limit: int, offset: int = 0) -> list[int]:
    """Rowids of one segment in list order: the rows with a value of ``col`` (``valued``)
    ordered by ``(col, run_id)``, or the rows without one ordered by ``run_id``.
    ``after`` is a ``(value, run_id)`` (or ``run_id`` for the NULL segment) to start past."""
    direction, op = ("DESC", "<") if desc else ("ASC", ">")
    extra, extra_args = "", []
    if col == "run_id":
        order = f"run_id {direction}"
        if after is not None:
            extra, extra_args = f" AND run_id {op} ?", [after[1]]
    elif valued:
        order = f"{col} {direction}, run_id {direction}"
        extra = f" AND {col} IS NOT NULL"
        if after is not None:
            extra, extra_args = f" AND ({col}, run_id) {op} (?, ?)", list(after)
    else:
        order = f"run_id {direction}"
        extra = f" AND {col} IS NULL"
        if after is not None:
            extra += f" AND run_id {op} ?"
            extra_args = [after[1]]
    sql = f"SELECT rowid FROM runs WHERE {where}{extra} ORDER BY {order} LIMIT ? OFFSET ?"
    return [r[0] for r in db.execute(sql, [*args, *extra_args, limit, offset])]


def _segment_slice(db, where, args, col, desc, valued, seg_len: int, lo: int, n: int) -> list[int]:
    """``n`` rowids from position ``lo`` of a segment of ``seg_len`` rows, read from the
    nearer end (so the last page skips nothing)."""
    if n <= 0:
        return []
    from_end = seg_len - lo - n
    if from_end < lo:
        ids = _segment(db, where, args, col, not desc, valued, limit=n, offset=from_end)
        return ids[::-1]
    return _segment(db, where, args, col, desc, valued, limit=n, offset=lo)


def page_at_offset(db, where, args, col, desc, *, total: int, valued: int, offset: int, n: int) -> list[int]:
    """Up to ``n`` rowids from list position ``offset`` (both segments, nearer ends)."""
    out: list[int] = []
    pos = offset
    for is_valued, start, seg_len in ((True, 0, valued), (False, valued, total - valued)):
        if len(out) >= n or seg_len <= 0:
            continue
        lo = pos - start
        if lo >= seg_len:
            continue
        take = min(n - len(out), seg_len - lo)
        out += _segment_slice(db, where, args, col, desc, is_valued, seg_len, lo, take)
        pos += take
    return out


def page_after(db, where, args, col, desc, *, cursor: tuple, offset: int, n: int) -> list[int]:
    """Up to ``n`` rowids after the row ``cursor`` = ``(value, run_id)``, skipping ``offset``."""
    value, rid = cursor
    if col != "run_id" and value is None:  # the cursor is in the NULL segment
        return _segment(db, where, args, col, desc, False, after=(None, rid), limit=n, offset=offset)
    out = _segment(db, where, args, col, desc, True, after=(value, rid), limit=n, offset=offset)
    if len(out) >= n or col == "run_id":
        return out
    skipped = offset
    if offset and not out:  # how many of the skipped rows were in this segment
        op = "<" if desc else ">"
        left = db.execute(f"SELECT COUNT(*) FROM runs WHERE {where} AND ({col}, run_id) {op} (?, ?)", [*args, value, rid]).fetchone()[0]
        skipped = max(0, offset - left)
    elif out:
        skipped = 0
    return out + _segment(db, where, args, col, desc, False, limit=n - len(out), offset=skipped)


def try_scan(db, budget_s: float, fn):
    """Run ``fn()`` (a page read walking the sort index, filters checked row by row) for at
    most ``budget_s``; None when it ran out. Why: a broad filter (one model of six) finds
    a page within a few hundred rows of the sort index, where gathering and sorting all
    16,000 matches takes 25 ms; but when the filter and the sort key are correlated (that
    model's scores are all low) the walk can cross the whole index. SQLite's planner
    cannot know which; a time budget bounds the walk, and the filter index answers then."""
    deadline = time.perf_counter() + budget_s
    db.set_progress_handler(lambda: 1 if time.perf_counter() > deadline else 0, 2000)
    try:
        return fn()
    except sqlite3.OperationalError as exc:
        if "interrupt" not in str(exc):
            raise
        return None
    finally:
        db.set_progress_handler(None, 0)


def fetch(db, rowids: list[int]) -> tuple[list, list]:
    """(column names, rows) for ``rowids``, in that order."""
    if not rowids:
        return [], []
    cur = db.execute(f"SELECT rowid AS _rowid, * FROM runs WHERE rowid IN ({', '.join('?' for _ in rowids)})", rowids)
    names = [c[0] for c in cur.description]
    by_id = {r[0]: r for r in cur.fetchall()}
    return names[1:], [by_id[i][1:] for i in rowids if i in by_id]


def facets(db, keys=FACET_KEYS, limit: int = FACET_LIMIT) -> dict:
    """Distinct values of each filter column, by index seeks (one per value: ``MIN(k)
    WHERE k > previous``), not a scan of every row."""
    out = {}
    for k in keys:
        rows = db.execute(
            f"WITH RECURSIVE d(v) AS (SELECT MIN({k}) FROM runs UNION ALL "
            f"SELECT (SELECT MIN({k}) FROM runs WHERE {k} > d.v) FROM d WHERE d.v IS NOT NULL LIMIT ?) "
            "SELECT v FROM d WHERE v IS NOT NULL",
            (limit + 1,),
        ).fetchall()
        out[k] = [r[0] for r in rows[:limit]]
    return out
