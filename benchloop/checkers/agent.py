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
  cannot know in advance); a list is a set of accepted alternatives. Strings compare by
  meaning: case, width, whitespace and punctuation do not count.
- ``answer``: facts the final answer must state, read by the shared answer reader
  (:mod:`benchloop.checkers.answers`) — ``number`` (exact unless a ``tolerance`` /
  ``rel_tolerance`` is stated; "250g", "3,112.50", "926,00 USD"), ``date`` (ISO or
  month-name forms), ``time`` (24-hour or am/pm), ``name`` (case-insensitive whole
  phrase, with ``accept`` alternatives; credited only if a tool result showed it, and
  ``rivals``: the task's other options, naming one outside a comparison is a hedge).
  ``forbid: true`` turns a fact into a gate: if it appears, no answer fact is credited.
- ``calls``: required calls, each matched on its own to a distinct successful call with
  the listed arguments, typed per the tool's schema and normalized as the tool
  normalizes them (text arguments by meaning); a list, or ``accept: {param: [...]}``,
  gives accepted aliases. Two required calls to the same tool need two calls.
- ``preserve``: ``{section: [keys]}`` that must end as they started (penalty if not).

A fact passes only when its value is stated plainly: not negated ("it is not 44"), not a
bound ("at least 44"), not joined to another value ("44 or 50"), and not contradicted: every
other value of the fact's type in the answer must be explained by the episode's evidence
(the prompt, the tool calls and their results) or by the task's other facts. A reply that
offers several candidates, or lists every value it can think of, answers nothing.

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
import unicodedata

from benchloop import agent_tools as at
from benchloop.checkers.answers import normalize_text, parse_time, scan_dates, scan_numbers, scan_times, single_number, strip_reasoning
from benchloop.checkers.values import clause_before, negated_at, qualified_at, to_number
from benchloop.agent_episode import MAX_TRACE_TEXT, max_turns, simulate  # noqa: F401  (max_turns: the turn limit validate checks)
from benchloop.record import Verdict
from benchloop.tasks import task_messages

CHECKER_VERSION = "agent-2"
MAX_ANSWER_CHARS = 3000
MAX_ANSWER_NUMBERS = 30
MAX_EVIDENCE_CHARS = 200_000
OUTCOME_WEIGHT = 0.7
PENALTY_BAD_TOOL = 25.0
PENALTY_PRESERVE = 25.0
PENALTY_WASTED_TURN = 10.0
PENALTY_UNFINISHED = 20.0
FACT_TYPES = ("number", "date", "time", "name")
ABSENT = None


# =========================================================================== facts

_JOIN_WORD = re.compile(r"\b(?:or|either|and/or|maybe|perhaps|possibly)\b", re.I)
_JOIN_RANGE = re.compile(r"\s*(?:[A-Za-z%$€£]{1,12}\s*)?(?:-|–|—|~|to|through)\s*", re.I)
_OR_BEFORE = re.compile(r"\b(?:or|either|and/or|maybe|perhaps)\W{0,3}\s*$", re.I)
_OR_AFTER = re.compile(r"\W{0,3}\s*(?:or|and/or)\b", re.I)
_CONTRAST = re.compile(r"\b(?:than|vs\.?|versus|against|compared\s+(?:to|with)|ahead\s+of|over|beat(?:ing|s)?|outperform\w*|while|whereas|unlike|instead\s+of|rather\s+than|not)\b|\bn[’']t\b", re.I)


def _text(s) -> str:
    return unicodedata.normalize("NFKC", s) if isinstance(s, str) else ""


def _spans(text: str) -> list:
    return [(f.start, f.end) for f in scan_dates(text)] + [(f.start, f.end) for f in scan_times(text)]


def values_in(kind: str, text: str) -> list:
    """Every value of ``kind`` written in ``text``, with where it is (the shared scanners):
    numbers not counting the parts of dates and times; dates ``YYYY-MM-DD`` or ``--MM-DD``;
    times ``HH:MM:SS``."""
    if kind == "number":
        return scan_numbers(text, skip=_spans(text))
    return scan_dates(text) if kind == "date" else scan_times(text)


def _want(fact: dict):
    v = at.jsonable(fact["value"])
    if fact["type"] == "number":
        return to_number(v)
    if fact["type"] == "date":
        return at.norm_date(str(v))
    return parse_time(at.norm_time(str(v)))


def _same(kind: str, a, b, tol: float = 0.0) -> bool:
    if a is None or b is None:
        return False
    if kind == "number":
        return abs(a - b) <= max(tol, 1e-9 * max(1.0, abs(a), abs(b)))
    if kind == "date":
        return a[-5:] == b[-5:] and (a.startswith("--") or b.startswith("--") or a[:4] == b[:4])
    return a == b


def _tolerance(fact: dict) -> float:
    want = to_number(at.jsonable(fact["value"])) or 0.0
    return max(to_number(fact.get("tolerance")) or 0.0, (to_number(fact.get("rel_tolerance")) or 0.0) * abs(want))


def _phrase_rx(phrases) -> re.Pattern | None:
    alts = sorted({" ".join(_text(str(p)).split()) for p in phrases if str(p).strip()}, key=len, reverse=True)
    if not alts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(r"\s+".join(map(re.escape, a.split())) for a in alts) + r")(?!\w)", re.I)


def _occurrences(fact: dict, text: str) -> list:
    """(start, end) of every place ``text`` states the fact's value (no judging yet)."""
    if fact["type"] == "name":
        rx = _phrase_rx([fact["value"], *(fact.get("accept") or [])])
        return [m.span() for m in rx.finditer(text)] if rx else []
    want, tol = _want(fact), _tolerance(fact)
    return [(f.start, f.end) for f in values_in(fact["type"], text) if _same(fact["type"], f.value, want, tol)]


def fact_found(fact: dict, text: str) -> bool:
    """Whether ``text`` states the fact's value anywhere (validate's echo test)."""
    return bool(_occurrences(fact, _text(text)))


class Evidence:
    """What the agent saw or did in its episode: the prompt, every call's arguments and
    result. A value in the answer that the evidence explains is context, not a rival claim."""

    def __init__(self, task: dict, calls: list):
        prompt = "\n".join(m.get("content") or "" for m in task_messages(task) if isinstance(m.get("content"), str))
        results = []
        for c in calls[:200]:
            if isinstance(c, dict):
                for part in (c.get("result"), c.get("arguments")):
                    try:
                        results.append(json.dumps(part, ensure_ascii=False)[:20_000])
                    except (TypeError, ValueError, RecursionError):
                        pass
        self.results = _text("\n".join(results))[:MAX_EVIDENCE_CHARS]
        texts = [_text(prompt)] + [r for r in results if r]
        self.values: dict[str, list] = {"number": [], "date": [], "time": []}
        for t in texts:
            for piece in (t[i : i + 20_000] for i in range(0, min(len(t), MAX_EVIDENCE_CHARS), 20_000)):
                for kind in self.values:
                    self.values[kind] += [f.value for f in values_in(kind, piece) if f.value is not None]
        for d in self.values["date"]:  # "the 9th", "April 2025": parts of a date seen
            self.values["number"] += [float(p) for p in d.split("-") if p]
        for t in self.values["time"]:
            h, m = int(t[:2]), int(t[3:5])
            self.values["number"] += [float(h), float(m), float(h % 12 or 12)]

    def explains(self, kind: str, value) -> bool:
        return any(_same(kind, value, e, 0.005 if kind == "number" else 0.0) for e in self.values[kind])


def fact_check(fact: dict, text: str, ev: Evidence, facts: list) -> tuple[bool, str]:
    """Whether the final answer states the fact plainly: (ok, why)."""
    kind = fact["type"]
    occ = _occurrences(fact, text)
    if not occ:
        return False, "not in the final answer"
    for a, b in occ:
        if negated_at(text, a, b):
            return False, f"negated: {text[a:b]!r} is denied"
    if kind == "name":
        rx = _phrase_rx([fact["value"], *(fact.get("accept") or [])])
        if not rx.search(ev.results):
            return False, "no tool result showed it (a guess)"
        for a, b in occ:
            if _OR_BEFORE.search(text[max(0, a - 12) : a]) or _OR_AFTER.match(text, b):
                return False, f"hedge: {text[a:b]!r} offered with an alternative"
        rivals = _phrase_rx(fact.get("rivals") or [])
        for m in rivals.finditer(text) if rivals else ():
            if not _CONTRAST.search(clause_before(text, m.start())) and not negated_at(text, m.start(), m.end()):
                return False, f"hedge: also names {m.group()!r}"
        return True, "found"
    want, tol = _want(fact), _tolerance(fact)
    if kind == "number":
        for a, b in occ:
            bound = qualified_at(text, a, b)
            if bound:
                return False, f"hedge: a bound ({bound!r})"
    found = values_in(kind, text)
    same_kind = [f for f in facts if f["type"] == kind and not f.get("forbid")]
    for f in found:
        if f.value is None:
            return False, f"hedge: an out-of-range {kind} beside it"
        if _same(kind, f.value, want, tol) or any(_same(kind, f.value, _want(g), _tolerance(g)) for g in same_kind):
            continue
        if not ev.explains(kind, f.value):
            return False, f"hedge: also states {text[f.start:f.end]!r}, which nothing in the task explains"
    spans = {(a, b) for a, b in occ}
    for i, f in enumerate(found):
        if (f.start, f.end) not in spans:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(found) and not _same(kind, found[j].value, want, tol):
                gap = text[min(f.end, found[j].end) : max(f.start, found[j].start)]
                if len(gap) <= 30 and (_JOIN_WORD.search(gap) or (kind == "number" and _JOIN_RANGE.fullmatch(gap))):
                    return False, f"hedge: {text[min(f.start, found[j].start):max(f.end, found[j].end)]!r}"
    return True, "found"


def _answer_checks(facts: list, answer: str | None, ev: Evidence) -> list[dict]:
    checks = []
    text = _text(strip_reasoning(answer)[0]) if isinstance(answer, str) else ""
    gate = None
    if answer is None:
        gate = "no final answer"
    elif not text.strip():
        gate = "empty final answer"
    elif len(text) > MAX_ANSWER_CHARS:
        gate = f"final answer longer than {MAX_ANSWER_CHARS} characters"
    elif len({f.value for f in values_in("number", text)}) > MAX_ANSWER_NUMBERS:
        gate = f"final answer lists more than {MAX_ANSWER_NUMBERS} numbers"
    if gate is None:
        for f in facts:
            if f.get("forbid") and fact_found(f, text):
                gate = f"the answer states {f['value']!r}, which is wrong here"
                break
    for f in facts:
        if f.get("forbid"):
            continue
        ok, why = (False, gate) if gate else fact_check(f, text, ev, facts)
        checks.append({"name": f"answer {f['type']} {f['value']}", "kind": "outcome", "ok": ok, "detail": why})
    return checks


# =========================================================================== state


def meaning(s: str) -> str:
    """A short text by meaning: case, width, whitespace and punctuation do not count."""
    return " ".join(re.sub(r"[^\w]+", " ", _text(s).casefold()).split())


def value_matches(actual, want, exact: bool = False) -> bool:
    """Typed comparison of a state value (or a call argument) with an expectation; a
    list is a set of accepted alternatives. Never raises on hostile values (huge or
    non-finite numbers, deep nesting: only ``want``'s own depth is walked)."""
    if isinstance(want, dict) and "$number" in want:
        if isinstance(actual, str):
            got, _ = single_number(actual)
        else:
            got = to_number(actual)
        want_n = to_number(want["$number"])
        if got is None or want_n is None:
            return False
        return abs(got - want_n) <= max(to_number(want.get("tolerance")) or 0.0, 1e-9)
    if isinstance(want, list):
        return any(value_matches(actual, w, exact) for w in want)
    if isinstance(want, dict):
        if not isinstance(actual, dict):
            return False
        for k, w in want.items():
            if w is ABSENT:
                if k in actual:
                    return False
            elif k not in actual or not value_matches(actual[k], w, exact):
                return False
        return True
    if isinstance(want, bool) or isinstance(actual, bool):
        return actual is want
    if isinstance(want, (int, float)):
        a, w = to_number(actual), to_number(want)
        return a is not None and w is not None and abs(a - w) <= 1e-9 * max(1.0, abs(w))
    if isinstance(want, str):
        if not isinstance(actual, str):
            return False
        return actual.strip() == want.strip() if exact else meaning(actual) == meaning(want)
    return want is None and actual is None


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
    """A successful call to the same tool whose listed arguments match by meaning: typed
    per the schema, strings normalized as the tool normalizes them (ids, paths, dates and
    times exactly after that; free text by meaning), ``accept`` aliases allowed."""
    if not isinstance(call, dict) or call.get("status") != "ok" or call.get("name") != spec["name"]:
        return False
    tool = at.TOOLS[spec["name"]]
    args = call.get("arguments")
    if not isinstance(args, dict):
        return False
    accept = spec.get("accept") or {}
    for pname, want in (spec.get("arguments") or {}).items():
        if pname not in args:
            return False
        wants = [want, *(accept.get(pname) or [])]
        exact = tool.params[pname].kind in ("path", "date", "time", "upper")
        if not value_matches(_norm_arg(tool, pname, args[pname]), _norm_want(tool, pname, wants), exact):
            return False
    return True


def _norm_arg(tool, pname, value):
    p = tool.params[pname]
    if p.type == "string" and isinstance(value, str):
        try:
            return at.NORMALIZERS[p.kind](value[: max(p.max_len, 1)])
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
    calls = [c for c in (outcome.get("calls") or []) if isinstance(c, dict)]
    checks = _state_checks(chk.get("state") or {}, state)
    checks += _answer_checks(chk.get("answer") or [], outcome.get("content"), Evidence(task, calls))
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
        elif not normalize_text(str(v)) or not all(isinstance(r, str) and r.strip() for r in f.get("rivals") or []):
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
    for f in facts:  # a choice the prompt lists is fine: echoing every option names its rivals
        listed = f.get("rivals") and any(fact_found({"type": "name", "value": r}, prompt_text) for r in f["rivals"])
        if not f.get("forbid") and fact_found(f, prompt_text) and not listed:
            return ("check", f"answer fact {f['value']!r} is already in the prompt; an echo would pass it")
    calls = chk.get("calls") or []
    if not isinstance(calls, list):
        return ("check", "calls must be a list")
    for c in calls:
        if not isinstance(c, dict) or c.get("name") not in tools:
            return ("check", f"required call {c!r} must name an offered tool")
        extra = (set(c.get("arguments") or {}) | set(c.get("accept") or {})) - set(at.TOOLS[c["name"]].params)
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
