"""toolcall suite: the checker's typed rules, the frozen tasks, and the whole loop.

Why: a tool-call score is only worth reading if the right call earns 100, a near miss
earns less, and no shortcut (silence, echoing, a canned refusal, spraying every tool)
earns anything. The per-task tests prove that for every task at the checker level; the
end-to-end tests prove it again through a real HTTP endpoint, under every harness, with
BenchLoop playing the tools on multi-step tasks.
"""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchloop.checkers import toolcall as tc
from benchloop.harnesses import get_harness
from benchloop.harnesses.base import task_messages
from benchloop.providers import make_provider
from benchloop.drivers import run_task
from benchloop.drivers.conversation import Conversation
from benchloop.tasks import TaskFileError, load_suite
from benchloop.testing.scripted import Reply

SUITE = load_suite("toolcall")
TASKS = SUITE["tasks"]
IDS = [t["id"] for t in TASKS]
HARNESSES = ["raw", "hermes", "qwen", "pi"]
CANNED = "I cannot help with that."
BAD = ["empty", "echo", "constant", "spray"]


def by_id(tid: str) -> dict:
    return next(t for t in TASKS if t["id"] == tid)


def n_turns(task: dict) -> int:
    return len(tc.steps_of(task))


def bad_reply(kind: str, task: dict, last_user: str) -> dict:
    """The four models that must score 0: silent, parrot, canned, tool sprayer."""
    if kind == "empty":
        return {"content": ""}
    if kind == "echo":
        return {"content": last_user}
    if kind == "constant":
        return {"content": CANNED}
    return {"tool_calls": [{"name": n, "arguments": {}} for n in tc.offered_tools(task)]}


# -------------------------------------------------------------- the frozen task file --
def test_suite_shape():
    assert len(TASKS) >= 20
    kinds = {t["check"]["type"] for t in TASKS}
    assert kinds == {"calls", "no_call", "multi_step"}
    assert any(len(t["check"].get("calls") or []) > 1 for t in TASKS)  # parallel calls
    assert all(4 <= len(t["tools"]) <= 10 for t in TASKS)
    assert {t["id"] for t in TASKS if "quick" in t.get("profiles", [])} >= {"tc-001", "tc-019", "tc-023"}


@pytest.mark.parametrize("tid", IDS)
def test_reference_scores_100_and_wrong_scores_less(tid):
    task = by_id(tid)
    ref = tc.check(task, task["reference"])
    assert ref["score"] == 100.0 and ref["passed"], ref
    wrong = tc.check(task, task["wrong"])
    assert wrong["score"] < 100.0 and not wrong["passed"], wrong
    assert wrong["reason"]


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("tid", IDS)
def test_bad_replies_score_0_at_checker_level(tid, kind):
    task = by_id(tid)
    reply = bad_reply(kind, task, task_messages(task)[-1]["content"])
    assert tc.check(task, [reply] * n_turns(task))["score"] == 0.0


# ----------------------------------------------------------------------- typed rules --
def _one(task_id: str, calls: list[dict]) -> float:
    return tc.check(by_id(task_id), {"tool_calls": calls})["score"]


def test_strings_normalize_case_and_whitespace_unless_exact():
    assert _one("tc-013", [{"name": "get_route", "arguments": {"origin": "  utrecht ", "destination": "AMSTERDAM", "mode": "cycling"}}]) == 100.0
    good = {"to": "marta.lindqvist@northwind.io", "subject": "budget  DRAFT", "body": "The draft is in the Shared Folder."}
    assert _one("tc-004", [{"name": "send_email", "arguments": good}]) == 100.0
    assert _one("tc-004", [{"name": "send_email", "arguments": dict(good, to="Marta.Lindqvist@northwind.io")}]) < 100.0


def test_types_are_strict():
    base = {"restaurant": "Casa Lume", "party_size": 6, "date": "2025-07-19", "time": "20:00"}
    assert _one("tc-007", [{"name": "book_table", "arguments": base}]) == 100.0
    for bad in ({"party_size": 6.5}, {"party_size": True}, {"party_size": "6"}, {"time": 2000}):
        assert _one("tc-007", [{"name": "book_table", "arguments": dict(base, **bad)}]) < 100.0, bad
    # enum values are part of the type
    assert _one("tc-011", [{"name": "set_thermostat", "arguments": {"room": "bedroom", "temperature": 19.5, "mode": "warm"}}]) < 100.0
    # integer-valued numbers are numbers
    assert _one("tc-011", [{"name": "set_thermostat", "arguments": {"room": "bedroom", "temperature": 19.5, "mode": "heat"}}]) == 100.0
    assert _one("tc-002", [{"name": "convert_currency", "arguments": {"amount": 1250.0, "from_currency": "cad", "to_currency": "chf"}}]) == 100.0


def test_lists_of_acceptable_values_and_unordered_arrays():
    for city in ("Reykjavik", "Reykjavík"):
        assert _one("tc-001", [{"name": "get_weather", "arguments": {"city": city, "unit": "fahrenheit"}}]) == 100.0
    assert _one("tc-006", [{"name": "search_recipes", "arguments": {"ingredients": ["Spinach", "chickpea"], "max_minutes": 30, "vegetarian": True}}]) == 100.0
    assert _one("tc-006", [{"name": "search_recipes", "arguments": {"ingredients": ["spinach"], "max_minutes": 30, "vegetarian": True}}]) < 100.0


def test_optional_args_may_be_omitted_but_not_wrong_and_unknown_args_cost():
    base = {"room": "bedroom", "temperature": 19.5, "mode": "heat"}
    assert _one("tc-011", [{"name": "set_thermostat", "arguments": base}]) == 100.0
    assert _one("tc-011", [{"name": "set_thermostat", "arguments": dict(base, fan="high")}]) == 50.0
    # unchecked optional argument of the right type: allowed
    assert _one("tc-013", [{"name": "get_route", "arguments": {"origin": "Utrecht", "destination": "Amsterdam", "mode": "cycling"}}]) == 100.0
    assert _one("tc-008", [{"name": "translate_text", "arguments": {"text": "Where is the train station?", "target_language": "de"}}]) == 100.0


def test_parallel_calls_are_order_free_and_extra_or_missing_calls_cost():
    oslo = {"name": "get_weather", "arguments": {"city": "Oslo"}}
    bergen = {"name": "get_weather", "arguments": {"city": "Bergen"}}
    assert _one("tc-016", [oslo, bergen]) == _one("tc-016", [bergen, oslo]) == 100.0
    assert _one("tc-016", [oslo]) == 50.0
    assert _one("tc-016", [oslo, bergen, oslo]) == pytest.approx(200 / 3, abs=0.01)
    assert _one("tc-016", [oslo, oslo]) == 50.0


def test_partial_credit_is_documented_and_bounded():
    # right tool, one of three required arguments right -> one third
    assert _one("tc-012", [{"name": "loan_payment", "arguments": {"principal": 240000, "annual_rate_percent": 0.042, "years": 30}}]) == pytest.approx(100 / 3, abs=0.01)
    # right tool, no arguments -> 0
    assert _one("tc-012", [{"name": "loan_payment", "arguments": {}}]) == 0.0
    # malformed arguments -> 0
    assert tc.check(by_id("tc-012"), {"tool_calls": [{"name": "loan_payment", "arguments": "{principal: 240000"}]})["score"] == 0.0


def test_an_unoffered_tool_fails_the_task_even_beside_the_right_call():
    right = {"name": "get_weather", "arguments": {"city": "Reykjavik", "unit": "fahrenheit"}}
    v = tc.check(by_id("tc-001"), {"tool_calls": [right, {"name": "web_search", "arguments": {"q": "x"}}]})
    assert v["score"] == 0.0 and "not offered" in v["reason"]
    v = tc.check(by_id("tc-023"), [{"tool_calls": [{"name": "lookup_contact", "arguments": {"name": "Ingrid"}}]}, {"tool_calls": [{"name": "sms", "arguments": {}}]}])
    assert v["score"] == 0.0


def test_irrelevance_rewards_a_right_plain_answer_only():
    task = by_id("tc-021")
    assert tc.check(task, {"content": "Four plus nine plus six makes 19."})["score"] == 100.0
    assert tc.check(task, {"content": "19", "tool_calls": [{"name": "loan_payment", "arguments": {}}]})["score"] == 0.0
    assert tc.check(task, {"content": "", "reasoning": "the digits sum to 19"})["score"] == 0.0  # reasoning is not the answer


def test_multi_step_stops_at_a_missing_call_and_scores_the_mean_of_steps():
    task = by_id("tc-024")
    first = task["reference"][0]
    assert tc.check(task, [first, {"content": "Let me check."}])["score"] == pytest.approx(100 / 3, abs=0.01)
    assert tc.check(task, task["reference"][:2])["score"] == pytest.approx(200 / 3, abs=0.01)


def test_validate_names_the_broken_field():
    task = copy.deepcopy(by_id("tc-001"))
    task["check"]["calls"][0]["args"] = {"unit": "fahrenheit"}  # schema-required city not checked
    assert tc.validate(task)[0] == "check"
    task = copy.deepcopy(by_id("tc-001"))
    task["check"]["calls"][0]["name"] = "get_forecast"
    assert "not an offered tool" in tc.validate(task)[1]
    task = copy.deepcopy(by_id("tc-001"))
    task["tools"] = task["tools"][:3]
    assert tc.validate(task)[0] == "tools"
    task = copy.deepcopy(by_id("tc-023"))
    del task["check"]["steps"][0]["calls"][0]["result"]
    assert "result" in tc.validate(task)[1]
    task = copy.deepcopy(by_id("tc-019"))
    del task["check"]["answer"]
    assert tc.validate(task)[0] == "check"


def test_loader_rejects_a_broken_task_file(tmp_path):
    text = open(SUITE["path"]).read().replace("name: get_weather\n          args:\n            city:", "name: get_weathr\n          args:\n            city:", 1)
    (tmp_path / "toolcall.yaml").write_text(text)
    with pytest.raises(TaskFileError, match="tc-001.*check"):
        load_suite("toolcall", tmp_path)


ARG = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10), lambda i: st.lists(i, max_size=3) | st.dictionaries(st.text(max_size=6), i, max_size=3), max_leaves=8)
NAMES = st.sampled_from(["get_weather", "set_timer", "send_sms", "lookup_contact", "nope", ""])
ANY_CALL = st.fixed_dictionaries({"name": NAMES, "arguments": st.one_of(st.dictionaries(st.sampled_from(["city", "minutes", "name", "x"]), ARG, max_size=3), st.text(max_size=20))})
ANY_REPLY = st.fixed_dictionaries({"content": st.text(max_size=60), "tool_calls": st.lists(ANY_CALL, max_size=8)})


@settings(max_examples=200, deadline=None)
@given(tid=st.sampled_from(IDS), replies=st.lists(ANY_REPLY, min_size=1, max_size=3))
def test_checker_never_raises_and_stays_in_range(tid, replies):
    v = tc.check(by_id(tid), replies)
    assert 0.0 <= v["score"] <= 100.0 and isinstance(v["reason"], str)
    json.dumps(v.to_dict())


# ------------------------------------------------------------- end to end, over HTTP --
class Model:
    """A scripted model that speaks the harness's format: plays each task's reference
    answer turn by turn, or one of the four bad models."""

    def __init__(self, harness_name: str):
        self.speaker = get_harness(harness_name)
        self.task: dict | None = None
        self.mode = "reference"

    def __call__(self, req) -> Reply:
        msgs = req["messages"]
        turn = sum(1 for m in msgs if m.get("role") == "assistant")
        last_user = next((m.get("content") or "" for m in reversed(msgs) if m.get("role") == "user"), "")
        if self.mode == "reference":
            ref = self.task["reference"]
            logical = ref[turn] if isinstance(ref, list) else ref
        else:
            logical = bad_reply(self.mode, self.task, last_user)
        return Reply(**self.speaker.encode_reply(logical))


def _context(ep, harness_name):
    return Conversation(provider=make_provider("openai_compat", ep.url), harness=get_harness(harness_name), model="scripted-model", suite_defaults=SUITE["defaults"])


@pytest.mark.parametrize("harness_name", HARNESSES)
def test_reference_answers_score_100_end_to_end(scripted, harness_name):
    model = Model(harness_name)
    ep = scripted(model)
    ctx = _context(ep, harness_name)
    for task in TASKS:
        model.task = task
        before = len(ep.received)
        rec = run_task(task, ctx)
        assert rec["error"] is None, (task["id"], rec["error"])
        assert rec["score"] == 100.0, (task["id"], rec["reason"], rec["turns"])
        assert len(rec["turns"]) == n_turns(task) == len(ep.received) - before
        for req in ep.received[before:]:
            body = req["body"]
            assert ("tools" in body) == (harness_name == "raw")
            if harness_name != "raw":
                assert all(m["role"] in ("system", "user", "assistant") and "tool_calls" not in m for m in body["messages"])
    json.dumps(rec)


@pytest.mark.parametrize("harness_name", HARNESSES)
def test_bad_models_score_0_end_to_end(scripted, harness_name):
    model = Model(harness_name)
    ep = scripted(model)
    ctx = _context(ep, harness_name)
    for kind in BAD:
        model.mode = kind
        for task in TASKS:
            model.task = task
            rec = run_task(task, ctx)
            assert rec["error"] is None and rec["score"] == 0.0, (kind, task["id"], rec["reason"])


@pytest.mark.parametrize("harness_name", ["raw", "hermes"])
def test_multi_step_feeds_scripted_results_back_and_records_turns(scripted, harness_name):
    task = by_id("tc-025")
    model = Model(harness_name)
    model.task = task
    ep = scripted(model)
    rec = run_task(task, _context(ep, harness_name))
    assert rec["score"] == 100.0
    second = ep.received[1]["body"]["messages"]
    text = json.dumps(second)
    assert "112.5" in text  # the price BenchLoop's tool returned is in the next request
    if harness_name == "raw":
        assert second[-1]["role"] == "tool" and json.loads(second[-1]["content"])["price"] == 112.5
    else:
        assert second[-1]["role"] == "user" and second[-1]["content"].startswith("<tool_response>")
    turns = rec["turns"]
    assert [t["step_score"] for t in turns] == [100.0, 100.0, 100.0]
    assert turns[0]["tool_results"] == [{"ticker": "NVTX", "price": 112.5, "currency": "USD"}]
    assert turns[0]["tool_calls"][0]["name"] == "get_stock_price" and turns[2]["tool_calls"] == []
    assert rec["output"].startswith("40 x 112.50") and rec["completion_tokens"] == sum(t["completion_tokens"] for t in turns)


def test_a_wrong_call_gets_an_error_result_not_the_answer(scripted):
    task = by_id("tc-024")
    speaker = get_harness("raw")
    script = [{"tool_calls": [{"name": "find_orders", "arguments": {"email": "someone@else.org"}}]}, {"content": "Sorry, nothing found."}]
    ep = scripted(lambda req: Reply(**speaker.encode_reply(script[sum(m["role"] == "assistant" for m in req["messages"])])))
    rec = run_task(task, _context(ep, "raw"))
    assert "error" in rec["turns"][0]["tool_results"][0]
    assert "B-20417" not in json.dumps(ep.received[1]["body"]["messages"])
    assert rec["score"] == 0.0 and len(rec["turns"]) == 2
