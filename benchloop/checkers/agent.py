"""agent: a real tool loop over deterministic local tools, graded on the outcome.

An agent is judged by what it leaves behind, so BenchLoop plays the environment: each
turn the model's tool calls run on the task's fresh state (:mod:`benchloop.agent_tools`)
until a reply without tool calls (the final answer) or the turn limit
(``benchloop.drivers.agentloop``; :func:`simulate` plays a script the same way, which is how
:func:`validate` proves at load time that a task's ``reference`` scores 100 and its
``wrong`` less). A task's ``check``:

- ``state``: expected values of the keys named. ``~`` means gone; ``{$number: x,
  tolerance: t}`` a number or a text holding one; ``$any: [...]`` records matching
  distinct records (new ids the agent cannot know); a list, accepted alternatives.
  Strings compare by meaning: case, width, whitespace and punctuation do not count.
- ``answer``: facts the final answer states, read with the shared scanners of
  :mod:`benchloop.checkers.answers` — ``number`` (``tolerance``/``rel_tolerance``; "250g",
  "3,112.50", "926,00 USD"), ``date``, ``time`` (24-hour or am/pm), ``name`` (whole
  phrase, ``accept`` alternatives, credited only if a tool result showed it; naming one of
  its ``rivals`` outside a comparison is a hedge). ``forbid: true``: if it appears, no
  fact is credited. A fact passes only when stated plainly: not negated ("it is not 44"),
  not a bound ("at least 44"), not joined to another value ("44 or 50"), and not
  contradicted: every other value of its type in the answer must be explained by the
  episode's evidence (prompt, call arguments, results) or by another fact. A reply that
  lists every value it can think of answers nothing.
- ``calls``: required calls, each matched to a distinct successful call, arguments typed
  per the schema and normalized as the tool does (free text by meaning; a list or
  ``accept: {param: [...]}`` gives aliases).
- ``preserve``: ``{section: [keys]}`` that must end as they started.

Score: outcome checks (state + facts) weigh 70, required calls 30 (outcome alone 100 when
none are listed); no outcome check passed means 0. Penalties: 25 per un-offered or
invented tool call, 25 per disturbed ``preserve`` key, 10 per turn over budget, 20 for no
final answer. :func:`validate` rejects a task an agent doing nothing could pass (expected
states differ from the initial one; no fact in the prompt unless its rivals are too).
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
_OR_AFTER = re.compile(r"\W{0,3}\s*(?:or|and/or|maybe|perhaps|possibly)\b", re.I)
_CONTRAST = re.compile(r"\b(?:than|vs\.?|versus|against|compared\s+(?:to|with)|ahead\s+of|over|beat(?:ing|s)?|outperform\w*|while|whereas|unlike|instead\s+of|rather\s+than|not)\b|\bn[’']t\b", re.I)


def _text(s) -> str:
    return unicodedata.normalize("NFKC", s) if isinstance(s, str) else ""


def values_in(kind: str, text: str) -> list:
    """Every value of ``kind`` written in ``text``, with where it is (the shared scanners):
    numbers not counting the parts of dates and times; dates ``YYYY-MM-DD`` or ``--MM-DD``;
    times ``HH:MM:SS``."""
    if kind == "number":
        return scan_numbers(text, skip=[(f.start, f.end) for f in scan_dates(text) + scan_times(text)])
    return scan_dates(text) if kind == "date" else scan_times(text)


def _want(fact: dict):
    v, t = at.jsonable(fact["value"]), fact["type"]
    return to_number(v) if t == "number" else at.norm_date(str(v)) if t == "date" else parse_time(at.norm_time(str(v)))


def _same(kind: str, a, b, tol: float = 0.0) -> bool:
    if a is None or b is None:
        return False
    if kind == "number":
        return abs(a - b) <= max(tol, 1e-9 * max(1.0, abs(a), abs(b)))
    if kind == "date":
        return a[-5:] == b[-5:] and (a.startswith("--") or b.startswith("--") or a[:4] == b[:4])
    return a == b


def _tolerance(fact: dict) -> float:  # an answer fact's own tolerance
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
        results, size = [], 0
        for part in (c.get(k) for c in calls for k in ("result", "arguments")):
            try:
                results.append(_text(json.dumps(part, ensure_ascii=False))[:20_000])
            except (TypeError, ValueError, RecursionError):
                continue
            size += len(results[-1])
            if size > MAX_EVIDENCE_CHARS:
                break
        self.results = "\n".join(results)
        texts = [_text(prompt)[:20_000], *results]
        self.values = {k: [f.value for t in texts for f in values_in(k, t) if f.value is not None] for k in ("number", "date", "time")}
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
    denied = next((text[a:b] for a, b in occ if negated_at(text, a, b)), None)
    if denied:
        return False, f"negated: {denied!r} is denied"
    if kind == "name":
        rx = _phrase_rx([fact["value"], *(fact.get("accept") or [])])
        if not rx.search(ev.results):
            return False, "no tool result showed it (a guess)"
        if any(_OR_BEFORE.search(text[max(0, a - 12) : a]) or _OR_AFTER.match(text, b) for a, b in occ):
            return False, "hedge: offered with an alternative"
        rivals = _phrase_rx(fact.get("rivals") or [])
        for m in rivals.finditer(text) if rivals else ():
            if not _CONTRAST.search(clause_before(text, m.start())) and not negated_at(text, m.start(), m.end()):
                return False, f"hedge: also names {m.group()!r}"
        return True, "found"
    want, tol = _want(fact), _tolerance(fact)
    bound = next((q for a, b in occ if kind == "number" and (q := qualified_at(text, a, b))), "")
    if bound:
        return False, f"hedge: a bound ({bound!r})"
    found = values_in(kind, text)
    same_kind = [f for f in facts if f["type"] == kind and not f.get("forbid")]
    for f in found:
        if f.value is None or not (any(_same(kind, f.value, _want(g), _tolerance(g)) for g in same_kind) or ev.explains(kind, f.value)):
            return False, f"hedge: also states {text[f.start:f.end]!r}, which nothing in the task explains"
    spans = set(occ)
    for i, f in enumerate(found):
        for j in (i - 1, i + 1) if (f.start, f.end) in spans else ():
            if 0 <= j < len(found) and not _same(kind, found[j].value, want, tol):
                gap = text[min(f.end, found[j].end) : max(f.start, found[j].start)]
                if len(gap) <= 30 and (_JOIN_WORD.search(gap) or (kind == "number" and _JOIN_RANGE.fullmatch(gap))):
                    return False, f"hedge: {text[min(f.start, found[j].start):max(f.end, found[j].end)]!r}"
    return True, "found"


def _answer_checks(facts: list, answer: str | None, ev: Evidence) -> list[dict]:
    checks = []
    text = _text(strip_reasoning(answer)[0]) if isinstance(answer, str) else ""
    if answer is None or not text.strip():
        gate = "no final answer" if answer is None else "empty final answer"
    elif len(text) > MAX_ANSWER_CHARS:
        gate = f"final answer longer than {MAX_ANSWER_CHARS} characters"
    elif len({f.value for f in values_in("number", text)}) > MAX_ANSWER_NUMBERS:
        gate = f"final answer lists more than {MAX_ANSWER_NUMBERS} numbers"
    else:
        gate = next((f"the answer states {f['value']!r}, which is wrong here" for f in facts if f.get("forbid") and fact_found(f, text)), None)
    for f in (f for f in facts if not f.get("forbid")):
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
        got = single_number(actual)[0] if isinstance(actual, str) else to_number(actual)
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
    if isinstance(want, str) and isinstance(actual, str):
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
    by_item = {i: j for j, i in owner.items()}
    return [by_item.get(i) for i in range(len(items))]


def _state_checks(expected: dict, state: dict) -> list[dict]:
    checks = []
    for section, want in (expected or {}).items():
        have = state.get(section) or {}
        for key, w in want.items():
            if key == "$any":
                got = _match_distinct(w, list(have.values()), lambda item, rec: value_matches(rec, item))
                for item, j in zip(w, got):
                    checks.append({"name": f"state {section} has {json.dumps(item, sort_keys=True)[:120]}", "kind": "outcome", "ok": j is not None, "detail": "found" if j is not None else "no matching record"})
                continue
            ok = key not in have if w is ABSENT else key in have and value_matches(have[key], w)
            detail = ("gone" if ok else "still there") if w is ABSENT else "as expected" if ok else f"is {json.dumps(have.get(key), sort_keys=True)[:160]}" if key in have else "missing"
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
        if not value_matches(_norm_arg(tool, pname, args[pname]), _norm_arg(tool, pname, wants), exact):
            return False
    return True


def _norm_arg(tool, pname, value):
    """A value as the tool normalizes it (a list of alternatives item by item)."""
    if isinstance(value, list):
        return [_norm_arg(tool, pname, at.jsonable(v)) for v in value]
    p = tool.params[pname]
    try:
        return at.NORMALIZERS[p.kind](value[: p.max_len]) if p.type == "string" and isinstance(value, str) else value
    except at.ToolError:
        return value


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
    disturbed = [f"{sec}.{k}" for sec, keys in (chk.get("preserve") or {}).items() for k in keys
                 if initial.get(sec, {}).get(k, ABSENT) != state.get(sec, {}).get(k, ABSENT)]  # fmt: skip
    bad_tools = [c["name"] for c in calls if c.get("status") in ("unknown", "unoffered")]
    budget = turn_budget(task)
    wasted = max(0, int(outcome.get("turns") or 0) - budget)

    outcome_checks = [c for c in checks if c["kind"] == "outcome"]
    call_checks = [c for c in checks if c["kind"] == "call"]
    out_frac = sum(c["ok"] for c in outcome_checks) / len(outcome_checks) if outcome_checks else 0.0
    call_frac = sum(c["ok"] for c in call_checks) / len(call_checks) if call_checks else 0.0
    base = 0.0 if out_frac == 0 else 100.0 * (OUTCOME_WEIGHT * out_frac + (1 - OUTCOME_WEIGHT) * call_frac if call_checks else out_frac)
    penalties = [{"why": why, "points": pts} for why, pts in (
        (f"called tools that were not offered: {sorted(set(bad_tools))[:5]}", PENALTY_BAD_TOOL * len(bad_tools)),
        (f"changed what had to stay: {disturbed[:5]}", PENALTY_PRESERVE * len(disturbed)),
        (f"{wasted} turn(s) beyond the budget of {budget}", PENALTY_WASTED_TURN * wasted),
        ("no final answer before the turn limit", 0.0 if outcome.get("finished") else PENALTY_UNFINISHED),
    ) if pts]  # fmt: skip
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
        ok = _want(f) is not None if f["type"] != "name" else bool(normalize_text(str(v)))
    except (ValueError, TypeError, at.ToolError):
        ok = False
    if not ok or not all(isinstance(r, str) and r.strip() for r in f.get("rivals") or []):
        return f"answer fact value {v!r} (or its rivals) does not fit type {f['type']}"
    return None


def validate(task: dict):
    """One line naming the field, or None. Also plays the reference and the wrong script
    through the loop offline: a task whose reference does not score 100 never ships."""
    tools = task.get("tools")
    if not isinstance(tools, list) or not tools or len(set(map(str, tools))) != len(tools):
        return ("tools", "must be a non-empty list of distinct tool names")
    if any(t not in at.TOOLS for t in tools):
        return ("tools", f"unknown tool(s) {[t for t in tools if t not in at.TOOLS]}; known: {', '.join(sorted(at.TOOLS))}")
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
    problem = next((p for f in facts if (p := _fact_problem(f))), None)
    if problem:
        return ("check", problem)
    expected = chk.get("state") or {}
    if not isinstance(expected, dict) or any(s not in at.SECTIONS or not isinstance(v, dict) for s, v in expected.items()):
        return ("check", "state must map sections to expected records")
    if not expected and not any(not f.get("forbid") for f in facts):
        return ("check", "needs at least one outcome check (an expected state or an answer fact)")
    # an agent that does nothing must fail every outcome check
    free = next((c["name"] for c in _state_checks(expected, initial) if c["ok"]), None)
    if free:
        return ("check", f"{free} already holds before the agent acts; it would reward doing nothing")
    prompt_text = "\n".join(m.get("content") or "" for m in task_messages(task) if isinstance(m.get("content"), str))
    for f in facts:  # a choice the prompt lists is fine: echoing every option names its rivals
        listed = f.get("rivals") and any(fact_found({"type": "name", "value": r}, prompt_text) for r in f["rivals"])
        if not f.get("forbid") and fact_found(f, prompt_text) and not listed:
            return ("check", f"answer fact {f['value']!r} is already in the prompt; an echo would pass it")
    for c in chk.get("calls") or []:
        if not isinstance(c, dict) or c.get("name") not in tools or not all(isinstance(v, list) for v in (c.get("accept") or {}).values()):
            return ("check", f"required call {c!r} must name an offered tool (and map accept to lists)")
        extra = (set(c.get("arguments") or {}) | set(c.get("accept") or {})) - set(at.TOOLS[c["name"]].params)
        if extra:
            return ("check", f"required call {c['name']} lists unknown arguments {sorted(extra)}")
    for section, keys in (chk.get("preserve") or {}).items():
        if section not in at.SECTIONS or not isinstance(keys, list) or any(k not in initial[section] for k in keys):
            return ("check", f"preserve.{section} must list keys present in the initial state")
    problem = _check_reply_list(task.get("reference"), "reference") or _check_reply_list(task.get("wrong"), "wrong")
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
