"""A reply that would fit every task answers none: cross-suite gaming tests (issue 11).

Why this module: each suite's own tests prove its reference answers score 100; this one
plays the strongest shortcuts we can build from the task files themselves against every
task of every quality suite, through the real driver, harness and checker path, under all
four harnesses. A model that sends the same thing to every task (a stuffed universal
reply, an echo, keywords only, hedges, negations, every candidate value, tool spam) must
score 0 everywhere, and its run's overall must be at most 1.

The provider is an in-process replay (``benchloop.testing.replay``): it encodes each
scripted reply the way a model trained on the harness would write it and hands it back
as a ChatResult, so render and parse run for real without HTTP per task (the suites'
own tests cover the wire through the scripted endpoint). Code-level attacks on the
coding grader (builtins patching, frame forging, always-equal objects, printed PASS,
early exit) are played against every coding task in tests/test_coding.py.
"""
from __future__ import annotations

import itertools
import json
import re

import pytest

from benchloop.catalog import QUALITY_SUITES
from benchloop.scoring import score_run
from benchloop.tasks import load_suite, task_messages
from benchloop.testing import replay

HARNESSES = ["raw", "hermes", "qwen", "pi"]
SUITES = {name: load_suite(name) for name in QUALITY_SUITES}
ALL_TASKS = [t for s in SUITES.values() for t in s["tasks"]]
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


def play(task: dict, harness_name: str, reply_for) -> dict:
    return replay.play(task, harness_name, reply_for, SUITES[task["suite"]]["defaults"])


# ------------------------------------------------------------------ the shortcuts --
def _prompt_text(task: dict) -> str:
    return "\n".join(m.get("content") or "" for m in task_messages(task) if isinstance(m.get("content"), str))


def _every_keyword() -> list[str]:
    words = set()
    for t in ALL_TASKS:
        for w in WORD.findall(_prompt_text(t)):
            words.add(w.lower())
    return sorted(words)


def _every_value() -> str:
    """Many candidate values of every answer type: numbers, money, dates, times, names."""
    nums = " ".join(str(n) for n in range(0, 121))
    money = " ".join(f"${n}.{c:02d}" for n, c in itertools.product(range(0, 60, 3), (0, 50)))
    dates = " ".join(f"2025-{m:02d}-{d:02d}" for m in range(1, 13) for d in (1, 8, 15, 22, 28))
    times = " ".join(f"{h:02d}:{mi:02d}" for h in range(24) for mi in (0, 15, 30, 45))
    names = " ".join(sorted({w for t in ALL_TASKS for w in re.findall(r"\b[A-Z][a-z]{2,}\b", _prompt_text(t))}))
    return f"{nums}\n{money}\n{dates}\n{times}\n{names}"


KEYWORDS = _every_keyword()
EVERY_VALUE = _every_value()
FORMATS = "# TITLE\n<<Title>>\n- bullet one\n- bullet two\n* star\n1. first\n```json\n{}\n```\nP.S. postscript\nP.P.S. more\n\"quoted\"\nSECTION 1\nSection 2\n***\nIs there anything else I can help with?\nAny other questions?\nThat's all."


def _universal() -> str:
    """One reply built to satisfy every checker at once: every keyword of every task,
    every format marker, every candidate value, a JSON object with every field name,
    ANSWER lines, and a code block defining every coding function."""
    fields = sorted({k for t in SUITES["dataextract"]["tasks"] for k in (t.get("expected") or {})}) if "dataextract" in SUITES else []
    obj = json.dumps({k: None for k in fields})
    funcs = sorted({m for t in SUITES["coding"]["tasks"] for m in re.findall(r"def (\w+)\(", t.get("reference") or "")}) if "coding" in SUITES else []
    code = "```python\n" + "\n".join(f"def {f}(*a, **k):\n    return a[0] if a else None\n" for f in funcs) + "```"
    return "\n".join([FORMATS, " ".join(KEYWORDS), EVERY_VALUE, obj, "ANSWER: 42", code, "ANSWER: 7"])


UNIVERSAL = _universal()


def _keywords_only(task, turn, messages) -> dict:
    return {"content": " ".join(dict.fromkeys(w.lower() for w in WORD.findall(_prompt_text(task))))}


def _echo(task, turn, messages) -> dict:
    return {"content": _prompt_text(task)}


def _echo_edited(task, turn, messages) -> dict:
    """The prompt with light edits: commas removed, sentences reversed, a prefix."""
    sentences = re.split(r"(?<=[.!?])\s+", _prompt_text(task).replace(",", ""))
    return {"content": "Sure! Here is my answer.\n\n" + " ".join(reversed(sentences))}


def _hedge(task, turn, messages) -> dict:
    nums = [n for n in re.findall(r"\d+(?:\.\d+)?", _prompt_text(task))][:4] or ["12", "13"]
    return {"content": f"It could be {' or '.join(nums)}; I am not sure.\nANSWER: {nums[0]} or {nums[-1]}"}


def _negated(task, turn, messages) -> dict:
    nums = re.findall(r"\d+(?:\.\d+)?", _prompt_text(task))[:3] or ["5"]
    return {"content": "\n".join(f"It is not {n}." for n in nums) + f"\nANSWER: not {nums[0]}"}


def _tool_spam(task, turn, messages) -> dict:
    """Every offered tool, every turn, with plausible arguments built from its schema."""
    calls = []
    for spec in task.get("tools") or []:
        fn = spec.get("function", spec) if isinstance(spec, dict) else {"name": spec, "parameters": {}}
        props = ((fn.get("parameters") or {}).get("properties") or {}) if isinstance(fn, dict) else {}
        args = {}
        for p, schema in props.items():
            kind = (schema or {}).get("type")
            args[p] = (schema.get("enum") or [None])[0] if (schema or {}).get("enum") else 1 if kind in ("integer", "number") else True if kind == "boolean" else [] if kind == "array" else {} if kind == "object" else "x"
        calls.append({"name": fn.get("name") if isinstance(fn, dict) else str(spec), "arguments": args})
    if task["suite"] == "agent":
        from benchloop.agent_tools import TOOLS

        calls = [{"name": n, "arguments": {p: "x" for p in TOOLS[n].params}} for n in task.get("tools") or []]
    return {"content": "", "tool_calls": calls * 2}


SHORTCUTS = {
    "empty": lambda task, turn, messages: {"content": ""},
    "constant": lambda task, turn, messages: {"content": "I'm sorry, I can't help with that request."},
    "universal": lambda task, turn, messages: {"content": UNIVERSAL},
    "every_value": lambda task, turn, messages: {"content": EVERY_VALUE + "\nANSWER: " + EVERY_VALUE.splitlines()[0]},
    "keywords_only": _keywords_only,
    "echo": _echo,
    "echo_edited": _echo_edited,
    "hedge": _hedge,
    "negated": _negated,
    "tool_spam": _tool_spam,
}


# ------------------------------------------------------------------------ tests --
@pytest.mark.parametrize("harness_name", HARNESSES)
@pytest.mark.parametrize("shortcut", sorted(SHORTCUTS))
def test_a_reply_that_fits_every_task_scores_zero_everywhere(shortcut, harness_name):
    scored = []
    for task in ALL_TASKS:
        if task["suite"] == "coding" and shortcut not in ("universal", "empty", "echo"):
            continue  # text-only shortcuts never reach the coding sandbox; the code attacks live in test_coding
        rec = play(task, harness_name, SHORTCUTS[shortcut])
        assert rec["error"] is None, (task["id"], rec["error"])
        scored.append((task["id"], rec["score"]))
    nonzero = [(tid, s) for tid, s in scored if s > 0]
    assert not nonzero, f"{shortcut} under {harness_name} scored on {nonzero}"


@pytest.mark.parametrize("shortcut", ["empty", "constant", "echo", "tool_spam"])
def test_a_useless_model_has_overall_at_most_one(shortcut):
    """The done-when of issue 11: a constant, an echo, an empty model and a tool-spammer
    score overall <= 1 without the speed suite."""
    records = [play(task, "raw", SHORTCUTS[shortcut]) for task in ALL_TASKS if task["suite"] != "coding" or shortcut != "tool_spam"]
    sc = score_run({"tasks": records})
    assert sc["overall"] is not None and sc["overall"] <= 1.0, sc


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_cross_task_matrix_is_diagonal(suite):
    """Every task's reference reply, judged as the answer to every *other* task of its
    suite, scores 0: a right answer to one question is no answer to another."""
    import importlib

    from benchloop.catalog import SUITES as TABLE

    checker = importlib.import_module(TABLE[suite][1])
    tasks = SUITES[suite]["tasks"]
    off = []
    for a, b in itertools.permutations(tasks, 2):
        if suite == "agent":
            from benchloop.agent_episode import simulate

            v = checker.check(b, simulate(b, a["reference"])[0])
        elif suite == "coding" and not _same_function(a, b):
            continue  # another function's code cannot define this task's function: 0 without a sandbox run (tested in test_coding)
        else:
            v = checker.check(b, a["reference"])
        if v["score"] > 0:
            off.append(f"{a['id']} -> {b['id']}: {v['score']}")
    assert not off, off


def _same_function(a: dict, b: dict) -> bool:
    fa = set(re.findall(r"def (\w+)\(", a.get("reference") or ""))
    fb = set(re.findall(r"def (\w+)\(", b.get("reference") or ""))
    return bool(fa & fb)


@pytest.mark.parametrize("harness_name", HARNESSES)
def test_the_same_path_gives_reference_replies_full_marks(harness_name):
    """The control for the tests above: the replay path is not what makes them score 0."""
    low = []
    for task in ALL_TASKS:
        rec = play(task, harness_name, replay.reference)
        if rec["score"] < 100:
            low.append((task["id"], rec["score"], rec["reason"][:80]))
    assert not low, low
