"""One way to print a number: ``—`` when it is missing, fixed decimals per unit.

Every report, table and page (the console report, Markdown and CSV-free text, ``benchloop
runs``, ``compare``, the dashboard) prints numbers through here, so a score is ``87.5``
everywhere and never ``87.50`` in one place and ``88`` in another. The unit is named
the way metric names carry it (``ttft_ms``, ``decode_tok_s``): :func:`metric` takes the
name and finds the unit from its suffix.
"""
from __future__ import annotations

import math

MISSING = "—"
# unit -> decimals
DECIMALS = {
    "score": 1,  # 0-100 scores, suite/quality/overall, CI bounds
    "ms": 1,
    "tok_s": 1,
    "pct": 1,
    "gb_s": 1,
    "gb": 1,
    "mb": 1,
    "s": 2,
    "ratio": 3,
    "p": 3,
    "count": 0,
}
# metric-name suffix -> unit, longest first
SUFFIXES = (("_tok_s", "tok_s"), ("_gb_s", "gb_s"), ("_ms", "ms"), ("_pct", "pct"), ("_ratio", "ratio"), ("_gb", "gb"), ("_mb", "mb"), ("_s", "s"))


def _number(v) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def num(v, unit: str = "score", *, digits: int | None = None) -> str:
    """``v`` with the unit's decimals (``digits`` overrides them); ``—`` for None, NaN,
    infinities and anything that is not a number."""
    x = _number(v)
    if x is None:
        return MISSING
    return f"{x:.{DECIMALS.get(unit, 1) if digits is None else digits}f}"


def signed(v, unit: str = "score", *, digits: int | None = None) -> str:
    """A difference: always with its sign (``+2.5``, ``-0.3``, ``+0.0``)."""
    x = _number(v)
    if x is None:
        return MISSING
    return f"{x:+.{DECIMALS.get(unit, 1) if digits is None else digits}f}"


def p_value(p) -> str:
    """A p-value: three decimals, ``<0.001`` below that."""
    x = _number(p)
    if x is None:
        return MISSING
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def unit_of(name: str) -> str:
    """The unit a metric name carries (``ttft_ms`` -> ``ms``); ``score`` when it names none."""
    for suffix, unit in SUFFIXES:
        if name.endswith(suffix):
            return unit
    return "score"


def metric(name: str, v, *, digits: int | None = None) -> str:
    """``v`` formatted for the metric called ``name``."""
    return num(v, unit_of(name), digits=digits)
