"""dataextract: messy text (emails, invoices, logs, listings, notes) -> one JSON object.

Why field-level and typed: a model that gets nine of ten invoice fields right is better
than one that gets none, and "12.5" is not the number 12.5 when the schema says number.
So a task states the ``expected`` object and, per field path, how a value is compared;
the score is the fraction of expected fields that are right, and every key the schema
did not ask for adds one to the denominator (inventing fields costs points).

Task ``check``::

    expected: {vendor: "Acme", total: 12.5, date: "2024-03-05", items: [...], note: null}
    fields:                      # optional rules keyed by path; "items[]" is a list item
      total: {tolerance: 0.01}   # coerce: true also reads "$12.50", "12,50 €", "7.5kg"
      weight: {coerce: true, unit: kg}   # "7500 g" is then 7.5; "7.5 lb" is wrong
      date: {type: date}         # also: time, datetime (normalized from many formats)
      vendor: {match: ci}        # exact | ws (default) | ci | loose ; accept: [alternatives]
      "items[].name": {accept: {Oat milk: [oat milk 1l]}}   # list items: per expected value
      items: {ordered: true}     # lists are order-free unless ordered: true
      note: {optional: true}     # a null field may then be missing instead of null
    string_match: ci             # default match for every string in the task

The type of a field comes from its expected value (str, number, bool, null, list, object)
unless the rule names ``date``, ``time``, ``datetime`` or ``integer``. Nested objects are
scored leaf by leaf; a list is one field whose credit is matched items / the longer list.

Values are read by the shared answer reader (:mod:`benchloop.checkers.answers`), the same
way in every suite. No free points: the JSON must be in ``reply["content"]`` (never the
reasoning; a ``<think>`` block left inside the content, or everything before a lone
``</think>``, is cut out first); no object, ``{}`` or an object whose only right
fields are null or true/false ones (a guess) scores 0. Model output is hostile input: text
and the number of parse attempts are bounded and nothing here raises on odd text.
"""
from __future__ import annotations

import unicodedata

from benchloop.checkers.answers import (  # noqa: F401  (re-exported: dataextract's own names)
    MAX_JSON_ATTEMPTS, MAX_JSON_TEXT as MAX_TEXT, find_json_object, parse_date, parse_datetime, parse_time,
    strip_reasoning, strip_think, to_number, unit_of,
)
from benchloop.record import Verdict

CHECKER_VERSION = "dataextract-3"

MAX_LIST = 200             # items of a model list considered
MATCHES = ("exact", "ws", "ci", "loose")
RULE_TYPES = ("string", "number", "integer", "bool", "date", "time", "datetime", "list", "object", "null")


# --------------------------------------------------------------------------- reading values
# Reasoning, JSON and typed values are read by the one answer reader every suite shares
# (benchloop.checkers.answers); these names stay importable from here.

MAX_ATTEMPTS = MAX_JSON_ATTEMPTS


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
        g = to_number(got, coerce=bool(rule.get("coerce")), unit=rule.get("unit"))
        if g is None:
            return False, f"expected a number, got {type(got).__name__}"
        if kind == "integer" and abs(g - round(g)) > 1e-9:
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
    """Did the reply get at least one field right whose expected value is neither null
    nor a bool? A true/false field is a coin: ``{"pets_allowed": true}`` sent to every
    task would otherwise earn points for a guess."""
    null_paths = set()

    def walk(v, path):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}.{k}" if path else k)
        elif v is None or isinstance(v, bool):
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
        if "unit" in rule and not unit_of(str(rule["unit"])):
            return ("check", f"rule for {path!r}: unit {rule['unit']!r} is not a unit the answer reader knows")
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


def _zero(reason: str, checks=None, found=False) -> Verdict:
    return Verdict(0.0, False, reason, checks or [{"name": "json", "ok": False, "detail": reason}], {"json_found": found})


def check(task: dict, reply: dict) -> Verdict:
    """Score the answer part of ``reply["content"]`` against ``task["check"]``; the
    reasoning (``reply["reasoning"]``, think blocks, everything before a lone
    ``</think>``) is never read."""
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
    score = round(100.0 * credit / denom if denom else 0.0, 4)
    wrong = [c["name"] for c in checks if not c.get("ok")]
    reason = "all fields right" if not wrong else f"{len(wrong)} wrong: {', '.join(wrong[:8])}"
    detail = {"json_found": True, "fields_total": fields, "extra_keys": extra}
    return Verdict(score, score >= 100.0, reason, checks[:200], detail)
