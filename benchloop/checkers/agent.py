"""agent: a real tool loop over deterministic local tools, graded on the outcome.

Why a loop of its own: an agent is judged by what it leaves behind, so BenchLoop plays
the environment. Each turn the model's tool calls run against the task's fresh state
(:mod:`benchloop.agent_tools`), the results go back in the form the harness teaches, and
the conversation repeats until a reply without tool calls (the final answer) or the turn
limit. ``benchloop.drivers.agentloop`` is that loop against a model; :func:`simulate` is the same loop fed a
script of logical replies, which is how :func:`validate` proves at load time that every
task's ``reference`` scores 100 and its ``wrong`` scores less.

A task's ``check``:

- ``state``: expected values in the final state, only for the keys named. ``~`` (null)
  means the key must be gone; ``{$number: x, tolerance: t}`` matches a number or a text
  holding exactly one number; ``$any: [...]`` under a section means each listed record
  must match a distinct record of that section (new events/orders whose ids the agent
  cannot know in advance). Strings compare case- and whitespace-insensitively.
- ``answer``: facts the final answer must contain, by type — ``number`` (exact unless a
  ``tolerance``/``rel_tolerance`` is stated), ``date`` (ISO or month-name forms,
  normalized), ``time`` (24-hour or am/pm), ``name`` (case-insensitive whole phrase, with
  optional ``accept`` alternatives). ``forbid: true`` turns a fact into a gate: if it
  appears, no answer fact is credited.
- ``calls``: required calls, each matched on its own to a distinct successful call with
  the listed arguments (normalized as the tool normalizes them) — two required calls to
  the same tool need two calls.
- ``preserve``: ``{section: [keys]}`` that must end as they started (penalty if not).

Score: outcome checks (state + answer facts) weigh 70 and required calls 30 (outcome
alone 100 when no calls are listed); if no outcome check passes the score is 0, so
calls alone never earn points. Penalties: 25 per call to an un-offered or invented tool,
25 per disturbed ``preserve`` key, 10 per turn beyond the task's budget, 20 for never
giving a final answer. :func:`validate` rejects a task whose outcome checks an agent that
does nothing could pass (each expected state must differ from the initial state, and no
answer fact may be found in the prompt), which is what keeps empty, echoed and constant
replies at 0.
"""
from __future__ import annotations

import json
import re

from benchloop import agent_tools as at
from benchloop.checkers.answers import normalize_text, numbers_in, single_number
from benchloop.agent_episode import MAX_TRACE_TEXT, max_turns, simulate  # noqa: F401  (max_turns: the turn limit validate checks)
from benchloop.record import Verdict
from benchloop.tasks import task_messages

CHECKER_VERSION = "agent-1"
MAX_ANSWER_CHARS = 3000
MAX_ANSWER_NUMBERS = 30
OUTCOME_WEIGHT = 0.7
PENALTY_BAD_TOOL = 25.0
PENALTY_PRESERVE = 25.0
PENALTY_WASTED_TURN = 10.0
PENALTY_UNFINISHED = 20.0
FACT_TYPES = ("number", "date", "time", "name")
ABSENT = None


# =========================================================================== facts

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_D_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_D_MDY = re.compile(r"\b" + _MONTH + r"\.?\s{1,3}(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s{1,3}(\d{4})\b)?", re.IGNORECASE)
_D_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?(?:\s{1,3}of)?\s{1,3}" + _MONTH + r"\b\.?(?:,?\s{1,3}(\d{4})\b)?", re.IGNORECASE)
_T_12 = re.compile(r"(?<![\d:.])(1[0-2]|0?[1-9])(?:[:.]([0-5]\d))?\s{0,2}([ap])\.?\s?m\b\.?", re.IGNORECASE)
_T_24 = re.compile(r"(?<![\d:.])([01]?\d|2[0-3])[:h]([0-5]\d)(?![\d:])(?!\s{0,2}[ap]\.?\s?m\b)", re.IGNORECASE)


def dates_in(text: str) -> set:
    """(year or None, month, day) for every date written in a common form."""
    out = set()
    for y, m, d in _D_ISO.findall(text):
        out.add((int(y), int(m), int(d)))
    for mon, d, y in _D_MDY.findall(text):
        out.add((int(y) if y else None, _MONTHS[mon[:3].lower()], int(d)))
    for d, mon, y in _D_DMY.findall(text):
        out.add((int(y) if y else None, _MONTHS[mon[:3].lower()], int(d)))
    return out


def times_in(text: str) -> set:
    """Minutes after midnight for every clock time (24-hour or am/pm)."""
    out = set()
    for h, m, ap in _T_12.findall(text):
        h = int(h) % 12 + (12 if ap.lower() == "p" else 0)
        out.add(h * 60 + int(m or 0))
    for h, m in _T_24.findall(text):
        out.add(int(h) * 60 + int(m))
    return out


def _numbers(text: str) -> list[float]:
    """Numbers in the text, not counting the parts of ISO dates and clock times (the 09
    of 2025-04-09 does not state "9")."""
    text = _T_24.sub(" ", _D_ISO.sub(" ", text))
    return [n for line in text.splitlines() for n in numbers_in(line)]


def _fact_phrases(fact) -> list[str]:
    return [str(v) for v in [fact["value"], *(fact.get("accept") or [])]]


def fact_found(fact: dict, text: str) -> bool:
    """Whether ``text`` states the fact, compared by its type."""
    t = fact["type"]
    if t == "number":
        want = float(fact["value"])
        tol = max(float(fact.get("tolerance") or 0), float(fact.get("rel_tolerance") or 0) * abs(want), 1e-9)
        return any(abs(n - want) <= tol for n in _numbers(text))
    if t == "date":
        y, m, d = (int(p) for p in str(fact["value"]).split("-"))
        return any(fm == m and fd == d and fy in (None, y) for fy, fm, fd in dates_in(text))
    if t == "time":
        h, m = (int(p) for p in at.norm_time(str(fact["value"])).split(":"))
        return h * 60 + m in times_in(text)
    norm = normalize_text(text)
    for phrase in _fact_phrases(fact):
        p = normalize_text(phrase)
        if p and re.search(r"(?<!\w)" + re.escape(p) + r"(?!\w)", norm):
            return True
    return False


def _answer_checks(facts: list, answer: str | None) -> list[dict]:
    checks = []
    text = (answer or "")
    gate = None
    if answer is None:
        gate = "no final answer"
    elif not text.strip():
        gate = "empty final answer"
    elif len(text) > MAX_ANSWER_CHARS:
        gate = f"final answer longer than {MAX_ANSWER_CHARS} characters"
    elif len(set(_numbers(text))) > MAX_ANSWER_NUMBERS:
        gate = f"final answer lists more than {MAX_ANSWER_NUMBERS} numbers"
    if gate is None:
        for f in facts:
            if f.get("forbid") and fact_found(f, text):
                gate = f"the answer states {f['value']!r}, which is wrong here"
                break
    for f in facts:
        if f.get("forbid"):
            continue
        ok = gate is None and fact_found(f, text)
        checks.append({"name": f"answer {f['type']} {f['value']}", "kind": "outcome", "ok": ok, "detail": gate or ("found" if ok else "not in the final answer")})
    return checks


# =========================================================================== state


def value_matches(actual, want) -> bool:
    """Typed comparison of a state value (or a call argument) with an expectation."""
    if isinstance(want, dict) and "$number" in want:
        if isinstance(actual, bool):
            return False
        if isinstance(actual, (int, float)):
            got = float(actual)
        elif isinstance(actual, str):
            got, _ = single_number(actual)
            if got is None:
                return False
        else:
            return False
        tol = max(float(want.get("tolerance") or 0), 1e-9)
        return abs(got - float(want["$number"])) <= tol
    if isinstance(want, list):
        return any(value_matches(actual, w) for w in want)
    if isinstance(want, dict):
        if not isinstance(actual, dict):
            return False
        for k, w in want.items():
            if w is ABSENT:
                if k in actual:
                    return False
            elif k not in actual or not value_matches(actual[k], w):
                return False
        return True
    if isinstance(want, bool) or isinstance(actual, bool):
        return actual is want
    if isinstance(want, (int, float)):
        return isinstance(actual, (int, float)) and abs(float(actual) - float(want)) <= 1e-9
    if isinstance(want, str):
        return isinstance(actual, str) and at.fold(actual) == at.fold(want)
    return actual == want


def _match_distinct(items: list, pool: list, ok) -> list[int | None]:
    """Bipartite matching: for each item, the index of a distinct pool entry it matches."""
    owner: dict[int, int] = {}

    def place(i, seen):
        for j, p in enumerate(pool):
            if j in seen or not ok(items[i], p):
                continue
            seen.add(j)
            if j not in owner or place(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(items)):
        place(i, set())
    got: list[int | None] = [None] * len(items)
    for j, i in owner.items():
        got[i] = j
    return got


def _state_checks(expected: dict, state: dict) -> list[dict]:
    checks = []
    for section, want in (expected or {}).items():
        have = state.get(section) or {}
        for key, w in want.items():
            if key == "$any":
                pool = list(have.values())
                got = _match_distinct(w, pool, lambda item, rec: value_matches(rec, item))
                for item, j in zip(w, got):
                    checks.append({"name": f"state {section} has {json.dumps(item, sort_keys=True)[:120]}", "kind": "outcome", "ok": j is not None, "detail": "found" if j is not None else "no matching record"})
                continue
            if w is ABSENT:
                ok = key not in have
                detail = "gone" if ok else "still there"
            else:
                ok = key in have and value_matches(have[key], w)
                detail = "as expected" if ok else f"is {json.dumps(have.get(key), sort_keys=True)[:160]}" if key in have else "missing"
            checks.append({"name": f"state {section}.{key}", "kind": "outcome", "ok": ok, "detail": detail})
    return checks


# =========================================================================== calls


def call_matches(spec: dict, call: dict) -> bool:
    """A successful call to the same tool whose listed arguments match, normalized."""
    if call.get("status") != "ok" or call.get("name") != spec["name"]:
        return False
    tool = at.TOOLS[spec["name"]]
    args = call.get("arguments") or {}
    for pname, want in (spec.get("arguments") or {}).items():
        if pname not in args:
            return False
        if not value_matches(_norm_arg(tool, pname, args[pname]), _norm_want(tool, pname, want)):
            return False
    return True


def _norm_arg(tool, pname, value):
    p = tool.params[pname]
    if p.type == "string" and isinstance(value, str):
        try:
            return at.NORMALIZERS[p.kind](value)
        except at.ToolError:
            return value
    return value


def _norm_want(tool, pname, want):
    if isinstance(want, list):
        return [_norm_want(tool, pname, w) for w in want]
    if isinstance(want, dict):
        return want
    return _norm_arg(tool, pname, at.jsonable(want))


def _call_checks(required: list, calls: list) -> list[dict]:
    got = _match_distinct(required, calls, call_matches)
    out = []
    for spec, j in zip(required, got):
        label = f"call {spec['name']}({json.dumps(at.jsonable(spec.get('arguments') or {}), sort_keys=True)[:140]})"
        out.append({"name": label, "kind": "call", "ok": j is not None, "detail": f"made in turn {calls[j]['turn']}" if j is not None else "never made successfully"})
    return out


# =========================================================================== grading


def turn_budget(task: dict) -> int:
    """Turns a careful agent may use: the task's ``turn_budget``, else one call per turn
    for every call the reference makes, plus the final answer and one retry."""
    if task.get("turn_budget"):
        return int(task["turn_budget"])
    ref = task.get("reference") or []
    return sum(len(r.get("tool_calls") or []) for r in ref if isinstance(r, dict)) + 2


def check(task: dict, outcome: dict) -> Verdict:
    """Grade a finished episode: ``outcome`` is what :meth:`Episode.outcome` returns."""
    chk = task["check"]
    state = outcome.get("state") or {}
    calls = outcome.get("calls") or []
    checks = _state_checks(chk.get("state") or {}, state)
    checks += _answer_checks(chk.get("answer") or [], outcome.get("content"))
    checks += _call_checks(chk.get("calls") or [], calls)

    initial = at.new_state(task.get("state"))
    disturbed = []
    for section, keys in (chk.get("preserve") or {}).items():
        for key in keys:
            if initial.get(section, {}).get(key, ABSENT) != state.get(section, {}).get(key, ABSENT):
                disturbed.append(f"{section}.{key}")
    bad_tools = [c["name"] for c in calls if c.get("status") in ("unknown", "unoffered")]
    budget = turn_budget(task)
    wasted = max(0, int(outcome.get("turns") or 0) - budget)
    finished = bool(outcome.get("finished"))

    outcome_checks = [c for c in checks if c["kind"] == "outcome"]
    call_checks = [c for c in checks if c["kind"] == "call"]
    out_frac = sum(c["ok"] for c in outcome_checks) / len(outcome_checks) if outcome_checks else 0.0
    call_frac = sum(c["ok"] for c in call_checks) / len(call_checks) if call_checks else 0.0
    if out_frac == 0:
        base = 0.0
    elif call_checks:
        base = 100.0 * (OUTCOME_WEIGHT * out_frac + (1 - OUTCOME_WEIGHT) * call_frac)
    else:
        base = 100.0 * out_frac
    penalties = []
    if bad_tools:
        penalties.append({"why": f"called tools that were not offered: {sorted(set(bad_tools))[:5]}", "points": PENALTY_BAD_TOOL * len(bad_tools)})
    if disturbed:
        penalties.append({"why": f"changed what had to stay: {disturbed[:5]}", "points": PENALTY_PRESERVE * len(disturbed)})
    if wasted:
        penalties.append({"why": f"{wasted} turn(s) beyond the budget of {budget}", "points": PENALTY_WASTED_TURN * wasted})
    if not finished:
        penalties.append({"why": "no final answer before the turn limit", "points": PENALTY_UNFINISHED})
    lost = sum(p["points"] for p in penalties)
    score = round(max(0.0, min(100.0, base - lost)), 2)
    passed = all(c["ok"] for c in checks) and not penalties
    failed = [c["name"] for c in checks if not c["ok"]]
    reason = "all checks passed" if passed else "; ".join([*(f"failed {n}" for n in failed[:4]), *(p["why"] for p in penalties)])
    for p in penalties:
        checks.append({"name": "penalty", "kind": "penalty", "ok": False, "detail": f"-{p['points']:g}: {p['why']}"})
    detail = {"turns_used": int(outcome.get("turns") or 0), "turn_budget": budget, "penalty_points": lost, "final_state": _final_state(chk.get("state") or {}, state)}
    return Verdict(score if not passed else 100.0, passed, reason[:2000], checks, detail)


def _final_state(expected: dict, state: dict) -> dict:
    """What the graded keys ended as (the trace's evidence), bounded in size."""
    out = {}
    for section, want in expected.items():
        have = state.get(section) or {}
        keys = list(have) if "$any" in want else [k for k in want if k in have]
        part = {k: have[k] for k in keys[:50]}
        text = json.dumps(part, sort_keys=True)
        out[section] = part if len(text) <= MAX_TRACE_TEXT else {"$cut": text[:MAX_TRACE_TEXT]}
    return out


# =========================================================================== validate


def _check_reply_list(replies, field_name):
    if not isinstance(replies, list) or not replies:
        return (field_name, "must be a non-empty list of replies (tool_calls turns, then a final content)")
    for k, r in enumerate(replies):
        if not isinstance(r, dict) or set(r) - {"content", "tool_calls", "reasoning"}:
            return (field_name, f"reply {k + 1} must be a mapping of content / tool_calls / reasoning")
        for c in r.get("tool_calls") or []:
            if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not isinstance(c.get("arguments", {}), dict):
                return (field_name, f"reply {k + 1}: each tool call needs a name and an arguments mapping")
    return None


def _fact_problem(f) -> str | None:
    if not isinstance(f, dict) or f.get("type") not in FACT_TYPES or "value" not in f:
        return f"each answer fact needs a type from {', '.join(FACT_TYPES)} and a value"
    v = at.jsonable(f["value"])
    try:
        if f["type"] == "number":
            float(v)
            if isinstance(v, (bool, str)):
                raise ValueError
        elif f["type"] == "date":
            at.norm_date(str(v))
        elif f["type"] == "time":
            at.norm_time(str(v))
        elif not normalize_text(str(v)):
            raise ValueError
    except (ValueError, TypeError, at.ToolError):
        return f"answer fact value {v!r} does not fit type {f['type']}"
    return None


def validate(task: dict):
    """One line naming the field, or None. Also plays the reference and the wrong script
    through the loop offline: a task whose reference does not score 100 never ships."""
    tools = task.get("tools")
    if not isinstance(tools, list) or not tools or len(set(map(str, tools))) != len(tools):
        return ("tools", "must be a non-empty list of distinct tool names")
    unknown = [t for t in tools if t not in at.TOOLS]
    if unknown:
        return ("tools", f"unknown tool(s) {unknown}; known: {', '.join(sorted(at.TOOLS))}")
    st = task.get("state") or {}
    if not isinstance(st, dict) or set(st) - set(at.SECTIONS):
        return ("state", f"must be a mapping with sections from {', '.join(at.SECTIONS)}")
    initial = at.new_state(st)
    for eid, ev in initial["calendar"].items():
        if not isinstance(ev, dict) or not all(isinstance(ev.get(k), str) for k in ("title", "date", "start", "end")):
            return ("state", f"calendar event {eid} needs string title/date/start/end (quote times: YAML reads 10:30 as a number)")
    chk = task.get("check")
    if not isinstance(chk, dict) or set(chk) - {"state", "answer", "calls", "preserve"}:
        return ("check", "must be a mapping of state / answer / calls / preserve")
    facts = chk.get("answer") or []
    if not isinstance(facts, list):
        return ("check", "answer must be a list of facts")
    for f in facts:
        problem = _fact_problem(f)
        if problem:
            return ("check", problem)
    expected = chk.get("state") or {}
    if not isinstance(expected, dict) or any(s not in at.SECTIONS or not isinstance(v, dict) for s, v in expected.items()):
        return ("check", "state must map sections to expected records")
    if not expected and not any(not f.get("forbid") for f in facts):
        return ("check", "needs at least one outcome check (an expected state or an answer fact)")
    # an agent that does nothing must fail every outcome check
    for c in _state_checks(expected, initial):
        if c["ok"]:
            return ("check", f"{c['name']} already holds before the agent acts; it would reward doing nothing")
    prompt_text = "\n".join(m.get("content") or "" for m in task_messages(task) if isinstance(m.get("content"), str))
    for f in facts:
        if not f.get("forbid") and fact_found(f, prompt_text):
            return ("check", f"answer fact {f['value']!r} is already in the prompt; an echo would pass it")
    calls = chk.get("calls") or []
    if not isinstance(calls, list):
        return ("check", "calls must be a list")
    for c in calls:
        if not isinstance(c, dict) or c.get("name") not in tools:
            return ("check", f"required call {c!r} must name an offered tool")
        extra = set(c.get("arguments") or {}) - set(at.TOOLS[c["name"]].params)
        if extra:
            return ("check", f"required call {c['name']} lists unknown arguments {sorted(extra)}")
    for section, keys in (chk.get("preserve") or {}).items():
        if section not in at.SECTIONS or not isinstance(keys, list) or any(k not in initial[section] for k in keys):
            return ("check", f"preserve.{section} must list keys present in the initial state")
    for name in ("reference", "wrong"):
        problem = _check_reply_list(task.get(name), name)
        if problem:
            return problem
    ref = task["reference"]
    if ref[-1].get("tool_calls") or not (ref[-1].get("content") or "").strip():
        return ("reference", "must end with a final reply that has content and no tool calls")
    if any(not r.get("tool_calls") for r in ref[:-1]):
        return ("reference", "every reply before the last must call tools")
    if max_turns(task) < len(ref):
        return ("max_turns", f"is smaller than the reference's {len(ref)} turns")
    v = check(task, simulate(task, ref)[0])
    if not v["passed"]:
        return ("reference", f"scores {v['score']:g}, not 100, when played: {v['reason'][:200]}")
    w = check(task, simulate(task, task["wrong"])[0])
    if w["score"] >= 100:
        return ("wrong", "scores 100 when played; it must be a flawed answer")
    return None
