"""The agent suite's world state, and how short values in it are written.

Why its own module: the state (a per-task dict of sections seeded from the task's YAML
``state:``), the :class:`ToolError` every tool raises, the bounds on hostile model input
and the normalizers for paths, dates and times are shared by three readers -- the tool
implementations (:mod:`.operations`), the argument checker (:mod:`.registry`) and the
agent checker, which compares arguments and facts in the same normalized form. Keeping
them here, free of any tool, lets each of those import only what it needs.
"""
from __future__ import annotations

import copy
import datetime as _dt
import re
import unicodedata
from typing import Callable

SECTIONS = ("files", "calendar", "inventory", "orders", "weather", "stocks")
MAX_TEXT = 200  # any short string argument (path, title, name, id)
MAX_CONTENT = 20_000  # a file's content
MAX_FILES = 200
MAX_EVENTS = 200
MAX_ORDERS = 500
MAX_QUANTITY = 100_000
MAX_EXPRESSION = 200
MAX_RESULT_ITEMS = 100


class ToolError(Exception):
    """A tool refused the call; the message goes back to the model as ``{"error": ...}``."""


# --------------------------------------------------------------------------- values


def jsonable(value):
    """YAML gives dates, datetimes and non-string keys; the state must be plain JSON."""
    if isinstance(value, dict):
        return {str(jsonable(k)) if not isinstance(k, str) else k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def new_state(seed: dict | None) -> dict:
    """A fresh, independent state for one task from its YAML ``state:``."""
    state = copy.deepcopy(jsonable(seed or {}))
    for name in SECTIONS:
        state.setdefault(name, {})
    return state


def fold(s: str) -> str:
    """Case- and width-insensitive form of a short text, for lookups and comparisons."""
    s = unicodedata.normalize("NFKC", str(s)).casefold()
    return re.sub(r"\s+", " ", s).strip()


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def norm_date(value: str) -> str:
    m = _DATE.match(value.strip())
    if not m:
        raise ToolError(f"date {value[:40]!r} must be written YYYY-MM-DD")
    try:
        return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        raise ToolError(f"date {value[:40]!r} is not a real calendar date") from None


def norm_time(value: str) -> str:
    m = _TIME.match(value.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ToolError(f"time {value[:40]!r} must be written HH:MM (24-hour)")
    return f"{int(m[1]):02d}:{m[2]}"


def norm_path(value: str) -> str:
    p = value.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    p = p.lstrip("/")
    p = re.sub(r"/{2,}", "/", p)
    if not p or p.endswith("/"):
        raise ToolError(f"path {value[:60]!r} must name a file, like 'notes/todo.txt'")
    if any(part in ("", ".", "..") for part in p.split("/")):
        raise ToolError(f"path {value[:60]!r} may not contain '.' or '..' parts")
    return p


# How each argument kind is normalized before use (and before a checker compares it).
NORMALIZERS: dict[str, Callable[[str], str]] = {
    "path": norm_path,
    "date": norm_date,
    "time": norm_time,
    "upper": lambda v: v.strip().upper(),
    "text": lambda v: re.sub(r"\s+", " ", v).strip(),
    "raw": lambda v: v,
}
