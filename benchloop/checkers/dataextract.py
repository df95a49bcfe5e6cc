"""dataextract: messy text (emails, invoices, logs, listings, notes) -> one JSON object.

Why field-level and typed: a model that gets nine of ten invoice fields right is better
than one that gets none, and "12.5" is not the number 12.5 when the schema says number.
So a task states the ``expected`` object and, per field path, how a value is compared;
the score is the fraction of expected fields that are right, and every key the schema
did not ask for adds one to the denominator (inventing fields costs points).

Task ``check``::

    expected: {vendor: "Acme", total: 12.5, date: "2024-03-05", items: [...], note: null}
    fields:                      # optional rules keyed by path; "items[]" is a list item
      total: {tolerance: 0.01}
      date: {type: date}         # also: time, datetime (normalized from many formats)
      vendor: {match: ci}        # exact | ws (default) | ci | loose ; accept: [alternatives]
      "items[].name": {accept: {Oat milk: [oat milk 1l]}}   # list items: per expected value
      items: {ordered: true}     # lists are order-free unless ordered: true
      note: {optional: true}     # a null field may then be missing instead of null
    string_match: ci             # default match for every string in the task

The type of a field comes from its expected value (str, number, bool, null, list, object)
unless the rule names ``date``, ``time``, ``datetime`` or ``integer``. Nested objects are
scored leaf by leaf; a list is one field whose credit is matched items / the longer list.

No free points: the JSON must be in ``reply["content"]`` (never the reasoning, and a
``<think>`` block left inside the content is cut out first); no object, ``{}`` or an
object that gets no non-null field right scores 0. Model output is hostile input: text
and the number of parse attempts are bounded and nothing here raises on odd text.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import re
import unicodedata

CHECKER_VERSION = "dataextract-1"

MAX_TEXT = 60_000          # characters of reply searched for JSON
MAX_ATTEMPTS = 200         # '{' positions tried
MAX_LIST = 200             # items of a model list considered
MATCHES = ("exact", "ws", "ci", "loose")
RULE_TYPES = ("string", "number", "integer", "bool", "date", "time", "datetime", "list", "object", "null")


# --------------------------------------------------------------------------- JSON finding

_THINK_CLOSE = re.compile(r"</think>", re.I)


def strip_think(text: str) -> str:
    """Remove ``<think>…</think>`` blocks (an unclosed one runs to the end) and stray closers.

    The provider already separates reasoning; this is the checker's own guard, so JSON a
    model only wrote while thinking is never scored, whatever path the reply took.
    """
    out, i, low = [], 0, text.lower()
    while True:
        j = low.find("<think>", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        k = low.find("</think>", j + 7)
        if k < 0:
            break
        i = k + 8
    return _THINK_CLOSE.sub("", "".join(out))


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def find_json_object(text: str | None):
    """The first complete top-level JSON object in ``text`` (bare or inside a code fence).

    Tries ``raw_decode`` at each ``{`` in turn (at most ``MAX_ATTEMPTS``), so a brace in
    chat before the object or a broken first attempt does not hide a good object later.
    Returns a dict or None; NaN/Infinity and absurdly deep nesting are rejected.
    """
    if not isinstance(text, str) or not text:
        return None
    text = strip_think(text[: MAX_TEXT * 2])[:MAX_TEXT]
    pos, attempts = 0, 0
    while attempts < MAX_ATTEMPTS:
        j = text.find("{", pos)
        if j < 0:
            return None
        attempts += 1
        try:
            obj, _end = _DECODER.raw_decode(text, j)
        except (ValueError, RecursionError):
            pos = j + 1
            continue
        if isinstance(obj, dict):
            return obj
        pos = j + 1
    return None


# --------------------------------------------------------------------------- normalizers

def norm_string(s: str, match: str = "ws") -> str:
    """``exact`` as is; ``ws`` whitespace collapsed and trimmed; ``ci`` also case-folded;
    ``loose`` also NFKC and stripped of surrounding punctuation/quotes."""
    if match == "exact":
        return s
    if match == "loose":
        s = unicodedata.normalize("NFKC", s)
    s = " ".join(s.split())
    if match in ("ci", "loose"):
        s = s.casefold()
    if match == "loose":
        s = s.strip(" .,;:!?\"'`*_()[]")
    return s


_NUM_STR = re.compile(r"^[\s]*([-+−]?)\s*[$€£¥]?\s*(\d{1,3}(?:[,\s]\d{3})+|\d+)(\.\d+)?\s*(?:[$€£¥]|usd|eur|gbp)?\s*$", re.I)


def to_number(value, *, coerce: bool = False):
    """A JSON number (never a bool) as float; with ``coerce`` also a numeric string such as
    ``"$1,234.50"``. Anything else -> None. Non-finite values are None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if coerce and isinstance(value, str) and len(value) <= 40:
        m = _NUM_STR.match(value)
        if m:
            sign, whole, frac = m.groups()
            try:
                f = float(re.sub(r"[,\s]", "", whole) + (frac or ""))
            except ValueError:
                return None
            return -f if sign in ("-", "−") else f
    return None


_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ]
    )
    for m in names
}
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|urday)?\.?,?\s+)?"
_D_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_D_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_D_DOTS = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_D_SLASH = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_D_DMY = re.compile(r"^" + _WEEKDAY + r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\.?,?\s+(\d{4})$", re.I)
_D_MDY = re.compile(r"^" + _WEEKDAY + r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$", re.I)


def _mk_date(y, m, d):
    try:
        return _dt.date(int(y), int(m), int(d)).isoformat()
    except (ValueError, TypeError, OverflowError):
        return None


def parse_date(value, *, numeric_order: str | None = None):
    """Many written dates -> ``YYYY-MM-DD``; None when unreadable or ambiguous.

    Accepts ISO (``2024-03-05``, ``2024/3/5``), compact ``20240305``, ``5 March 2024``,
    ``Tue, March 5th, 2024``, European ``05.03.2024`` (day first) and slashed numeric dates
    when unambiguous (one part > 12) or when the field names ``numeric_order`` (mdy/dmy).
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
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        if a > 12 >= b:
            return _mk_date(y, b, a)
        if b > 12 >= a:
            return _mk_date(y, a, b)
        if a == b:
            return _mk_date(y, a, b)
        if numeric_order == "mdy":
            return _mk_date(y, a, b)
        if numeric_order == "dmy":
            return _mk_date(y, b, a)
        return None
    m = _D_DMY.match(s)
    if m and m.group(2).lower() in _MONTHS:
        return _mk_date(m.group(3), _MONTHS[m.group(2).lower()], m.group(1))
    m = _D_MDY.match(s)
    if m and m.group(1).lower() in _MONTHS:
        return _mk_date(m.group(3), _MONTHS[m.group(1).lower()], m.group(2))
    return None


_T_24 = re.compile(r"^(\d{1,2})[:h.](\d{2})(?::(\d{2}))?$", re.I)
_T_12 = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?\s*([ap])\.?\s*m\.?$", re.I)


def parse_time(value):
    """``14:30``, ``14:30:00``, ``2:30 pm``, ``2 PM``, ``14h30`` -> ``HH:MM:SS``; else None."""
    if not isinstance(value, str) or len(value) > 20:
        return None
    s = value.strip()
    m = _T_12.match(s)
    if m:
        h, mi, se, ap = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), m.group(4).lower()
        if not 1 <= h <= 12:
            return None
        h = (h % 12) + (12 if ap == "p" else 0)
    else:
        m = _T_24.match(s)
        if not m:
            return None
        h, mi, se = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 23 or mi > 59 or se > 59:
        return None
    return f"{h:02d}:{mi:02d}:{se:02d}"


_TZ = re.compile(r"(?:\s*(z|utc|gmt)|\s*([+-])(\d{2}):?(\d{2}))$", re.I)
_DT_SPLIT = re.compile(r"^(.*?)(?:t|\s+at\s+|,\s*|\s+)(\d{1,2}(?:[:h.]\d{2})?(?::\d{2})?(?:\s*[ap]\.?\s*m\.?)?)$", re.I)


def parse_datetime(value, *, numeric_order: str | None = None):
    """A date and a time (``2024-03-05T14:30``, ``March 5, 2024 at 2:30 pm``, optional
    ``Z``/``+02:00``) -> ``YYYY-MM-DDTHH:MM:SS[+HH:MM]``; else None."""
    if not isinstance(value, str) or len(value) > 80:
        return None
    s = " ".join(value.strip().split())
    tz = ""
    m = _TZ.search(s)
    if m:
        if m.group(1):
            tz = "+00:00"
        else:
            tz = f"{m.group(2)}{m.group(3)}:{m.group(4)}"
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


# --------------------------------------------------------------------------- comparison

def _rule(rules: dict, path: str) -> dict:
    r = rules.get(path)
    return r if isinstance(r, dict) else {}


def _kind(expected, rule: dict) -> str:
    if rule.get("type") in RULE_TYPES:
        return rule["type"]
    if expected is None:
        return "null"
    if isinstance(expected, bool):
        return "bool"
    if isinstance(expected, (int, float)):
        return "number"
    if isinstance(expected, str):
        return "string"
    if isinstance(expected, list):
        return "list"
    if isinstance(expected, dict):
        return "object"
    return "string"


def _scalar_ok(expected, got, rule: dict, ctx: dict) -> tuple[bool, str]:
    """One scalar field: (right?, why)."""
    kind = _kind(expected, rule)
    if kind == "null":
        return got is None, "expected null"
    if got is None:
        return False, "is null"
    if kind == "bool":
        return (isinstance(got, bool) and got == expected), f"expected {expected!r}"
    if kind in ("number", "integer"):
        g = to_number(got, coerce=bool(rule.get("coerce")))
        if g is None:
            return False, f"expected a number, got {type(got).__name__}"
        if kind == "integer" and g != int(g):
            return False, "expected an integer"
        want = float(expected)
        tol = float(rule.get("tolerance", 0) or 0)
        rel = float(rule.get("rel_tolerance", 0) or 0)
        ok = abs(g - want) <= max(tol, rel * abs(want), 1e-9 * max(1.0, abs(want)))
        return ok, f"expected {want:g}, got {g:g}"
    if kind in ("date", "time", "datetime"):
        order = rule.get("numeric_order")
        fn = {"date": parse_date, "time": parse_time, "datetime": parse_datetime}[kind]
        norm = (lambda v: fn(v)) if kind == "time" else (lambda v: fn(v, numeric_order=order))
        g = norm(got)
        if g is None:
            return False, f"not a readable {kind}: {str(got)[:40]!r}"
        return g == norm(str(expected)), f"expected {expected}, got {g}"
    # string
    if not isinstance(got, str):
        return False, f"expected a string, got {type(got).__name__}"
    match = rule.get("match") or ctx.get("string_match") or "ws"
    alts = rule.get("accept") or []
    if isinstance(alts, dict):  # per expected value: {"towbar": ["tow bar"]}
        alts = alts.get(str(expected)) or []
    accepted = [expected, *alts]
    g = norm_string(got[:2000], match)
    ok = any(g == norm_string(str(a), match) for a in accepted)
    return ok, f"expected {str(expected)[:60]!r}, got {got[:60]!r}"


def _equal(expected, got, rules: dict, path: str, ctx: dict) -> bool:
    """Whole-value equality (for list items): every leaf right and no extra keys."""
    rule = _rule(rules, path)
    kind = _kind(expected, rule)
    if kind == "object":
        if not isinstance(got, dict) or set(got) - set(expected):
            return False
        for k, v in expected.items():
            sub = f"{path}.{k}" if path else k
            if k not in got:
                if v is None and _rule(rules, sub).get("optional"):
                    continue
                return False
            if not _equal(v, got[k], rules, sub, ctx):
                return False
        return True
    if kind == "list":
        return _list_credit(expected, got, rules, path, ctx)[0] == 1.0
    return _scalar_ok(expected, got, rule, ctx)[0]


def _match_unordered(expected: list, got: list, eq) -> int:
    """Maximum bipartite matching (Kuhn's augmenting paths); lists are small and bounded."""
    adj = [[j for j, g in enumerate(got) if eq(e, g)] for e in expected]
    owner = [-1] * len(got)

    def augment(i, seen):
        for j in adj[i]:
            if j in seen:
                continue
            seen.add(j)
            if owner[j] < 0 or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    return sum(1 for i in range(len(expected)) if augment(i, set()))


def _match_ordered(expected: list, got: list, eq) -> int:
    """Longest common subsequence, so one missing item does not shift everything wrong."""
    n, m = len(expected), len(got)
    prev = [0] * (m + 1)
    for i in range(n):
        cur = [0] * (m + 1)
        for j in range(m):
            cur[j + 1] = prev[j] + 1 if eq(expected[i], got[j]) else max(prev[j + 1], cur[j])
        prev = cur
    return prev[m]


def _list_credit(expected: list, got, rules: dict, path: str, ctx: dict) -> tuple[float, str]:
    if not isinstance(got, list):
        return 0.0, f"expected a list, got {type(got).__name__}"
    got = got[:MAX_LIST]
    item_path = f"{path}[]"
    rule = _rule(rules, path)

    def eq(e, g):
        return _equal(e, g, rules, item_path, ctx)

    if not expected:
        return (1.0 if not got else 0.0), f"expected an empty list, got {len(got)} items"
    matched = _match_ordered(expected, got, eq) if rule.get("ordered") else _match_unordered(expected, got, eq)
    denom = max(len(expected), len(got))
    return matched / denom, f"{matched} of {len(expected)} expected items matched, {len(got)} given"


def _compare(expected, got, rules: dict, path: str, ctx: dict, checks: list) -> tuple[float, float, int]:
    """Walk the expected value. Returns (credit, fields, extra keys) and appends checks."""
    rule = _rule(rules, path)
    kind = _kind(expected, rule)
    if kind == "object":
        if not isinstance(got, dict):
            n = _count_fields(expected, rules, path)
            checks.append({"name": path or "$", "ok": False, "detail": f"expected an object, got {type(got).__name__}"})
            return 0.0, n, 0
        credit = fields = 0.0
        extra = 0
        for k, v in expected.items():
            sub = f"{path}.{k}" if path else k
            if k not in got:
                sub_rule = _rule(rules, sub)
                if v is None and sub_rule.get("optional"):
                    checks.append({"name": sub, "ok": True, "detail": "absent (optional null)"})
                    credit += 1
                    fields += 1
                else:
                    n = _count_fields(v, rules, sub)
                    checks.append({"name": sub, "ok": False, "detail": "missing"})
                    fields += n
                continue
            c, f, x = _compare(v, got[k], rules, sub, ctx, checks)
            credit, fields, extra = credit + c, fields + f, extra + x
        if not expected:
            fields += 1
            credit += 1
        for k in list(got)[:MAX_LIST]:
            if k not in expected:
                extra += 1
                checks.append({"name": f"{path}.{k}" if path else str(k), "ok": False, "detail": "unexpected key"})
        return credit, fields, extra
    weight = float(rule.get("weight", 1) or 1)
    if kind == "list":
        c, why = _list_credit(expected, got, rules, path, ctx)
        checks.append({"name": path, "ok": c == 1.0, "credit": round(c, 4), "detail": why})
        return c * weight, weight, 0
    ok, why = _scalar_ok(expected, got, rule, ctx)
    checks.append({"name": path, "ok": ok, "detail": "right" if ok else why})
    return (weight if ok else 0.0), weight, 0


def _count_fields(expected, rules: dict, path: str) -> float:
    rule = _rule(rules, path)
    if _kind(expected, rule) == "object" and expected:
        return sum(_count_fields(v, rules, f"{path}.{k}" if path else k) for k, v in expected.items())
    return float(rule.get("weight", 1) or 1)


def _substantive_right(expected, checks: list, rules: dict) -> bool:
    """Did the reply get at least one field right whose expected value is not null?"""
    null_paths = set()

    def walk(v, path):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}.{k}" if path else k)
        elif v is None:
            null_paths.add(path)
        elif isinstance(v, list) and not v:
            null_paths.add(path)

    walk(expected, "")
    return any(
        (c.get("ok") or c.get("credit", 0) > 0) and c["name"] not in null_paths and c.get("detail") != "unexpected key"
        for c in checks
    )


# --------------------------------------------------------------------------- interface

def validate(task: dict):
    chk = task.get("check")
    if not isinstance(chk, dict) or not isinstance(chk.get("expected"), dict) or not chk["expected"]:
        return ("check", "must be a mapping with a non-empty 'expected' object")
    rules = chk.get("fields") or {}
    if not isinstance(rules, dict):
        return ("check", "'fields' must map field paths to rules")
    for path, rule in rules.items():
        if not isinstance(rule, dict):
            return ("check", f"rule for {path!r} must be a mapping")
        if "type" in rule and rule["type"] not in RULE_TYPES:
            return ("check", f"rule for {path!r}: type must be one of {', '.join(RULE_TYPES)}")
        if "match" in rule and rule["match"] not in MATCHES:
            return ("check", f"rule for {path!r}: match must be one of {', '.join(MATCHES)}")
        acc = rule.get("accept")
        if acc is not None and not isinstance(acc, (list, dict)):
            return ("check", f"rule for {path!r}: accept must be a list or a mapping")
        if "[]" in path and isinstance(acc, list):
            return ("check", f"rule for {path!r}: inside a list, accept must map each expected value to its alternatives")
        if rule.get("numeric_order") not in (None, "mdy", "dmy"):
            return ("check", f"rule for {path!r}: numeric_order must be mdy or dmy")
        if rule.get("optional") and not _path_is_null(chk["expected"], path):
            return ("check", f"rule for {path!r}: optional only makes sense for a null field")
    if chk.get("string_match", "ws") not in MATCHES:
        return ("check", f"string_match must be one of {', '.join(MATCHES)}")
    if not _has_substance(chk["expected"]):
        return ("check", "expected needs at least one non-null field")
    for path, rule in rules.items():
        if rule.get("type") in ("date", "time", "datetime"):
            v = _path_value(chk["expected"], path)
            if isinstance(v, str):
                fn = {"date": parse_date, "time": parse_time, "datetime": parse_datetime}[rule["type"]]
                if fn(v) is None:
                    return ("check", f"{path}: {v!r} is not a readable {rule['type']}")
    return None


def _path_value(expected, path: str):
    cur = expected
    for part in path.split("."):
        if part.endswith("[]"):
            return None
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _path_is_null(expected, path: str) -> bool:
    cur = expected
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False
        cur = cur[part]
    return cur is None


def _has_substance(v) -> bool:
    if isinstance(v, dict):
        return any(_has_substance(x) for x in v.values())
    if isinstance(v, list):
        return bool(v)
    return v is not None


def _zero(reason: str, checks=None, found=False) -> dict:
    return {
        "score": 0.0,
        "passed": False,
        "reason": reason,
        "checks": checks or [{"name": "json", "ok": False, "detail": reason}],
        "json_found": found,
    }


def check(task: dict, reply: dict) -> dict:
    """Score ``reply["content"]`` against ``task["check"]``; the reasoning is never read."""
    chk = task["check"]
    content = reply.get("content") if isinstance(reply, dict) else None
    obj = find_json_object(content if isinstance(content, str) else "")
    if obj is None:
        return _zero("no JSON object in the reply content")
    expected = chk["expected"]
    rules = chk.get("fields") or {}
    ctx = {"string_match": chk.get("string_match")}
    checks: list = []
    credit, fields, extra = _compare(expected, obj, rules, "", ctx, checks)
    if not _substantive_right(expected, checks, rules):
        return _zero("no non-null field right", checks, True)
    denom = fields + extra
    score = 100.0 * credit / denom if denom else 0.0
    score = round(score, 4)
    wrong = [c["name"] for c in checks if not c.get("ok")]
    reason = "all fields right" if not wrong else f"{len(wrong)} wrong: {', '.join(wrong[:8])}"
    return {
        "score": score,
        "passed": score >= 100.0,
        "reason": reason,
        "checks": checks[:200],
        "json_found": True,
        "fields_total": fields,
        "extra_keys": extra,
    }
