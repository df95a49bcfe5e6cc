"""toolcall: pick the right function and arguments among several offered.

Why typed checks: whether a call is right should not depend on formatting (``"Porto"``
vs ``" porto "``, key order, call order) but must depend on the value and its type
(``"90"`` is not the integer 90). Checks follow the idea of an AST checker, written here
from scratch:

- every call must name an offered tool; one un-offered (or unnamed) call fails the task;
- each expected argument: present, of the schema's type (and in its ``enum``), and equal
  to one of the accepted values. Strings compare case- and whitespace-insensitively
  unless the spec says ``exact: true``; numbers with an optional ``tolerance``; arrays
  element by element, order-free with ``unordered: true``. ``contains: [...]`` (free
  text such as a message body) asks for those phrases instead of one value; ``any:
  true`` accepts any value of the right type;
- arguments the task does not check may be given only if the schema knows them and their
  type is right; an unknown argument or a wrong type halves that call's credit;
- parallel calls are matched to the expected ones order-free (best assignment).

Task kinds (``check.type``):

- ``calls``: one turn, one or more expected calls.
- ``no_call``: irrelevance. Any call scores 0; a plain answer must still contain the
  expected facts (``answer``), so an empty, echoed or canned reply scores 0 as well.
- ``multi_step``: BenchLoop plays the tools. ``steps`` are turns; a call step lists its
  expected calls with the deterministic ``result`` fed back when a call matches exactly
  (a wrong call gets an error result, as a real tool would answer); an ``answer`` step
  wants a final plain answer with the facts from those results.

Partial credit (documented, deliberate): a call's credit is the fraction of its
*required* checked arguments that are right (halved for an unknown or mistyped extra
argument), so the right tool with wrong arguments earns less than 100 and the right tool
with no arguments earns 0; a turn's score is the sum of call credits divided by
``max(expected calls, calls made)``, so spraying extra calls dilutes the score; a
multi-step task scores the mean of its steps. Every expected call checks at least one
required argument (``validate``), so "call every offered tool with empty arguments"
scores 0.
"""
from __future__ import annotations

import json
import math
import re

from benchloop.checkers.answers import normalize_text, numbers_in
from benchloop.record import Verdict

CHECKER_VERSION = "toolcall-1"
TYPES = ("calls", "no_call", "multi_step")
MAX_EXPECTED_CALLS = 6
MAX_TOOLS = 10
MIN_TOOLS = 4
MAX_ANSWER_CHARS = 20_000
MAX_TURN_TEXT = 20_000
SPEC_KEYS = {"accept", "optional", "exact", "unordered", "tolerance", "contains", "any"}


# ---------------------------------------------------------------------------- schema --
def offered_tools(task: dict) -> dict[str, dict]:
    """Tool name -> its function schema (``{"name", "description", "parameters"}``)."""
    out = {}
    for t in task.get("tools") or []:
        fn = t.get("function", t) if isinstance(t, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out[fn["name"]] = fn
    return out


def _params(schema: dict) -> tuple[dict, list]:
    p = schema.get("parameters") or {}
    return (p.get("properties") or {}), list(p.get("required") or [])


def type_ok(value, prop: dict) -> bool:
    """``value`` fits the JSON-schema fragment ``prop`` (type, enum, array items)."""
    if not isinstance(prop, dict):
        return True
    if "enum" in prop and value not in prop["enum"]:
        return False
    t = prop.get("type")
    if t is None:
        return True
    types = t if isinstance(t, list) else [t]
    for ty in types:
        if ty == "string" and isinstance(value, str):
            return True
        if ty == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if ty == "number" and isinstance(value, (int, float)) and not isinstance(value, bool) and _finite(value):
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


# ---------------------------------------------------------------------------- values --
def _finite(x) -> bool:
    """A finite number that fits a float (json.loads makes arbitrarily large ints)."""
    try:
        return math.isfinite(float(x))
    except (OverflowError, ValueError, TypeError):
        return False


def _norm(s: str, exact: bool) -> str:
    return s if exact else re.sub(r"\s+", " ", s).strip().casefold()


def values_equal(want, got, spec: dict) -> bool:
    """``got`` equals the accepted value ``want`` under the spec's rules (typed)."""
    exact = bool(spec.get("exact"))
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and want == got
    if isinstance(want, (int, float)):
        if not isinstance(got, (int, float)) or not _finite(got):
            return False
        tol = float(spec.get("tolerance") or 0.0)
        return abs(float(got) - float(want)) <= max(tol, 1e-9 * max(1.0, abs(float(want))))
    if isinstance(want, str):
        return isinstance(got, str) and _norm(got, exact) == _norm(want, exact)
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return False
        inner = {k: v for k, v in spec.items() if k in ("exact", "tolerance")}
        if not spec.get("unordered"):
            return all(values_equal(w, g, inner) for w, g in zip(want, got))
        left = list(got)
        for w in want:
            for i, g in enumerate(left):
                if values_equal(w, g, inner):
                    del left[i]
                    break
            else:
                return False
        return True
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return False
        inner = {k: v for k, v in spec.items() if k in ("exact", "tolerance")}
        return all(values_equal(want[k], got[k], inner) for k in want)
    return want == got


def as_spec(spec) -> dict:
    """Shorthand: a bare value means ``{accept: [value]}``."""
    return spec if isinstance(spec, dict) and (set(spec) & SPEC_KEYS) else {"accept": [spec]}


def value_matches(spec: dict, got) -> bool:
    if spec.get("any"):
        return True
    if "contains" in spec:
        if not isinstance(got, str):
            return False
        text = _norm(got[:MAX_ANSWER_CHARS], False)
        return all(_norm(str(p), False) in text for p in spec["contains"])
    return any(values_equal(w, got, spec) for w in spec.get("accept") or [])


# ----------------------------------------------------------------------------- calls --
def score_call(expected: dict, got: dict, schema: dict) -> tuple[float, list[str]]:
    """Credit 0..1 for one produced call against one expected call, and what was wrong."""
    if (got.get("name") or "") != expected["name"]:
        return 0.0, [f"called {got.get('name')!r}, expected {expected['name']!r}"]
    args = got.get("arguments")
    if not isinstance(args, dict):
        return 0.0, [f"{expected['name']}: arguments are not a JSON object ({str(got.get('arguments_raw'))[:80]!r})"]
    props, _required = _params(schema)
    specs = {k: as_spec(v) for k, v in (expected.get("args") or {}).items()}
    problems, right, needed, violation = [], 0, 0, False
    for name, spec in specs.items():
        optional = bool(spec.get("optional"))
        needed += 0 if optional else 1
        if name not in args:
            if not optional:
                problems.append(f"{expected['name']}.{name}: missing")
            continue
        val = args[name]
        if not type_ok(val, props.get(name, {})):
            problems.append(f"{expected['name']}.{name}: {type(val).__name__} {json.dumps(val)[:60]} has the wrong type")
            violation = violation or optional
            continue
        if value_matches(spec, val):
            right += 0 if optional else 1
        else:
            problems.append(f"{expected['name']}.{name}: {json.dumps(val, ensure_ascii=False)[:80]} is not an accepted value")
            violation = violation or optional
    for name, val in args.items():
        if name in specs:
            continue
        if name not in props:
            problems.append(f"{expected['name']}.{name}: unexpected argument")
            violation = True
        elif not type_ok(val, props[name]):
            problems.append(f"{expected['name']}.{name}: wrong type for an unchecked argument")
            violation = True
    credit = right / needed if needed else 0.0
    if violation:
        credit *= 0.5
    return credit, problems


def match_calls(expected: list[dict], got: list[dict], tools: dict) -> tuple[float, list[int | None], list[list[str]]]:
    """Best order-free assignment of produced calls to expected calls.

    Exact search over subsets of the expected calls (at most ``MAX_EXPECTED_CALLS``), so
    it stays cheap however many calls a model sprays. Returns (total credit, for each
    produced call the index of the expected call it matched or None, per-expected-call
    problems of the chosen assignment).
    """
    n = len(expected)
    table = [[score_call(e, g, tools.get(e["name"], {})) for e in expected] for g in got]
    # dp over (calls seen, set of expected calls used) -> (credit, assignment)
    best: dict[int, tuple[float, tuple]] = {0: (0.0, ())}
    for row in table:
        nxt: dict[int, tuple[float, tuple]] = {}
        for mask, (total, assign) in best.items():
            cand = [(mask, total, assign + (None,))]
            for j in range(n):
                if not mask & (1 << j) and row[j][0] > 0:
                    cand.append((mask | (1 << j), total + row[j][0], assign + (j,)))
            for m, t, a in cand:
                if m not in nxt or t > nxt[m][0] + 1e-12:
                    nxt[m] = (t, a)
        best = nxt
    total, assign = max(best.values(), key=lambda x: x[0])
    problems: list[list[str]] = []
    for j, e in enumerate(expected):
        if j in assign:
            problems.append(table[assign.index(j)][j][1])
        else:
            # the closest attempt explains the miss; none at all -> "not called"
            tries = [table[i][j] for i in range(len(got)) if assign[i] is None and (got[i].get("name") or "") == e["name"]]
            problems.append(max(tries, key=lambda x: x[0])[1] if tries else [f"{e['name']}: not called"])
    return total, list(assign), problems


# ---------------------------------------------------------------------------- answer --
def _numbers(text: str) -> list[float]:
    out: list[float] = []
    for i in range(0, len(text), 1800):  # numbers_in reads 2000 characters at a time
        out.extend(numbers_in(text[i : i + 2000]))
    return out


def check_answer(spec: dict, content: str) -> tuple[bool, str]:
    """A plain answer holds every expected phrase (word-bounded, normalized; a list is
    alternatives) and every expected number (within ``tolerance``)."""
    text = (content or "")[:MAX_ANSWER_CHARS]
    if not text.strip():
        return False, "empty answer"
    norm = normalize_text(text)
    for item in spec.get("contains") or []:
        alts = item if isinstance(item, list) else [item]
        if not any(re.search(r"(?<!\w)" + re.escape(normalize_text(str(a))) + r"(?!\w)", norm) for a in alts):
            return False, f"answer lacks {alts[0]!r}"
    nums = _numbers(text)
    tol = float(spec.get("tolerance") or 0.0)
    for want in spec.get("numbers") or []:
        if not any(abs(n - float(want)) <= max(tol, 1e-9) for n in nums):
            return False, f"answer lacks the number {want:g}"
    return True, "answer has the expected facts"


# ----------------------------------------------------------------------------- steps --
def steps_of(task: dict) -> list[dict]:
    """Every task kind as a list of turns: ``{"calls": [...]}`` or ``{"answer": {...}}``."""
    chk = task["check"]
    if chk["type"] == "calls":
        return [{"calls": chk["calls"]}]
    if chk["type"] == "no_call":
        return [{"answer": chk["answer"], "no_call": True}]
    return list(chk["steps"])


def score_turn(step: dict, reply: dict, tools: dict) -> dict:
    """One turn against one step: {"score" 0..1, "unoffered", "problems", "assign"}."""
    calls = reply.get("tool_calls") or []
    unoffered = sorted({(c.get("name") or "") for c in calls if (c.get("name") or "") not in tools})
    if "calls" in step:
        if not calls:
            return {"score": 0.0, "unoffered": unoffered, "problems": ["no function call made"], "assign": []}
        total, assign, problems = match_calls(step["calls"], calls, tools)
        denom = max(len(step["calls"]), len(calls))
        flat = [p for ps in problems for p in ps]
        if len(calls) > len(step["calls"]):
            flat.append(f"{len(calls) - len(step['calls'])} extra call(s)")
        return {"score": total / denom, "unoffered": unoffered, "problems": flat, "assign": assign}
    if calls:
        names = ", ".join(sorted({c.get("name") or "?" for c in calls}))
        return {"score": 0.0, "unoffered": unoffered, "problems": [f"called {names} where a plain answer was right"], "assign": []}
    ok, why = check_answer(step["answer"], reply.get("content") or "")
    return {"score": 1.0 if ok else 0.0, "unoffered": [], "problems": [] if ok else [why], "assign": []}


def tool_results(step: dict, reply: dict, assign: list, credit_of) -> list:
    """What BenchLoop's tools answer to each call of a turn: the step's scripted result
    when the call matched an expected call exactly, else an error like a real tool's."""
    out = []
    for i, call in enumerate(reply.get("tool_calls") or []):
        j = assign[i] if i < len(assign) else None
        if j is not None and credit_of(i, j) >= 1.0 and "result" in step["calls"][j]:
            out.append(step["calls"][j]["result"])
        else:
            out.append({"error": f"{call.get('name') or 'tool'}: no record matches these arguments"})
    return out


def next_turn(task: dict, i: int, reply: dict) -> list | None:
    """After the model's reply to step ``i``: the tool results to feed back, or None when
    the task ends here (an answer step, a turn without calls, the last step, or a call
    to a tool that was not offered). Pure: the driver asks this, the checker replays it."""
    tools = offered_tools(task)
    steps = steps_of(task)
    step = steps[i]
    calls = reply.get("tool_calls") or []
    if "calls" not in step or not calls or i == len(steps) - 1:
        return None
    if any((c.get("name") or "") not in tools for c in calls):
        return None
    exp = step["calls"]
    t = score_turn(step, reply, tools)
    return tool_results(step, reply, t["assign"], lambda a, b: score_call(exp[b], calls[a], tools.get(exp[b]["name"], {}))[0])


def judge(task: dict, replies: list) -> Verdict:
    """Score the model's replies, one per turn, against the task's steps. The turns are
    replayed with :func:`next_turn`, so a list longer than the conversation the driver
    could have had is cut where the live loop would have stopped."""
    tools = offered_tools(task)
    steps = steps_of(task)
    scores = [0.0] * len(steps)
    checks, turns = [], []
    for i, step in enumerate(steps):
        reply = replies[i] if i < len(replies) else {"content": "", "reasoning": "", "tool_calls": []}
        t = score_turn(step, reply, tools)
        scores[i] = t["score"]
        turn = {"step_score": round(100 * t["score"], 3), "problems": t["problems"][:20], "tool_results": []}
        turns.append(turn)
        if t["unoffered"]:
            why = f"called a tool that was not offered: {', '.join(repr(n) for n in t['unoffered'][:5])}"
            checks.append({"name": f"step {i + 1}", "ok": False, "detail": why})
            return Verdict(0.0, False, why, checks, {"step_scores": [0.0] * len(steps)}, turns)
        ok = t["score"] >= 1.0
        checks.append({"name": f"step {i + 1}", "ok": ok, "detail": "; ".join(t["problems"][:5]) or "correct"})
        results = next_turn(task, i, reply)
        if results is None:
            break
        turn["tool_results"] = results
    score = 100.0 * sum(scores) / len(steps)
    first_bad = next((c["detail"] for c in checks if not c["ok"]), None)
    if len(checks) < len(steps) and first_bad is None:
        first_bad = "stopped before the last step"
    reason = "all steps correct" if score >= 100.0 - 1e-9 else (first_bad or "incomplete")
    passed = score >= 100.0 - 1e-9
    return Verdict(round(score, 3), passed, reason, checks, {"step_scores": [round(100 * s, 3) for s in scores]}, turns)


# --------------------------------------------------------------------- public hooks --
def logical_reply(reply) -> dict:
    """A YAML reference/wrong reply in the shape ``Harness.parse`` returns."""
    reply = reply if isinstance(reply, dict) else {"content": str(reply or "")}
    calls = []
    for i, c in enumerate(reply.get("tool_calls") or []):
        args = c.get("arguments", {})
        raw = args if isinstance(args, str) else json.dumps(args)
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                args = None
        calls.append({"id": f"call_{i}", "name": c.get("name", ""), "arguments": args if isinstance(args, dict) else None, "arguments_raw": raw})
    return {"content": reply.get("content") or "", "reasoning": reply.get("reasoning") or "", "tool_calls": calls}


def check(task: dict, reply) -> Verdict:
    """Judge the model's replies: one reply, or a list (one per turn) for multi-step
    tasks; live replies (from the driver) and YAML ones (reference/wrong) alike."""
    replies = [logical_reply(r) for r in (reply if isinstance(reply, list) else [reply])]
    return judge(task, replies)


def validate(task: dict):
    """A task file mistake names its field: tools, check, reference."""
    tools = offered_tools(task)
    if not (MIN_TOOLS <= len(tools) <= MAX_TOOLS) or len(tools) != len(task.get("tools") or []):
        return ("tools", f"must offer {MIN_TOOLS}-{MAX_TOOLS} distinct functions in OpenAI function schema")
    chk = task.get("check")
    if not isinstance(chk, dict) or chk.get("type") not in TYPES:
        return ("check", f"must be a mapping with type one of {', '.join(TYPES)}")
    t = chk["type"]
    if t == "calls" and not (isinstance(chk.get("calls"), list) and chk["calls"]):
        return ("check", "a 'calls' task needs a non-empty 'calls' list")
    if t == "no_call" and not isinstance(chk.get("answer"), dict):
        return ("check", "a 'no_call' task needs an 'answer' spec (contains/numbers) so a canned reply scores 0")
    if t == "multi_step" and not (isinstance(chk.get("steps"), list) and len(chk["steps"]) >= 2):
        return ("check", "a 'multi_step' task needs at least two 'steps'")
    for k, step in enumerate(steps_of(task)):
        if "calls" in step:
            if not step["calls"] or len(step["calls"]) > MAX_EXPECTED_CALLS:
                return ("check", f"step {k + 1} must expect 1-{MAX_EXPECTED_CALLS} calls")
            for c in step["calls"]:
                problem = _validate_call(c, tools, t == "multi_step" and k < len(steps_of(task)) - 1)
                if problem:
                    return ("check", f"step {k + 1}: {problem}")
        elif k != len(steps_of(task)) - 1:
            return ("check", f"step {k + 1}: an answer step can only be the last one")
        elif not isinstance(step.get("answer"), dict) or not (step["answer"].get("contains") or step["answer"].get("numbers")):
            return ("check", f"step {k + 1} needs 'calls' or an 'answer' with contains/numbers")
    n = len(steps_of(task))
    ref = task.get("reference")
    if t == "multi_step" and not (isinstance(ref, list) and len(ref) == n and isinstance(task.get("wrong"), list)):
        return ("reference", f"a multi-step task's reference and wrong are lists of replies, one per turn ({n})")
    if t != "multi_step" and not isinstance(ref, dict):
        return ("reference", "must be a reply mapping with tool_calls and/or content")
    return None


def _validate_call(c, tools: dict, needs_result: bool):
    if not isinstance(c, dict) or c.get("name") not in tools:
        return f"expected call {c.get('name') if isinstance(c, dict) else c!r} is not an offered tool"
    props, required = _params(tools[c["name"]])
    args = c.get("args") or {}
    if not isinstance(args, dict):
        return f"{c['name']}: args must be a mapping"
    for a in args:
        if a not in props:
            return f"{c['name']}: checks {a!r}, which its schema does not define"
    for r in required:
        if r not in args or as_spec(args[r]).get("optional"):
            return f"{c['name']}: schema-required argument {r!r} must be checked (not optional)"
    if not any(not as_spec(v).get("optional") for v in args.values()):
        return f"{c['name']}: must check at least one required argument (else empty arguments would earn credit)"
    for a, v in args.items():
        spec = as_spec(v)
        if not (spec.get("any") or spec.get("contains") or spec.get("accept")):
            return f"{c['name']}.{a}: needs accept, contains or any"
        for w in spec.get("accept") or []:
            if not type_ok(w, props[a]):
                return f"{c['name']}.{a}: accepted value {w!r} does not fit the schema type"
    if needs_result and "result" not in c:
        return f"{c['name']}: a call before the last step needs the 'result' BenchLoop feeds back"
    return None
