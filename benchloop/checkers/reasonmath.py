"""reasonmath: practical word problems answered on a final ``ANSWER:`` line.

Why typed and read by the shared reader: formatting must not decide the score, the value
must. "750g", "$2,121.80", "25,37 €", "11:45 AM" and "The youngest is Carla." are right
answers; "44 or 50", "not 44", a line listing every candidate, 1e309 are not. Every value
is read by :mod:`benchloop.checkers.answers`, the same way in every suite, so an answer
that offers several values of its type (a hedge), bounds it ("at least 5") or denies it
("not Ben") reads as nothing and fails.

Task ``check`` (one of)::

    {type: number, value: 750, unit: g, tolerance: 0.5}   # unit: what the task asks in
    {type: number, value: 168, integer: true}             # a count: 168.0 is 168, 4.7 is wrong
    {type: money, value: 43.20}                           # exact to the cent; currency: usd optional
    {type: time, value: "11:45"}                          # 24-hour; "11:45 AM", "11h45" read the same
    {type: choice, value: Carla, options: [Ana, Ben, Carla, Dev]}   # >= 3 options; accept: {opt: [spellings]}
    {type: pairs, value: {red: 24, blue: 40}}             # "red=24, blue=40", order-free

A number given in another unit of the asked unit's family ("1.5 hours" when minutes are
asked) is wrong unless the task says ``convert: true``: several tasks *are* the conversion,
and restating the prompt's "2.5 hours" must not pass as 9000 seconds. Reasoning is never
looked at: ``reply["reasoning"]``, ``<think>`` blocks and everything before a lone
``</think>`` are cut by the reader before the ``ANSWER:`` line is searched.
"""
from __future__ import annotations

import re

from benchloop.checkers.answers import (
    READER_VERSION, final_answer, negated, parse_time, read_choice, read_money, read_number, read_time,
    scan_numbers, unit_of,
)
from benchloop.checkers.values import convert
from benchloop.record import Verdict

CHECKER_VERSION = "reasonmath-3"  # reads with answers.READER_VERSION (kept in each verdict's detail)
TYPES = ("number", "money", "time", "choice", "pairs")
MIN_OPTIONS = 3  # a two-way choice is a coin a constant reply wins half the time
MAX_PAIR_TEXT = 4000


# --------------------------------------------------------------------------- validation

def validate(task: dict):
    """``(field, why)`` when the task's check is unusable, else None."""
    chk = task.get("check")
    if not isinstance(chk, dict) or chk.get("type") not in TYPES:
        return ("check", f"must be a mapping with type one of {', '.join(TYPES)}")
    if "value" not in chk:
        return ("check", "needs a 'value'")
    t, v = chk["type"], chk["value"]
    if t in ("number", "money") and (isinstance(v, bool) or not isinstance(v, (int, float))):
        return ("check", "value must be a number")
    if t == "number" and chk.get("unit") is not None and not unit_of(str(chk["unit"])):
        return ("check", f"unit {chk['unit']!r} is not a unit the answer reader knows")
    if t == "number" and chk.get("integer") and float(v) != int(v):
        return ("check", "an integer answer needs a whole value")
    if t == "money" and chk.get("currency") is not None and not unit_of(str(chk["currency"])):
        return ("check", f"currency {chk['currency']!r} is not one the answer reader knows")
    if t == "time" and not (isinstance(v, str) and parse_time(v)):
        return ("check", "value must be a clock time such as '11:45'")
    if t == "choice":
        opts = chk.get("options")
        if not isinstance(opts, list) or len(opts) < MIN_OPTIONS or v not in opts:
            return ("check", f"a choice needs options (at least {MIN_OPTIONS}) that include its value")
        acc = chk.get("accept")
        if acc is not None and not (isinstance(acc, dict) and set(acc) <= set(opts)):
            return ("check", "accept must map options to their other spellings")
    if t == "pairs":
        if not (isinstance(v, dict) and v) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v.values()
        ):
            return ("check", "value must be a mapping of key: number")
    return None


# --------------------------------------------------------------------------- judging one kind

def _within(got: float, chk: dict) -> bool:
    want = float(chk["value"])
    tol = float(chk.get("tolerance", 0) or 0)
    rel = float(chk.get("rel_tolerance", 0) or 0)
    return abs(got - want) <= max(tol, rel * abs(want), 1e-9 * max(1.0, abs(want)))


def _other_unit(ans: str, want: str) -> str:
    """A unit of ``want``'s family other than ``want`` that a number in ``ans`` carries."""
    for f in scan_numbers(ans[:MAX_PAIR_TEXT]):
        u = f.unit
        if u and u != want and unit_of(u) == u and convert(1.0, u, want) is not None:
            return u
    return ""


def _check_number(chk: dict, ans: str) -> tuple[bool, str]:
    want_unit = unit_of(str(chk["unit"])) if chk.get("unit") else None
    r = read_number(ans, unit=want_unit, integer=bool(chk.get("integer")))
    if not r.ok:
        return False, r.why
    if _bounded(ans):
        return False, _bounded(ans)
    if want_unit and not chk.get("convert"):
        other = _other_unit(ans, want_unit)
        if other:
            return False, f"answered in {other}; the task asks for {want_unit}"
    shown = f"{chk['value']:g}" if isinstance(chk["value"], float) else str(chk["value"])
    return _within(float(r.value), chk), f"expected {shown}{(' ' + want_unit) if want_unit else ''}, got {float(r.value):g}"


def _check_money(chk: dict, ans: str) -> tuple[bool, str]:
    r = read_money(ans, currency=chk.get("currency"))
    if not r.ok:
        return False, r.why
    if _bounded(ans):
        return False, _bounded(ans)
    want = float(chk["value"])
    return round(r.value * 100) == round(want * 100), f"expected {want:.2f}, got {r.value:.2f}"


def _check_time(chk: dict, ans: str) -> tuple[bool, str]:
    r = read_time(ans)
    if not r.ok:
        return False, r.why
    if _bounded(ans):
        return False, _bounded(ans)
    spans = [(f.start, f.end) for f in r.found]
    for m in _CLOCKISH.finditer(ans[:MAX_PAIR_TEXT]):
        if not any(a <= m.start() < b for a, b in spans):
            return False, f"hedge: {m.group()!r} offered beside {r.value[:5]}"
    want = parse_time(str(chk["value"]))
    return r.value == want, f"expected {want[:5]}, got {r.value[:5]}"


def _choice_options(chk: dict) -> dict:
    acc = chk.get("accept") or {}
    return {str(o): [str(o), *[str(a) for a in (acc.get(o) or [])]] for o in chk["options"]}


def _check_choice(chk: dict, ans: str) -> tuple[bool, str]:
    r = read_choice(ans, _choice_options(chk))
    if not r.ok:
        return False, r.why
    return r.value == str(chk["value"]), f"expected {chk['value']}, got {r.value}"


def _pair_values(ans: str, key: str) -> list[str]:
    words = r"[\s_-]*".join(map(re.escape, re.split(r"[\s_-]+", key.strip())))
    rx = re.compile(r"(?<![\w])" + words + r"(?![\w])\s*(?:=|:|\bis\b|\bare\b)\s*((?:(?!\band\s+[^\W\d])[^,;\n]){0,60})", re.I)
    return [m.group(1) for m in rx.finditer(ans[:MAX_PAIR_TEXT])]


def _check_pairs(chk: dict, ans: str) -> tuple[bool, str]:
    denied = negated(ans, "number")
    if denied:
        return False, denied
    for key, want in chk["value"].items():
        found = _pair_values(ans, str(key))
        if not found:
            return False, f"{key}: missing"
        values = set()
        for text in found:
            r = read_number(text)
            if not r.ok:
                return False, f"{key}: {r.why}"
            values.add(round(float(r.value), 9))
        if len(values) > 1:
            return False, f"{key}: hedge: several values"
        got = values.pop()
        tol = float(chk.get("tolerance", 0) or 0)
        if abs(got - float(want)) > max(tol, 1e-9):
            return False, f"{key}: expected {want}, got {got:g}"
    return True, "all pairs match"


# A bound written after a unit ("7.5 kg or more"): the reader looks right after the number only.
_BOUND_AFTER_UNIT = re.compile(
    r"\bor\s+(?:more|less|fewer|so|higher|lower|later|earlier|above|below)\b|\bor thereabouts\b|-ish\b", re.I)
# "26:15" is no clock time, but offered beside one it is still a second candidate.
_CLOCKISH = re.compile(r"\d{1,3}\s?[:h]\s?\d{2}(?!\d)")


def _bounded(ans: str) -> str:
    m = _BOUND_AFTER_UNIT.search(ans[:MAX_PAIR_TEXT])
    return f"hedge: a bound ({m.group()!r}), not one value" if m else ""


_JUDGES = {"number": _check_number, "money": _check_money, "time": _check_time, "choice": _check_choice, "pairs": _check_pairs}


# --------------------------------------------------------------------------- interface

def check(task: dict, reply: dict) -> Verdict:
    """Judge the last ``ANSWER:`` (or ``Final answer:``) line of ``reply["content"]``
    outside reasoning against ``task["check"]``. Pure; never raises on any reply text."""
    content = reply.get("content") if isinstance(reply, dict) else None
    ans = final_answer(content if isinstance(content, str) else "")
    detail = {"answer": ans, "reader": READER_VERSION}
    if ans is None:
        reason = "no 'ANSWER:' line in the reply"
        return Verdict(0.0, False, reason, [{"name": "answer", "ok": False, "detail": reason}], detail)
    chk = task["check"]
    ok, why = _JUDGES[chk["type"]](chk, ans)
    reason = "correct" if ok else why
    return Verdict(100.0 if ok else 0.0, ok, reason, [{"name": "answer", "ok": ok, "detail": reason}], detail)

