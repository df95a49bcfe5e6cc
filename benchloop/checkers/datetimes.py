"""Dates and clock times as people write them: the other scanning half of the answer reader.

Two kinds of function:

- strict ``parse_date`` / ``parse_time`` / ``parse_datetime``: one whole value (a JSON
  field, an expected value from a task file) -> ``YYYY-MM-DD`` / ``HH:MM:SS`` /
  ``YYYY-MM-DDTHH:MM:SS[+HH:MM]``, or None when unreadable or ambiguous;
- ``scan_dates`` / ``scan_times``: every date or time written inside free text, with
  where it is (:class:`~benchloop.checkers.values.Found`), for the answer readers.

Numeric dates are read only where unambiguous: ISO order, European dots (day first), and
slashes only when one part is over 12 or both are equal, unless the caller says the order.
Every regex is linear and bounded; nothing raises on odd text.
"""
from __future__ import annotations

import datetime as _dt
import re

from benchloop.checkers.values import MAX_FOUND, MAX_SCAN, Found

_MONTH_NAMES = [
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
    ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
    ("september", "sept", "sep"), ("october", "oct"), ("november", "nov"), ("december", "dec"),
]
MONTHS = {m: i + 1 for i, names in enumerate(_MONTH_NAMES) for m in names}
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|urday)?\.?,?\s+)?"
_ORD = r"(?:st|nd|rd|th)?"

# strict, whole-value forms
_D_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_D_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_D_DOTS = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_D_SLASH = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_D_DMY = re.compile(r"^" + _WEEKDAY + r"(?:the\s+)?(\d{1,2})" + _ORD + r"\s+(?:of\s+)?([a-z]{3,9})\.?,?\s+(\d{4})$", re.I)
_D_MDY = re.compile(r"^" + _WEEKDAY + r"([a-z]{3,9})\.?\s+(?:the\s+)?(\d{1,2})" + _ORD + r",?\s+(\d{4})$", re.I)

# inside free text
_S_ISO = re.compile(r"(?<![\d.,/-])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d])")
_S_NUM = re.compile(r"(?<![\d.,/-])(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?![\d])")
_S_DMY = re.compile(r"(?<![\w])" + r"(\d{1,2})" + _ORD + r"(?:\s{1,3}of)?\s{1,3}" + _MONTH + r"\b\.?(?:,?\s{1,3}(\d{4})(?!\d))?", re.I)
_S_MDY = re.compile(r"\b" + _MONTH + r"\.?\s{1,3}(?:the\s{1,3})?(\d{1,2})" + _ORD + r"(?![\w:])(?:,?\s{1,3}(\d{4})(?!\d))?", re.I)

_T_24 = re.compile(r"^(\d{1,2})[:h.](\d{2})(?::(\d{2}))?$", re.I)
_T_12 = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?\s*([ap])\.?\s*m\.?$", re.I)
_T_WORDS = {"noon": "12:00:00", "midday": "12:00:00", "12 noon": "12:00:00", "midnight": "00:00:00", "12 midnight": "00:00:00"}
_S_T12 = re.compile(r"(?<![\d:.,])(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?\s{0,2}([ap])\.?\s?m\b\.?", re.I)
_S_T24 = re.compile(r"(?<![\d:.,])(\d{1,2})[:h](\d{2})(?::(\d{2}))?(?![\d:])(?!\s{0,2}[ap]\.?\s?m\b)", re.I)
_S_TWORD = re.compile(r"\b(?:12\s{1,2})?(noon|midday|midnight)\b", re.I)


def _mk_date(y, m, d):
    try:
        return _dt.date(int(y), int(m), int(d)).isoformat()
    except (ValueError, TypeError, OverflowError):
        return None


def _numeric(a: int, b: int, y, numeric_order: str | None):
    """A slashed a/b/y date: unambiguous (one part over 12, or equal parts) or by order."""
    if a > 12 >= b:
        return _mk_date(y, b, a)
    if b > 12 >= a:
        return _mk_date(y, a, b)
    if a == b or numeric_order == "mdy":
        return _mk_date(y, a, b)
    if numeric_order == "dmy":
        return _mk_date(y, b, a)
    return None


def parse_date(value, *, numeric_order: str | None = None):
    """Many written dates -> ``YYYY-MM-DD``; None when unreadable or ambiguous.

    Accepts ISO (``2024-03-05``, ``2024/3/5``), compact ``20240305``, ``5 March 2024``,
    ``Tue, March 5th, 2024``, ``the 5th of March 2024``, European ``05.03.2024`` (day
    first) and slashed numeric dates when unambiguous (one part > 12) or when the field
    names ``numeric_order`` (mdy/dmy).
    """
    if not isinstance(value, str) or len(value) > 60:
        return None
    s = " ".join(value.strip().split())
    for rx in (_D_ISO, _D_COMPACT):
        m = rx.match(s)
        if m:
            return _mk_date(*m.groups())
    m = _D_DOTS.match(s)
    if m:
        return _mk_date(m.group(3), m.group(2), m.group(1))
    m = _D_SLASH.match(s)
    if m:
        return _numeric(int(m.group(1)), int(m.group(2)), m.group(3), numeric_order)
    m = _D_DMY.match(s)
    if m and m.group(2).lower() in MONTHS:
        return _mk_date(m.group(3), MONTHS[m.group(2).lower()], m.group(1))
    m = _D_MDY.match(s)
    if m and m.group(1).lower() in MONTHS:
        return _mk_date(m.group(3), MONTHS[m.group(1).lower()], m.group(2))
    return None


def _hms(h, mi, se, ap=None):
    h, mi, se = int(h), int(mi or 0), int(se or 0)
    if ap:
        if not 1 <= h <= 12:
            return None
        h = (h % 12) + (12 if ap.lower() == "p" else 0)
    if h > 23 or mi > 59 or se > 59:
        return None
    return f"{h:02d}:{mi:02d}:{se:02d}"


def parse_time(value):
    """``14:30``, ``14:30:00``, ``2:30 pm``, ``2 PM``, ``14h30``, ``noon`` -> ``HH:MM:SS``; else None."""
    if not isinstance(value, str) or len(value) > 20:
        return None
    s = " ".join(value.strip().split())
    if s.lower() in _T_WORDS:
        return _T_WORDS[s.lower()]
    m = _T_12.match(s)
    if m:
        return _hms(m.group(1), m.group(2), m.group(3), m.group(4))
    m = _T_24.match(s)
    return _hms(*m.groups()) if m else None


_TZ = re.compile(r"(?:\s*(z|utc|gmt)|\s*([+-])(\d{2}):?(\d{2}))$", re.I)
_DT_SPLIT = re.compile(r"^(.*?)(?:t|\s+at\s+|,\s*|\s+)(\d{1,2}(?:[:h.]\d{2})?(?::\d{2})?(?:\s*[ap]\.?\s*m\.?)?|noon|midnight)$", re.I)


def parse_datetime(value, *, numeric_order: str | None = None):
    """A date and a time (``2024-03-05T14:30``, ``March 5, 2024 at 2:30 pm``, optional
    ``Z``/``+02:00``) -> ``YYYY-MM-DDTHH:MM:SS[+HH:MM]``; else None."""
    if not isinstance(value, str) or len(value) > 80:
        return None
    s = " ".join(value.strip().split())
    tz = ""
    m = _TZ.search(s)
    if m:
        tz = "+00:00" if m.group(1) else f"{m.group(2)}{m.group(3)}:{m.group(4)}"
        s = s[: m.start()].strip()
    s = re.sub(r"(\d)\.\d+$", r"\1", s)  # fractional seconds
    m = _DT_SPLIT.match(s)
    if not m:
        return None
    d = parse_date(m.group(1).strip().rstrip(","), numeric_order=numeric_order)
    t = parse_time(m.group(2))
    if d is None or t is None:
        return None
    return f"{d}T{t}{tz}"


# --------------------------------------------------------------------------- in free text

def _free(spans, a, b) -> bool:
    return not any(x < b and a < y for x, y in spans)


def scan_dates(text: str, *, numeric_order: str | None = None) -> list[Found]:
    """Every date written in ``text``: ``Found.value`` is ``YYYY-MM-DD``, or ``--MM-DD``
    when no year is written ("3rd of March"). Impossible dates (31 February) and
    ambiguous numeric ones (03/05/2025 without ``numeric_order``) are left out."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_SCAN]
    out: list[Found] = []
    spans: list[tuple[int, int]] = []

    def add(value, m):
        a, b = m.span()
        if value and _free(spans, a, b):
            spans.append((a, b))
            out.append(Found(value, a, b))

    for m in _S_ISO.finditer(text):
        if len(out) >= MAX_FOUND:
            break
        add(_mk_date(m.group(1), m.group(3), m.group(4)), m)
    for m in _S_NUM.finditer(text):
        if len(out) >= MAX_FOUND:
            break
        a, b, y = int(m.group(1)), int(m.group(3)), m.group(4)
        add(_mk_date(y, b, a) if m.group(2) == "." else _numeric(a, b, y, numeric_order), m)
    for rx, day_g, mon_g in ((_S_DMY, 1, 2), (_S_MDY, 2, 1)):
        for m in rx.finditer(text):
            if len(out) >= MAX_FOUND:
                break
            mon = m.group(mon_g)
            if mon == "may" or mon.lower() not in MONTHS:
                continue  # lower-case "may" is the verb
            d, mo, y = int(m.group(day_g)), MONTHS[mon.lower()], m.group(3)
            if y:
                add(_mk_date(y, mo, d), m)
            elif _mk_date(2000, mo, d):  # a leap year, so 29 February is a date
                add(f"--{mo:02d}-{d:02d}", m)
    out.sort(key=lambda f: f.start)
    return out


def scan_times(text: str) -> list[Found]:
    """Every clock time in ``text`` ("11:45 AM", "7pm", "19:30", "19h30", "noon"):
    ``Found.value`` is ``HH:MM:SS``. Impossible times (25:00, 13 pm) are left out."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_SCAN]
    out: list[Found] = []
    spans: list[tuple[int, int]] = []
    for rx, conv in (
        (_S_TWORD, lambda m: _T_WORDS[m.group(1).lower()]),
        (_S_T12, lambda m: _hms(m.group(1), m.group(2), m.group(3), m.group(4))),
        (_S_T24, lambda m: _hms(m.group(1), m.group(2), m.group(3))),
    ):
        for m in rx.finditer(text):
            if len(out) >= MAX_FOUND:
                break
            v = conv(m)
            a, b = m.span()
            if v and _free(spans, a, b):
                spans.append((a, b))
                out.append(Found(v, a, b))
    out.sort(key=lambda f: f.start)
    return out
