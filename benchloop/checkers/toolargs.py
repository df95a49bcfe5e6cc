"""Tool-call arguments compared by meaning: the typed half of the toolcall checker.

Why a separate module: whether ``{"party_size": 25.0}`` is the integer 25, whether
``"FAHRENHEIT"`` is the enum value ``fahrenheit`` and whether ``"8 pm"`` is the time
``20:00`` are questions about JSON-schema types and honest spellings, not about turns and
scores; they live here, beside :mod:`benchloop.checkers.toolcall`, which judges turns.

Rules (typed, per the tool's JSON schema):

- ``integer``: an int, or a whole float (``25.0`` is 25); ``"25"`` is a string, never an
  integer. ``number``: a finite int or float within the reader's range. Booleans are only
  booleans. ``enum``: a string value in another letter case is the same value.
- strings compare normalized: NFKC, case-folded, accents and punctuation dropped,
  whitespace collapsed (``" porto. "`` is ``"Porto"``), unless the spec says ``exact:
  true`` (addresses, paths). A property with ``format: date`` / ``time`` / ``date-time``
  compares the value the answer reader parses (``"July 19, 2025"`` is ``2025-07-19``,
  ``"8 pm"`` is ``20:00``); an unreadable or ambiguous one is wrong.
- a spec ``accept`` list holds every honest spelling a task allows ("Oslo", "Oslo,
  Norway"); ``contains`` asks for phrases in free text (word-start bounded, no digit may
  follow a number); ``any`` accepts any value of the right type.

Hostile arguments: nesting deeper than ``MAX_DEPTH``, more than ``MAX_NODES`` values, NaN,
inf or numbers beyond ``MAX_ABS`` (``1e309``, a 400-digit integer) make the call's
arguments unusable, a wrong call, before any comparison runs; nothing here raises.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata

from benchloop.checkers.datetimes import parse_date, parse_datetime, parse_time
from benchloop.checkers.values import MAX_ABS

SPEC_KEYS = {"accept", "optional", "exact", "unordered", "tolerance", "contains", "any"}
MAX_DEPTH = 24
MAX_NODES = 2_000
MAX_CHARS = 40_000
MAX_CALLS = 64
MAX_TEXT = 20_000
FORMATS = {"date": parse_date, "time": parse_time, "date-time": parse_datetime}


# -------------------------------------------------------------------------- hostile input --
def unusable(args) -> str:
    """Why ``args`` cannot be judged (too deep, too big, NaN/inf, a number out of range,
    not JSON), or '' when it is plain, sane JSON data. Iterative: deep nesting cannot
    raise RecursionError here."""
    stack, nodes, chars = [(args, 0)], 0, 0
    while stack:
        v, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            return f"arguments nested deeper than {MAX_DEPTH} levels"
        if nodes > MAX_NODES:
            return f"more than {MAX_NODES} values in the arguments"
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int):
            if abs(v) > MAX_ABS:
                return "a number out of range in the arguments"
        elif isinstance(v, float):
            if not math.isfinite(v) or abs(v) > MAX_ABS:
                return "NaN, infinity or a number out of range in the arguments"
        elif isinstance(v, str):
            chars += len(v)
        elif isinstance(v, (dict, list)) and len(v) > MAX_NODES:
            return f"more than {MAX_NODES} values in the arguments"
        elif isinstance(v, dict):
            for k, x in v.items():
                if not isinstance(k, str):
                    return "a non-string key in the arguments"
                chars += len(k)
                stack.append((x, depth + 1))
        elif isinstance(v, list):
            stack.extend((x, depth + 1) for x in v)
        else:
            return f"a {type(v).__name__} is not JSON"
        if chars > MAX_CHARS:
            return f"more than {MAX_CHARS} characters of arguments"
    return ""


def clean_calls(reply) -> list[dict]:
    """The reply's tool calls in one safe shape: ``name`` a string, ``arguments`` a sane
    dict or None (with ``why`` saying what was wrong); at most ``MAX_CALLS`` kept (more
    is spam whatever they say). Idempotent."""
    raw = reply.get("tool_calls") if isinstance(reply, dict) else None
    out = []
    for c in (raw if isinstance(raw, list) else [])[: MAX_CALLS + 1]:
        c = c if isinstance(c, dict) else {}
        name = c.get("name") if isinstance(c.get("name"), str) else ""
        args, why = c.get("arguments"), c.get("why") or ""
        if not isinstance(args, dict):
            why = why or f"arguments are not a JSON object ({show(c.get('arguments_raw'))})"
            args = None
        elif unusable(args):
            why, args = unusable(args), None
        out.append({"id": c.get("id"), "name": name, "arguments": args, "arguments_raw": c.get("arguments_raw"), "why": why})
    return out


def show(value, n: int = 80) -> str:
    """A short, never-raising rendering of a value for a problem message."""
    try:
        s = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    except (TypeError, ValueError, RecursionError):
        s = f"<{type(value).__name__}>"
    return s[:n]


# --------------------------------------------------------------------------------- types --
def params(schema: dict) -> tuple[dict, list]:
    p = schema.get("parameters") if isinstance(schema, dict) else None
    p = p if isinstance(p, dict) else {}
    return (p.get("properties") or {}), list(p.get("required") or [])


def number(v):
    """A JSON number (never a bool) in range as a float, else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return float(v) if abs(v) <= MAX_ABS else None


def _in_enum(value, enum) -> bool:
    for e in enum if isinstance(enum, list) else []:
        if isinstance(e, str) and isinstance(value, str):
            if norm(e) == norm(value):
                return True
        elif number(e) is not None and number(value) is not None:
            if number(e) == number(value):
                return True
        elif e == value and type(e) is type(value):
            return True
    return False


def type_ok(value, prop: dict) -> bool:
    """``value`` fits the JSON-schema fragment ``prop`` (type, enum in any letter case,
    array items); a whole float is an integer, a numeric string is not a number."""
    if not isinstance(prop, dict):
        return True
    if "enum" in prop and not _in_enum(value, prop["enum"]):
        return False
    t = prop.get("type")
    if t is None:
        return True
    for ty in t if isinstance(t, list) else [t]:
        n = number(value)
        if ty == "string" and isinstance(value, str):
            return True
        if ty == "integer" and n is not None and n.is_integer():
            return True
        if ty == "number" and n is not None:
            return True
        if ty == "boolean" and isinstance(value, bool):
            return True
        if ty == "null" and value is None:
            return True
        if ty == "object" and isinstance(value, dict):
            return True
        if ty == "array" and isinstance(value, list):
            items = prop.get("items")
            return all(type_ok(v, items) for v in value) if isinstance(items, dict) else True
    return False


# -------------------------------------------------------------------------------- values --
_PUNCT = {"P", "S"}


def norm(s: str) -> str:
    """Case, accents, punctuation and spacing folded away: ``" Porto. "`` -> ``porto``."""
    s = unicodedata.normalize("NFKD", s[:MAX_TEXT]).casefold()
    s = "".join(" " if unicodedata.category(ch)[0] in _PUNCT else ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.split())


def _same_string(want: str, got: str, exact: bool, fmt: str | None) -> bool:
    if exact:
        return got.strip() == want.strip()
    parse = FORMATS.get(fmt or "")
    if parse is not None:
        w = parse(want)
        return w is not None and parse(got) == w
    return norm(got) == norm(want)


def values_equal(want, got, spec: dict, prop: dict | None = None) -> bool:
    """``got`` equals the accepted value ``want`` under the spec's rules and the schema
    fragment ``prop`` (its ``format`` for strings, its ``items`` for arrays)."""
    prop = prop if isinstance(prop, dict) else {}
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and want == got
    if isinstance(want, (int, float)):
        g, w = number(got), number(want)
        if g is None or w is None:
            return False
        tol = float(spec.get("tolerance") or 0.0)
        return abs(g - w) <= max(tol, 1e-9 * max(1.0, abs(w)))
    if isinstance(want, str):
        return isinstance(got, str) and _same_string(want, got, bool(spec.get("exact")), prop.get("format"))
    inner = {k: v for k, v in spec.items() if k in ("exact", "tolerance")}
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return False
        item = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if not spec.get("unordered"):
            return all(values_equal(w, g, inner, item) for w, g in zip(want, got))
        left = list(got)
        for w in want:
            k = next((i for i, g in enumerate(left) if values_equal(w, g, inner, item)), None)
            if k is None:
                return False
            del left[k]
        return True
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return False
        sub = prop.get("properties") if isinstance(prop.get("properties"), dict) else {}
        return all(values_equal(want[k], got[k], inner, sub.get(k)) for k in want)
    return want == got


def as_spec(spec) -> dict:
    """Shorthand: a bare value means ``{accept: [value]}``."""
    return spec if isinstance(spec, dict) and (set(spec) & SPEC_KEYS) else {"accept": [spec]}


def has_phrase(text: str, phrase: str) -> bool:
    """``phrase`` starts a word of ``text`` (both normalized); a number phrase may not run
    into more digits ("20" is not in "2025"), a word may take a plural ("shoe", "shoes")."""
    p = norm(str(phrase))
    return bool(p) and re.search(r"(?<!\w)" + re.escape(p) + r"(?!\d)", norm(text)) is not None


def value_matches(spec: dict, got, prop: dict | None = None) -> bool:
    if spec.get("any"):
        return True
    if "contains" in spec:
        return isinstance(got, str) and all(has_phrase(got, p) for p in spec["contains"])
    return any(values_equal(w, got, spec, prop) for w in spec.get("accept") or [])


# --------------------------------------------------------------------------------- calls --
def score_call(expected: dict, got: dict, schema: dict) -> tuple[float, list[str]]:
    """Credit 0..1 for one produced (clean) call against one expected call, and what was
    wrong: the fraction of required checked arguments right, halved for an unknown or
    mistyped extra argument."""
    name = expected["name"]
    if got.get("name") != name:
        return 0.0, [f"called {got.get('name')!r}, expected {name!r}"]
    args = got.get("arguments")
    if not isinstance(args, dict):
        return 0.0, [f"{name}: {got.get('why') or 'arguments are not a JSON object'}"]
    props, _required = params(schema)
    specs = {k: as_spec(v) for k, v in (expected.get("args") or {}).items()}
    problems, right, needed, violation = [], 0, 0, False
    for arg, spec in specs.items():
        optional = bool(spec.get("optional"))
        needed += 0 if optional else 1
        if arg not in args:
            if not optional:
                problems.append(f"{name}.{arg}: missing")
            continue
        val, prop = args[arg], props.get(arg, {})
        if not type_ok(val, prop):
            problems.append(f"{name}.{arg}: {type(val).__name__} {show(val, 60)} has the wrong type")
            violation = violation or optional
        elif value_matches(spec, val, prop):
            right += 0 if optional else 1
        else:
            problems.append(f"{name}.{arg}: {show(val)} is not an accepted value")
            violation = violation or optional
    for arg, val in args.items():
        if arg in specs:
            continue
        if arg not in props:
            problems.append(f"{name}.{arg[:40]}: unexpected argument")
            violation = True
        elif not type_ok(val, props[arg]):
            problems.append(f"{name}.{arg}: wrong type for an unchecked argument")
            violation = True
    credit = right / needed if needed else 0.0
    return (credit * 0.5 if violation else credit), problems
