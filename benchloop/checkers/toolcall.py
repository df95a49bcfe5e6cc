"""toolcall: pick the right function and arguments among several offered.

Why typed checks: whether a call is right should not depend on formatting (``"Porto"``
vs ``" porto. "``, ``25.0`` vs ``25``, ``"8 pm"`` vs ``"20:00"``, key order, call order)
but must depend on the value and its type (``"90"`` is not the integer 90). Checks follow
the idea of an AST checker, written here from scratch:

- every call must name an offered tool; one un-offered (or unnamed) call fails the task;
- each expected argument: present, of the schema's type (and in its ``enum``, any letter
  case), and equal by meaning to one of the accepted values: see
  :mod:`benchloop.checkers.toolargs` (typed equality, folded strings, ``format: date`` /
  ``time`` read by the answer reader, per-task ``accept`` aliases such as "Oslo, Norway");
  deep, huge or non-finite arguments make a wrong call, never an exception;
- arguments the task does not check may be given only if the schema knows them and their
  type is right; an unknown argument or a wrong type halves that call's credit;
- parallel calls are matched to the expected ones order-free (best assignment);
- tool spam scores 0: two or more calls beyond what a turn expects, or calls to two or
  more tools it does not expect (so "call every tool, the right one among them" earns
  nothing), and ends the episode.

Task kinds (``check.type``):

- ``calls``: one turn, one or more expected calls.
- ``no_call``: irrelevance. Any call scores 0; a plain answer must state the expected
  facts (``answer``), so an empty, echoed or canned reply scores 0 as well.
- ``multi_step``: BenchLoop plays the tools. ``steps`` are turns; a call step lists its
  expected calls with the deterministic ``result`` fed back when a call matches exactly
  (a wrong call gets an error result, as a real tool would answer); an ``answer`` step
  wants a final plain answer with the facts from those results.

Answers are typed facts (``number``, ``money``, ``date``, ``time``, ``choice`` among
named ``options``) read by the one answer reader (:mod:`benchloop.checkers.answers`): an
answer offering several candidates of a fact's type (a hedge, a listing, the wrong value
beside the right one) or denying one fails, so a stuffed universal reply scores 0.

Partial credit (documented, deliberate): a call's credit is the fraction of its
*required* checked arguments that are right (halved for an unknown or mistyped extra
argument), so the right tool with wrong arguments earns less than 100 and the right tool
with no arguments earns 0; a turn's score is the sum of call credits divided by
``max(expected calls, calls made)``, so one extra call dilutes the score; a multi-step
task scores the mean of its steps. Every expected call checks at least one required
argument (``validate``), so "call every offered tool with empty arguments" scores 0.
"""
from __future__ import annotations

import json
import re

from benchloop.checkers.answers import (
    Read, final_answer, parse_date, parse_time, read_choice, read_date, read_money, read_number, read_time, strip_reasoning,
)
from benchloop.checkers.toolargs import FORMATS, as_spec, clean_calls, params, score_call, show, type_ok, unusable
from benchloop.record import Verdict

CHECKER_VERSION = "toolcall-3"
TYPES = ("calls", "no_call", "multi_step")
MAX_EXPECTED_CALLS = 6
MAX_TOOLS = 10
MIN_TOOLS = 4
MAX_ANSWER_CHARS = 20_000
MAX_TURN_TEXT = 20_000
MAX_CALLS_READ = 100


# ---------------------------------------------------------------------------- schema --
def offered_tools(task: dict) -> dict[str, dict]:
    """Tool name -> its function schema (``{"name", "description", "parameters"}``)."""
    out = {}
    for t in task.get("tools") or []:
        fn = t.get("function", t) if isinstance(t, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out[fn["name"]] = fn
    return out


# ----------------------------------------------------------------------------- calls --
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
FACTS = ("number", "money", "date", "time", "choice")


def _fact(kind: str, want) -> dict:
    """Shorthand: a bare value means ``{value: value}`` (``answer`` for a choice)."""
    return want if isinstance(want, dict) else {"value": want}


# identifiers are not quantities: "u-5512", "B-20417", "88-1042-B" (but "210-minute" stays)
_IDS = re.compile(r"(?<![\w.])(?:[A-Za-z]+-\d[\w-]*|\d+(?:-\d+)+-[A-Za-z](?![\w-]))")


def _read(kind: str, fact: dict, text: str) -> Read:
    if kind in ("number", "money"):
        text = _IDS.sub(lambda m: " " * len(m.group()), text)
    if kind == "number":
        return read_number(text, unit=fact.get("unit"), integer=bool(fact.get("integer")))
    if kind == "money":
        return read_money(text, currency=fact.get("currency"))
    if kind == "date":
        return read_date(text, year=fact.get("year"))
    if kind == "time":
        return read_time(text)
    return read_choice(text, fact.get("options") or [fact.get("answer")])


def _read_fact(kind: str, fact: dict, text: str) -> Read:
    """The one value of ``kind`` the answer states. Shown arithmetic ("4 + 0 + 9 + 6 =
    19") reads as what follows its last ``=``: one value, or a hedge there too."""
    r = _read(kind, fact, text)
    if kind in ("number", "money") and r.why.startswith("hedge") and "=" in text:
        after = _read(kind, fact, text[text.rindex("=") + 1 :])
        if after.ok:
            return after
    return r


def _fact_equal(kind: str, fact: dict, got) -> bool:
    if kind in ("number", "money"):
        want = float(fact["value"])
        tol = float(fact.get("tolerance") or (0.005 if kind == "money" else 0.0))
        return abs(float(got) - want) <= max(tol, 1e-9 * max(1.0, abs(want)))
    if kind == "date":
        return got == parse_date(str(fact["value"]))
    if kind == "time":
        return got == parse_time(str(fact["value"]))
    return got == str(fact.get("answer"))


def check_answer(spec: dict, content) -> tuple[bool, str]:
    """A plain answer states each expected fact once, through the one answer reader:
    an answer that offers several candidates of a fact's type (a hedge, an every-value
    listing, the wrong value beside the right one) or denies one fails, and so does one
    that states another value. Reasoning is cut; an ``ANSWER:`` line, if any, is the answer."""
    text = strip_reasoning(content if isinstance(content, str) else "")[0][:MAX_ANSWER_CHARS]
    if not text.strip():
        return False, "empty answer"
    text = final_answer(text) or text
    for kind in FACTS:
        if kind not in spec:
            continue
        fact = _fact(kind, spec[kind])
        r = _read_fact(kind, fact, text)
        if not r.ok:
            return False, f"{kind}: {r.why}"
        if not _fact_equal(kind, fact, r.value):
            return False, f"answer states the {kind} {r.value}, not {fact.get('value', fact.get('answer'))}"
    return True, "answer states the expected facts"


# ----------------------------------------------------------------------------- steps --
def steps_of(task: dict) -> list[dict]:
    """Every task kind as a list of turns: ``{"calls": [...]}`` or ``{"answer": {...}}``."""
    chk = task["check"]
    if chk["type"] == "calls":
        return [{"calls": chk["calls"]}]
    if chk["type"] == "no_call":
        return [{"answer": chk["answer"], "no_call": True}]
    return list(chk["steps"])


def spam(step: dict, calls: list) -> str:
    """Why a turn's calls are tool-spamming, or '': two or more calls beyond what the
    step expects, or calls to two or more tools it does not expect (every task offers at
    least four tools, so "call every tool" is always spam). One extra call is a mistake
    that dilutes the turn's credit; more is a shotgun that earns nothing."""
    want = {c["name"] for c in step["calls"]}
    others = {c["name"] for c in calls} - want
    if len(calls) >= len(step["calls"]) + 2:
        return f"tool spam: {len(calls)} calls where {len(step['calls'])} were expected"
    if len(others) >= 2:
        return f"tool spam: called {', '.join(sorted(others)[:5])} besides the expected tools"
    return ""


def score_turn(step: dict, reply: dict, tools: dict) -> dict:
    """One turn against one step: {"score" 0..1, "unoffered", "problems", "assign", "spam"}."""
    calls = clean_calls(reply)
    unoffered = sorted({c["name"] for c in calls if c["name"] not in tools})
    out = {"score": 0.0, "unoffered": unoffered, "problems": [], "assign": [], "spam": ""}
    if "calls" in step:
        if not calls:
            return dict(out, problems=["no function call made"])
        out["spam"] = spam(step, calls)
        if out["spam"]:
            return dict(out, problems=[out["spam"]])
        total, assign, problems = match_calls(step["calls"], calls, tools)
        flat = [p for ps in problems for p in ps]
        if len(calls) > len(step["calls"]):
            flat.append(f"{len(calls) - len(step['calls'])} extra call(s)")
        return dict(out, score=total / max(len(step["calls"]), len(calls)), problems=flat, assign=assign)
    if calls:
        names = ", ".join(sorted({c["name"] or "?" for c in calls})[:5])
        return dict(out, problems=[f"called {names} where a plain answer was right"])
    ok, why = check_answer(step["answer"], reply.get("content") if isinstance(reply, dict) else "")
    return dict(out, score=1.0 if ok else 0.0, problems=[] if ok else [why])


def tool_results(step: dict, calls: list, assign: list, credit_of) -> list:
    """What BenchLoop's tools answer to each call of a turn: the step's scripted result
    when the call matched an expected call exactly, else an error like a real tool's."""
    out = []
    for i, call in enumerate(calls):
        j = assign[i] if i < len(assign) else None
        if j is not None and credit_of(i, j) >= 1.0 and "result" in step["calls"][j]:
            out.append(step["calls"][j]["result"])
        else:
            out.append({"error": f"{call['name'] or 'tool'}: no record matches these arguments"})
    return out


def next_turn(task: dict, i: int, reply: dict) -> list | None:
    """After the model's reply to step ``i``: the tool results to feed back (one per call,
    in order), or None when the task ends here (an answer step, a turn without calls, the
    last step, a call to a tool that was not offered, or tool spam). Pure: the driver
    asks this, the checker replays it."""
    tools = offered_tools(task)
    steps = steps_of(task)
    step = steps[i]
    calls = clean_calls(reply)
    if "calls" not in step or not calls or i == len(steps) - 1:
        return None
    if any(c["name"] not in tools for c in calls) or spam(step, calls):
        return None
    exp = step["calls"]
    t = score_turn(step, reply, tools)
    return tool_results(step, calls, t["assign"], lambda a, b: score_call(exp[b], calls[a], tools.get(exp[b]["name"], {}))[0])


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
    """A YAML reference/wrong reply in the shape ``Harness.parse`` returns; arguments
    that are not a sane JSON object become None (a wrong call), never an exception."""
    reply = reply if isinstance(reply, dict) else {"content": str(reply or "")[:MAX_ANSWER_CHARS]}
    calls = []
    raw_calls = reply.get("tool_calls")
    for i, c in enumerate((raw_calls if isinstance(raw_calls, list) else [])[:MAX_CALLS_READ]):
        c = c if isinstance(c, dict) else {}
        args = c.get("arguments", {})
        raw = args if isinstance(args, str) else (unusable(args) or show(args, MAX_ANSWER_CHARS))
        if isinstance(args, str):
            try:
                args = json.loads(args[:MAX_ANSWER_CHARS])
            except (ValueError, RecursionError):
                args = None
        name = c.get("name") if isinstance(c.get("name"), str) else ""
        calls.append({"id": f"call_{i}", "name": name, "arguments": args if isinstance(args, dict) else None, "arguments_raw": raw})
    content, reasoning = reply.get("content"), reply.get("reasoning")
    return {"content": content if isinstance(content, str) else "", "reasoning": reasoning if isinstance(reasoning, str) else "", "tool_calls": calls}


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
        return ("check", f"a 'no_call' task needs an 'answer' spec ({'/'.join(FACTS)}) so a canned reply scores 0")
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
        else:
            problem = _validate_answer(step.get("answer"))
            if problem:
                return ("check", f"step {k + 1}: {problem}")
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
    props, required = params(tools[c["name"]])
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
            parse = FORMATS.get(props[a].get("format") or "")
            if parse is not None and parse(w) is None:
                return f"{c['name']}.{a}: accepted value {w!r} is not a readable {props[a]['format']}"
    if needs_result and "result" not in c:
        return f"{c['name']}: a call before the last step needs the 'result' BenchLoop feeds back"
    return None


def _validate_answer(spec):
    """An answer step states at least one typed fact the reader can check."""
    if not isinstance(spec, dict) or not any(k in spec for k in FACTS):
        return f"needs 'calls' or an 'answer' with one of {', '.join(FACTS)}"
    if set(spec) - set(FACTS):
        return f"answer keys must be among {', '.join(FACTS)}, not {sorted(set(spec) - set(FACTS))}"
    for kind in spec:
        fact = _fact(kind, spec[kind])
        if kind in ("number", "money") and not isinstance(fact.get("value"), (int, float)):
            return f"answer {kind} needs a numeric value"
        if kind == "date" and parse_date(str(fact.get("value"))) is None:
            return "answer date must be a date (YYYY-MM-DD)"
        if kind == "time" and parse_time(str(fact.get("value"))) is None:
            return "answer time must be a clock time (HH:MM)"
        if kind == "choice":
            opts = fact.get("options")
            names = list(opts) if isinstance(opts, (list, dict)) else []
            if len(names) < 3 or fact.get("answer") not in names:
                return "answer choice needs 'options' (3 or more, so other readings compete) holding its 'answer'"
    return None
