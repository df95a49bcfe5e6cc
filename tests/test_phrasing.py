"""A right answer in any form a careful grader accepts scores full marks (issue 11).

Why this module: real models wrap their answers. They think first (in a ``<think>``
block, in the API's reasoning field, or behind a lone ``</think>`` when the chat template
opened the block itself), they open with "Sure, here you go", they close with an offer
to help, they fence code and JSON or leave it bare, they answer in CRLF. None of that
changes the answer. For every task of every quality suite, each of at least five such
forms of the task's reference scores 100 through the real driver, harness and checker,
and the same forms of the task's ``wrong`` answer still fail (a wrapper never turns a
wrong answer right). Value-level phrasing (units, thousands, 12-hour times, aliases,
whole-number floats) is tested per suite: tests/test_reasonmath_phrasing.py,
test_answers.py, test_dataextract.py, test_toolcall.py, test_agent.py,
test_instructfollow.py.
"""
from __future__ import annotations

import re

import pytest

from benchloop.catalog import QUALITY_SUITES
from benchloop.tasks import load_suite
from benchloop.testing import replay

SUITES = {name: load_suite(name) for name in QUALITY_SUITES}
THOUGHT = "Let me work through this carefully. First I list what is given, then I check each step twice."


def _think_block(text: str) -> dict:
    return {"content": f"<think>\n{THOUGHT}\n</think>\n\n{text}"}


def _lone_close(text: str) -> dict:
    return {"content": f"{THOUGHT}\n</think>\n\n{text}"}


def _reasoning_field(text: str) -> dict:
    return {"content": text, "reasoning": THOUGHT}


def _preamble(text: str) -> dict:
    return {"content": f"Sure! Here is my answer.\n\n{text}"}


def _closing(text: str) -> dict:
    return {"content": f"{text}\n\nLet me know if you would like anything changed."}


def _crlf(text: str) -> dict:
    return {"content": text.replace("\n", "\r\n")}


def _blank_lines(text: str) -> dict:
    return {"content": f"\n\n{text}\n\n"}


def _unfenced(text: str) -> dict:
    """Code or JSON without the ``` fence (and the fence added where there was none)."""
    m = re.search(r"```[a-zA-Z]*\n(.*?)```", text, re.S)
    return {"content": m.group(1) if m else f"```\n{text}\n```"}


# Forms that keep every constraint a suite checks. Instructfollow grades the whole text
# (word counts, first and last lines), so only reasoning-placement forms apply there.
FORMS = {
    "reasonmath": [_think_block, _lone_close, _reasoning_field, _preamble, _closing, _crlf],
    "dataextract": [_think_block, _lone_close, _reasoning_field, _preamble, _closing, _unfenced],
    "coding": [_think_block, _lone_close, _reasoning_field, _preamble, _closing, _unfenced],
    "instructfollow": [_think_block, _lone_close, _reasoning_field, _blank_lines, _crlf],
    "toolcall": [_think_block, _lone_close, _reasoning_field, _preamble, _closing],
    "agent": [_think_block, _lone_close, _reasoning_field, _preamble, _closing],
}


def _wrapped(form, base):
    """A reply function applying ``form`` to the text of every turn of ``base``."""

    def reply_for(task, turn, messages):
        r = dict(base(task, turn, messages))
        if r.get("content"):
            r.update(form(r["content"]))
        return r

    return reply_for


def _wrong(task, turn, messages) -> dict:
    w = task["wrong"]
    if isinstance(w, list):
        return w[turn] if turn < len(w) else {"content": ""}
    return w if isinstance(w, dict) else {"content": str(w)}


CASES = [(s, f.__name__.strip("_")) for s in QUALITY_SUITES for f in FORMS[s]]


@pytest.mark.parametrize("suite,form", CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_real_model_forms_of_the_right_answer_score_full_marks(suite, form):
    fn = next(f for f in FORMS[suite] if f.__name__.strip("_") == form)
    harness = "raw" if suite != "agent" else "hermes"  # one native, one text harness across the module
    low = []
    for task in SUITES[suite]["tasks"]:
        rec = replay.play(task, harness, _wrapped(fn, replay.reference), SUITES[suite]["defaults"])
        if rec["score"] < 100:
            low.append((task["id"], rec["score"], rec["reason"][:100]))
    assert not low, low


@pytest.mark.parametrize("suite", QUALITY_SUITES)
def test_the_same_forms_never_make_a_wrong_answer_pass(suite):
    bad = []
    for fn in FORMS[suite]:
        for task in SUITES[suite]["tasks"]:
            rec = replay.play(task, "raw", _wrapped(fn, _wrong), SUITES[suite]["defaults"])
            if rec["passed"]:
                bad.append((fn.__name__, task["id"]))
    assert not bad, bad
