"""The agent suite: its tools, its grading, and its loop through real HTTP.

Every task is played through ``drivers.run_task`` against the scripted endpoint under
each harness: the reference must score 100, the wrong script less, and the bad models
(empty, echo, constant, every tool with empty arguments, a stuffed, a hedged and a negated
universal answer) exactly 0. Issue 11's gaming checks: every task's reference played on
every other task scores 0, a tool-spammer scores 0, hedged and negated versions of each
right answer fail, the right answer in the forms real models write scores 100, and any
final text or hostile argument is judged without raising, fast. The tools are tested for
their state changes and for turning every bad call into an error result.
"""
from __future__ import annotations

import copy
import functools
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchloop import agent_tools as at
from benchloop.checkers import agent
from benchloop.harnesses import get_harness
from benchloop.providers import make_provider
from benchloop.agent_episode import MAX_CALLS_PER_TURN
from benchloop.drivers import run_task
from benchloop.drivers.conversation import Conversation
from benchloop.tasks import load_suite
from benchloop.testing.scripted import Reply

HARNESSES = ["raw", "hermes", "qwen", "pi"]
SUITE = load_suite("agent")
TASKS = SUITE["tasks"]
IDS = [t["id"] for t in TASKS]
BY_ID = {t["id"]: t for t in TASKS}


# =========================================================================== helpers


def _task_of(req) -> dict:
    """The task a request belongs to: the one whose prompt is in its user messages."""
    text = "\n".join(m.get("content") for m in req["messages"] if m.get("role") == "user" and isinstance(m.get("content"), str))
    for t in TASKS:
        if t["prompt"] in text:
            return t
    raise AssertionError("request matches no task prompt")


def _assistant_turns(req) -> int:
    return sum(1 for m in req["messages"] if m.get("role") == "assistant")


def _responder(harness, pick):
    """``pick(task, k, req)`` returns the k-th logical reply; the harness encodes it."""

    def respond(req):
        task = _task_of(req)
        logical = at.jsonable(pick(task, _assistant_turns(req), req))
        wire = harness.encode_reply(logical)
        return Reply(content=wire["content"], tool_calls=wire["tool_calls"])

    return respond


def _script(name):
    def pick(task, k, req):
        script = task[name]
        return script[k] if k < len(script) else {"content": ""}

    return pick


def _ctx(ep, harness_name, **kw):
    return Conversation(
        make_provider("openai_compat", ep.url),
        get_harness(harness_name),
        model="scripted-model",
        suite_defaults=SUITE["defaults"],
        **kw,
    )


def _play(scripted, harness_name, pick, task):
    harness = get_harness(harness_name)
    ep = scripted(_responder(harness, pick))
    return run_task(task, _ctx(ep, harness_name)), ep


def _fact_values() -> list[str]:
    out = []
    for t in TASKS:
        for f in t["check"].get("answer") or []:
            out += [str(f["value"]), *map(str, f.get("accept") or []), *f.get("rivals", [])]
    return out


# One reply sent to every task: every task's answer values and rivals, plus more numbers,
# dates and times; a hedge offering two of each; a denial of each.
STUFFED = (
    "Done. Results: " + ", ".join(_fact_values()) + ". Also " + " ".join(str(i) for i in range(25))
    + " units, $926, 3,112.50 USD, 250g on 2025-03-14, 9 April 2025, May 8th, 2025-05-04 at 08:30, 10:30, 1:20 PM, noon."
)
HEDGE = "It is 44 or 50, 3 or 4, either 2025-04-09 or 2025-04-10, at 10:30 or 11:00, Osta Biolabs or Kalvik Rail, heron-4471 or O-1007."
NEGATION = "It is not " + "; it is not ".join(_fact_values()) + "."

BAD_MODELS = {
    "stuffed": lambda task, k, req: {"content": STUFFED},
    "hedge": lambda task, k, req: {"content": HEDGE},
    "negation": lambda task, k, req: {"content": NEGATION},
    "empty": lambda task, k, req: {"content": ""},
    "echo": lambda task, k, req: {"content": task["prompt"]},
    "constant": lambda task, k, req: {"content": "I have completed the task successfully."},
    "empty_args": lambda task, k, req: {"content": "", "tool_calls": [{"name": n, "arguments": {}} for n in task["tools"]]},
}


# =========================================================================== the suite file


def test_suite_has_enough_varied_original_tasks():
    assert len(TASKS) >= 20
    assert IDS == [f"ag-{i:03d}" for i in range(1, len(TASKS) + 1)]
    quick = [t for t in TASKS if "quick" in t.get("profiles", [])]
    assert 3 <= len(quick) < len(TASKS)
    mutating = [t for t in TASKS if (t["check"].get("state"))]
    chains = [t for t in TASKS if len(t["reference"]) >= 3]
    assert len(mutating) >= 6 and len(chains) >= 8
    # at least one task requires the same tool twice, each call checked on its own
    assert any(len({c["name"] for c in t["check"]["calls"]}) < len(t["check"]["calls"]) for t in TASKS)


@pytest.mark.parametrize("tid", IDS)
def test_offline_reference_scores_100_and_wrong_less(tid):
    task = BY_ID[tid]
    ref = agent.check(task, agent.simulate(task, task["reference"])[0])
    wrong = agent.check(task, agent.simulate(task, task["wrong"])[0])
    assert ref["score"] == 100.0 and ref["passed"], ref["reason"]
    assert wrong["score"] < 100.0 and not wrong["passed"]


# =========================================================================== the real loop


@pytest.mark.parametrize("harness_name", HARNESSES)
@pytest.mark.parametrize("tid", IDS)
def test_reference_scores_100_and_wrong_less_through_the_loop(scripted, harness_name, tid):
    task = BY_ID[tid]
    rec, _ = _play(scripted, harness_name, _script("reference"), task)
    assert rec["error"] is None, rec["error"]
    assert rec["score"] == 100.0 and rec["passed"], rec["reason"]
    assert len(rec["turns"]) == len(task["reference"])
    wrong, _ = _play(scripted, harness_name, _script("wrong"), task)
    assert wrong["error"] is None, wrong["error"]
    offline = agent.check(task, agent.simulate(task, task["wrong"])[0])
    assert wrong["score"] < 100.0 and wrong["score"] == offline["score"]


@pytest.mark.parametrize("harness_name", HARNESSES)
@pytest.mark.parametrize("bad", sorted(BAD_MODELS))
def test_bad_models_score_zero_on_every_task(scripted, harness_name, bad):
    harness = get_harness(harness_name)
    ep = scripted(_responder(harness, BAD_MODELS[bad]))
    ctx = _ctx(ep, harness_name)
    for task in TASKS:
        rec = run_task(task, ctx)
        assert rec["error"] is None, (task["id"], rec["error"])
        assert rec["score"] == 0.0, (task["id"], bad, rec["reason"])
        assert not rec["passed"]
        if bad == "empty_args":  # it really called every tool each turn, and nothing changed
            assert len(rec["turns"]) == agent.max_turns(task, SUITE["defaults"])
            assert [c["name"] for c in rec["turns"][0]["calls"]] == task["tools"]
            initial = at.new_state(task["state"])
            assert rec["detail"]["final_state"] == agent._final_state(task["check"].get("state", {}), initial)


def test_trace_records_every_turn_call_result_and_timing(scripted):
    task = BY_ID["ag-012"]
    rec, ep = _play(scripted, "raw", _script("reference"), task)
    assert rec["score"] == 100.0
    turns = rec["turns"]
    assert [t["turn"] for t in turns] == [1, 2, 3, 4]
    assert [t["messages"] for t in turns] == [2, 4, 6, 8]  # system+user, then +assistant +tool
    for t in turns:
        assert t["latency_ms"] > 0 and isinstance(t["completion_tokens"], int) and isinstance(t["prompt_tokens"], int)
        assert t["finish_reason"] in ("stop", "tool_calls")
    assert rec["latency_ms"] == pytest.approx(sum(t["latency_ms"] for t in turns), abs=0.01)
    assert rec["completion_tokens"] == sum(t["completion_tokens"] for t in turns)
    assert rec["prompt_tokens"] == sum(t["prompt_tokens"] for t in turns)
    assert rec["ttft_ms"] == turns[0]["ttft_ms"]
    calls = rec["tool_calls"]
    assert [c["name"] for c in calls] == ["read_file", "calculate", "write_file"]
    assert calls[1]["arguments"] == {"expression": "41.20 + 38.75 + 44.05"}
    assert calls[1]["result"] == {"expression": "41.20 + 38.75 + 44.05", "result": 124}
    assert calls[0]["result"]["content"].startswith("2025-03-02")
    assert all(c["status"] == "ok" and c["turn"] == i + 1 for i, c in enumerate(calls))
    assert rec["output"] == task["reference"][-1]["content"]
    assert rec["detail"]["final_state"]["files"]["data/fuel-total.txt"] == "124.00"
    # what went over the wire: offered tools each turn, each result fed back as a tool message
    chats = [r for r in ep.received if r["path"].endswith("/chat/completions")]
    assert len(chats) == 4
    assert [s["function"]["name"] for s in chats[0]["tools"]] == task["tools"]
    fed = [json.loads(m["content"]) for m in chats[2]["messages"] if m["role"] == "tool"]
    assert fed[-1] == {"expression": "41.20 + 38.75 + 44.05", "result": 124}
    json.dumps(rec)  # plain data, ready for the artifact


def test_text_harness_feeds_results_back_in_its_own_format(scripted):
    task = BY_ID["ag-001"]
    rec, ep = _play(scripted, "qwen", _script("reference"), task)
    assert rec["score"] == 100.0
    second = [r for r in ep.received if r["path"].endswith("/chat/completions")][1]
    assert not second["tools"] and all(m["role"] != "tool" for m in second["messages"])
    assert "<function_result>" in second["messages"][-1]["content"] and "11.5" in second["messages"][-1]["content"]


def test_provider_failure_mid_task_keeps_the_trace(scripted):
    task = BY_ID["ag-009"]

    def respond(req):
        if _assistant_turns(req) == 1:
            return Reply(status=500, error_message="engine crashed")
        return Reply(tool_calls=[{"name": "list_products", "arguments": {}}])

    ep = scripted(respond)
    rec = run_task(task, _ctx(ep, "raw"))
    assert rec["error"] and rec["error_kind"] == "http" and rec["score"] == 0.0
    assert len(rec["turns"]) == 1 and rec["turns"][0]["calls"][0]["name"] == "list_products"
    assert rec["latency_ms"] > 0


def test_malformed_arguments_become_an_error_result_and_the_loop_recovers(scripted):
    task = BY_ID["ag-001"]
    script = [
        {"tool_calls": [{"name": "get_weather", "arguments": '{"city": "Bergen", '}]},
        *task["reference"],
    ]
    rec, ep = _play(scripted, "raw", lambda t, k, req: script[k], task)
    first = rec["turns"][0]["calls"][0]
    assert first["status"] == "error" and "JSON" in first["result"]["error"]
    assert rec["score"] == 100.0  # one retry is inside the turn budget


def test_invented_and_unoffered_tools_cost_points(scripted):
    task = BY_ID["ag-001"]
    script = [
        {"tool_calls": [{"name": "teleport", "arguments": {}}, {"name": "read_file", "arguments": {"path": "x.txt"}}]},
        *task["reference"],
    ]
    rec, _ = _play(scripted, "raw", lambda t, k, req: script[k], task)
    assert [c["status"] for c in rec["turns"][0]["calls"]] == ["unknown", "unoffered"]
    assert rec["score"] == 100.0 - 2 * agent.PENALTY_BAD_TOOL and not rec["passed"]


def test_a_flood_of_calls_is_cut_to_the_per_turn_limit():
    task = BY_ID["ag-001"]
    flood = {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Bergen"}}] * 500}
    outcome, turns = agent.simulate(task, [flood, task["reference"][-1]])
    assert len(turns[0]["calls"]) == MAX_CALLS_PER_TURN and turns[0]["dropped_calls"] == 500 - MAX_CALLS_PER_TURN
    assert len(outcome["calls"]) == MAX_CALLS_PER_TURN


def test_wasted_turns_and_no_final_answer_cost_points():
    task = BY_ID["ag-001"]
    call = task["reference"][0]
    script = [call] * 5 + [task["reference"][-1]]
    v = agent.check(task, agent.simulate(task, script)[0])
    assert v["turn_budget"] == 3 and v["turns_used"] == 6
    assert v["score"] == 100.0 - 3 * agent.PENALTY_WASTED_TURN
    never = agent.check(task, agent.simulate(task, [call] * 20)[0])
    assert never["score"] == 0.0  # no answer, so no outcome check passed


# =========================================================================== grading rules


def test_each_required_call_is_checked_on_its_own():
    task = BY_ID["ag-003"]
    osta = {"name": "get_stock_price", "arguments": {"symbol": "OSTA"}}
    script = [{"tool_calls": [osta, osta]}, task["reference"][-1]]
    v = agent.check(task, agent.simulate(task, script)[0])
    calls = [c for c in v["checks"] if c["kind"] == "call"]
    assert [c["ok"] for c in calls] == [False, True, False]  # OSTA twice does not stand in for KLVR
    assert v["score"] < 100


def test_required_call_arguments_are_normalized_like_the_tool():
    task = BY_ID["ag-010"]
    script = [
        {"tool_calls": [{"name": "cancel_order", "arguments": {"order_id": " o-1007 "}}]},
        {"content": "Order o-1007 is cancelled."},
    ]
    v = agent.check(task, agent.simulate(task, script)[0])
    assert v["score"] == 100.0, v["reason"]


@pytest.mark.parametrize(
    "text, fact, expected",
    [
        ("about 11.5 mm", {"type": "number", "value": 11.5}, True),
        ("about 12 mm", {"type": "number", "value": 11.5}, False),  # no "within ±1"
        ("about 11 mm", {"type": "number", "value": 11.5}, False),
        ("926.004 USD", {"type": "number", "value": 926, "tolerance": 0.005}, True),
        ("1,240.00 SEK", {"type": "number", "value": 1240}, True),
        ("worth 3,112.50", {"type": "number", "value": 3112.5, "tolerance": 0.005}, True),
        ("on Wednesday 9 April 2025", {"type": "date", "value": "2025-04-09"}, True),
        ("on April 9th, 2025", {"type": "date", "value": "2025-04-09"}, True),
        ("on 2025-04-09", {"type": "date", "value": "2025-04-09"}, True),
        ("on April 9", {"type": "date", "value": "2025-04-09"}, True),
        ("on April 9, 2024", {"type": "date", "value": "2025-04-09"}, False),
        ("on 2025-09-04", {"type": "date", "value": "2025-04-09"}, False),
        ("cancelled the 2025-04-09 event at 09:15", {"type": "number", "value": 9}, False),  # date/time parts are not numbers
        ("cancelled 9 events", {"type": "number", "value": 9}, True),
        ("starts at 10:30", {"type": "time", "value": "10:30"}, True),
        ("starts at 10.30am", {"type": "time", "value": "10:30"}, True),
        ("starts at 10:30 pm", {"type": "time", "value": "10:30"}, False),
        ("starts at 2 pm", {"type": "time", "value": "14:00"}, True),
        ("The password is HERON-4471.", {"type": "name", "value": "heron-4471"}, True),
        ("The password is heron-44710", {"type": "name", "value": "heron-4471"}, False),
        ("order #1007", {"type": "name", "value": "O-1007", "accept": ["1007"]}, True),
        ("Osta   biolabs rose", {"type": "name", "value": "Osta Biolabs"}, True),
    ],
)
def test_facts_are_matched_by_type(text, fact, expected):
    assert agent.fact_found(fact, text) is expected


def test_forbidden_fact_and_shotgun_answers_earn_nothing():
    task = BY_ID["ag-004"]
    ref = task["reference"]
    both = [*ref[:-1], {"content": "It is heron-4471 or maybe swift-1208."}]
    assert agent.check(task, agent.simulate(task, both)[0])["score"] == 0.0
    nine = BY_ID["ag-009"]
    shotgun = [*nine["reference"][:-1], {"content": " ".join(str(i) for i in range(60))}]
    v = agent.check(nine, agent.simulate(nine, shotgun)[0])
    assert not next(c for c in v["checks"] if c["name"].startswith("answer"))["ok"]


def _broken(tid, **changes):
    task = copy.deepcopy(BY_ID[tid])
    for path, value in changes.items():
        node = task
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return agent.validate(task)


def test_validate_refuses_tasks_that_could_give_free_points():
    assert agent.validate(copy.deepcopy(BY_ID["ag-009"])) is None
    # the expected state already holds before the agent acts
    assert _broken("ag-009", **{"check.state": {"inventory": {"LMP-07": {"stock": 6}}}})[0] == "check"
    # the answer fact is in the prompt, so an echo would pass
    assert "prompt" in _broken("ag-009", **{"check.answer": [{"type": "number", "value": 50}]})[1]
    # no outcome check at all: calls alone may not earn points
    assert _broken("ag-016", **{"check.answer": []})[0] == "check"
    assert _broken("ag-001", tools=["get_weather", "fly"])[0] == "tools"
    assert _broken("ag-001", **{"reference": [{"content": "It will rain 11.5 mm."}]})[0] == "reference"
    assert _broken("ag-001", wrong=BY_ID["ag-001"]["reference"])[0] == "wrong"
    assert _broken("ag-006", **{"state.calendar.E1.start": 540})[0] == "state"  # unquoted 09:00


def test_partial_credit_weighs_outcome_over_calls():
    task = BY_ID["ag-005"]
    v = agent.check(task, agent.simulate(task, task["wrong"])[0])
    # two of four state checks, one of two required calls
    assert v["score"] == pytest.approx(100 * (0.7 * 2 / 4 + 0.3 * 1 / 2))


# =========================================================================== the tools


def _run(state, name, **args):
    return at.execute(state, name, args, list(at.TOOLS))


def test_file_tools_change_state():
    s = at.new_state({"files": {"a/x.txt": "hello"}})
    assert _run(s, "read_file", path="/a/x.txt") == ({"path": "a/x.txt", "content": "hello"}, "ok")
    assert _run(s, "write_file", path="./b/y.txt", content="42")[1] == "ok" and s["files"]["b/y.txt"] == "42"
    assert _run(s, "move_file", source="a/x.txt", destination="b/y.txt")[1] == "error"  # no overwrite
    assert _run(s, "move_file", source="a/x.txt", destination="c/x.txt")[1] == "ok"
    assert "a/x.txt" not in s["files"] and s["files"]["c/x.txt"] == "hello"
    assert _run(s, "delete_file", path="c/x.txt")[1] == "ok" and "c/x.txt" not in s["files"]
    res, status = _run(s, "read_file", path="c/x.txt")
    assert status == "error" and "no file" in res["error"]
    assert _run(s, "read_file", path="../etc/passwd")[1] == "error"
    assert _run(s, "list_files", prefix="b/")[0] == {"files": [{"path": "b/y.txt", "chars": 2}], "count": 1}


def test_calendar_tools_refuse_overlaps_and_keep_durations():
    s = at.new_state({"calendar": {"E1": {"title": "A", "date": "2025-01-02", "start": "09:00", "end": "10:00"}}})
    res, status = _run(s, "create_event", title="B", date="2025-01-02", start="09:30", end="10:30")
    assert status == "error" and "E1" in res["error"]
    res, status = _run(s, "create_event", title="B", date="2025-01-02", start="10:00", end="10:45")
    assert status == "ok" and res["event"]["event_id"] == "E2"
    assert _run(s, "move_event", event_id="e1", date="2025-01-03", start="8:15")[1] == "ok"
    assert s["calendar"]["E1"] == {"title": "A", "date": "2025-01-03", "start": "08:15", "end": "09:15"}
    assert _run(s, "create_event", title="C", date="2025-02-30", start="09:00", end="10:00")[1] == "error"
    assert _run(s, "create_event", title="C", date="2025-01-05", start="25:00", end="26:00")[1] == "error"
    assert _run(s, "create_event", title="C", date="2025-01-05", start="11:00", end="10:00")[1] == "error"
    assert _run(s, "cancel_event", event_id="E9")[1] == "error"
    assert _run(s, "cancel_event", event_id="E2")[1] == "ok" and "E2" not in s["calendar"]
    assert [e["event_id"] for e in _run(s, "list_events")[0]["events"]] == ["E1"]


def test_inventory_and_order_tools():
    s = at.new_state(
        {
            "inventory": {"BAG-11": {"name": "Canvas tote bag", "stock": 8, "price": 14.0}},
            "orders": {"O-7": {"customer": "Ann Lee", "sku": "BAG-11", "quantity": 2, "status": "shipped"}},
        }
    )
    assert _run(s, "place_order", customer="Bo", sku="bag-11", quantity=9)[1] == "error"
    res, status = _run(s, "place_order", customer="Bo", sku="BAG-11", quantity=8.0)
    assert status == "ok" and res["order"]["order_id"] == "O-8" and s["inventory"]["BAG-11"]["stock"] == 0
    assert _run(s, "cancel_order", order_id="O-7")[1] == "error"  # shipped
    assert _run(s, "cancel_order", order_id="o-8")[1] == "ok"
    assert s["orders"]["O-8"]["status"] == "cancelled" and s["inventory"]["BAG-11"]["stock"] == 8
    assert _run(s, "restock", sku="BAG-11", quantity=2)[0]["stock"] == 10
    for bad in (0, -3, 2.5, "5", True, 10**9):
        assert _run(s, "restock", sku="BAG-11", quantity=bad)[1] == "error"
    assert s["inventory"]["BAG-11"]["stock"] == 10
    assert _run(s, "search_products", query="TOTE")[0]["count"] == 1
    assert _run(s, "find_orders", customer="ann  lee")[0]["orders"][0]["order_id"] == "O-7"


def test_weather_and_stock_lookups_are_case_insensitive_and_fail_as_data():
    s = at.new_state({"weather": {"Lund": {"2025-05-04": {"condition": "sunny"}}}, "stocks": {"HOLN": {"company": "Hollin Dairy", "price": 12.45}}})
    assert _run(s, "get_weather", city="lund", date="2025-05-04")[0]["condition"] == "sunny"
    assert _run(s, "get_weather", city="lund")[0]["forecast"][0]["date"] == "2025-05-04"
    assert _run(s, "get_weather", city="Paris")[1] == "error"
    assert _run(s, "get_weather", city="Lund", date="2025-05-05")[1] == "error"
    assert _run(s, "get_stock_price", symbol="holn")[0]["price"] == 12.45
    assert _run(s, "find_symbol", company="hollin")[0]["matches"] == [{"symbol": "HOLN", "company": "Hollin Dairy"}]
    assert _run(s, "get_stock_price", symbol="XXXX")[1] == "error"


@pytest.mark.parametrize(
    "expr, value",
    [("40 * 23.15", 926), ("41.20 + 38.75 + 44.05", 124), ("2 ** 10 - 1", 1023), ("-(3 - 5) * 2", 4),
     ("round(10 / 3, 2)", 3.33), ("max(3, 7, 5) + abs(-2)", 9), ("sqrt(16)", 4), ("7 // 2 + 7 % 2", 4), ("0.1 + 0.2", 0.3)],
)
def test_calculator_evaluates_arithmetic(expr, value):
    assert _run({}, "calculate", expression=expr) == ({"expression": expr, "result": value}, "ok")


@pytest.mark.parametrize(
    "expr",
    ["__import__('os').system('id')", "open('/etc/passwd').read()", "x + 1", "(1).__class__", "1 / 0", "10 ** 10 ** 10",
     "9 ** 999", "2 ^ 3", "[1, 2]", "1 if 1 else 2", "(" * 150 + "1" + ")" * 150, "1" * 300, "", "lambda: 1", "sqrt(-1)"],
)
def test_calculator_refuses_everything_else_as_an_error_result(expr):
    res, status = _run({}, "calculate", expression=expr)
    assert status == "error" and isinstance(res["error"], str)


def test_execute_reports_unknown_unoffered_and_bad_arguments_without_raising():
    s = at.new_state({"files": {"a.txt": "x"}})
    assert at.execute(s, "rm_rf", {}, ["read_file"])[1] == "unknown"
    assert at.execute(s, None, {}, ["read_file"])[1] == "unknown"
    assert at.execute(s, "delete_file", {"path": "a.txt"}, ["read_file"])[1] == "unoffered"
    assert "a.txt" in s["files"]
    for args in (None, [], "a.txt", {"path": 3}, {"path": "a.txt", "mode": "r"}, {}, {"path": "x" * 500}):
        res, status = at.execute(s, "read_file", args, ["read_file"])
        assert status == "error" and res["error"]


def test_no_state_changing_tool_works_with_empty_arguments():
    """The "call every tool with empty arguments" bad model must not be able to change state."""
    seed = {sec: {} for sec in at.SECTIONS}
    seed["files"] = {"a.txt": "x"}
    for tool in at.TOOLS.values():
        if tool.mutates:
            s = at.new_state(seed)
            res, status = at.execute(s, tool.name, {}, [tool.name])
            assert status == "error" and s == at.new_state(seed), tool.name


def test_specs_are_valid_openai_function_schemas():
    for name, tool in at.TOOLS.items():
        spec = tool.spec()
        fn = spec["function"]
        assert spec["type"] == "function" and fn["name"] == name and fn["description"]
        params = fn["parameters"]
        assert params["type"] == "object" and set(params["required"]) <= set(params["properties"])
        assert all(p["type"] in ("string", "integer", "number") for p in params["properties"].values())
        json.dumps(spec)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(at.TOOLS) + ["nope"]),
    args=st.one_of(_json, st.fixed_dictionaries({}, optional={k: _json for k in ("path", "sku", "quantity", "date", "start", "expression", "city")})),
)
def test_hostile_arguments_never_raise_and_keep_state_json(name, args):
    s = at.new_state(BY_ID["ag-006"]["state"] | BY_ID["ag-010"]["state"] | BY_ID["ag-004"]["state"])
    res, status = at.execute(s, name, args, list(at.TOOLS))
    assert status in ("ok", "error", "unknown")
    json.dumps(res)
    json.dumps(s)


# =========================================================================== gaming (issue 11)

# (reference task, played on task): why a nonzero score there is right. Empty: the matrix is diagonal.
CROSS_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _score(task, script) -> dict:
    return agent.check(task, agent.simulate(task, script)[0])


@pytest.mark.parametrize("tid", IDS)
def test_a_reference_scores_zero_on_every_other_task(tid):
    ref = BY_ID[tid]["reference"]
    for other in TASKS:
        if other["id"] == tid or (tid, other["id"]) in CROSS_EXCEPTIONS:
            continue
        v = _score(other, ref)
        assert v["score"] == 0.0, (tid, other["id"], v["reason"])


def _plausible_calls(task) -> list[dict]:
    """Every offered tool with arguments drawn from the task's own state: the ids, paths,
    skus, cities and dates a spammer can see, a few quantities and clock times."""
    s = at.new_state(task["state"])
    vals = {
        "path": [*s["files"], "out.txt"], "source": [*s["files"], "a.txt"], "destination": ["archive/x.txt", "invoices/x.txt"],
        "prefix": ["", "notes/"], "event_id": [*s["calendar"], "E1"], "sku": [*s["inventory"], "SKU-1"],
        "order_id": [*s["orders"], "O-1"], "customer": sorted({o["customer"] for o in s["orders"].values()}) or ["Ann Lee"],
        "city": [*s["weather"], "Oslo"], "symbol": [*s["stocks"], "ABC"], "company": [v["company"] for v in s["stocks"].values()] or ["Acme"],
        "date": sorted({e["date"] for e in s["calendar"].values()} | {d for c in s["weather"].values() for d in c}) or ["2025-04-09"],
        "start": ["09:00", "10:30", "12:00"], "end": ["10:00", "11:00", "13:00"], "quantity": [1, 10, 50],
        "title": ["Meeting"], "query": ["a", "bag"], "expression": ["1 + 1"], "content": ["done"],
    }
    calls = []
    for name in task["tools"]:
        params = list(at.TOOLS[name].params)
        for combo in itertools.islice(itertools.product(*[vals[p] for p in params]), 12):
            calls.append({"name": name, "arguments": dict(zip(params, combo))})
    return calls


@functools.lru_cache(maxsize=None)
def _spam_of(tid: str) -> tuple:
    return tuple(_spam(BY_ID[tid]))


def _spam(task) -> list[dict]:
    calls = _plausible_calls(task)
    turns = [{"tool_calls": calls[i : i + MAX_CALLS_PER_TURN]} for i in range(0, len(calls), MAX_CALLS_PER_TURN)] * 3
    return [*turns[: agent.max_turns(task) - 1], {"content": STUFFED}]


def test_tool_spamming_scores_zero():
    for task in TASKS:
        v = _score(task, list(_spam_of(task["id"])))
        assert v["score"] == 0.0, (task["id"], v["reason"])


def test_tool_spamming_scores_zero_through_the_loop(scripted):
    harness = get_harness("raw")
    ep = scripted(_responder(harness, lambda task, k, req: _spam_of(task["id"])[min(k, len(_spam_of(task["id"])) - 1)]))
    ctx = _ctx(ep, "raw")
    for tid in ("ag-005", "ag-006", "ag-009", "ag-015", "ag-019"):  # the mutating kinds; every task is played offline above
        rec = run_task(BY_ID[tid], ctx)
        assert rec["error"] is None and rec["score"] == 0.0, (tid, rec["reason"])


_WRONG = {"number": lambda v: f"{float(v) + 7:g}", "date": lambda v: "2025-01-02", "time": lambda v: "23:10", "name": lambda v: "Someone Else"}


def _answer_checks(v):
    return [c for c in v["checks"] if c["name"].startswith("answer")]


@pytest.mark.parametrize("tid", [t["id"] for t in TASKS if t["check"].get("answer")])
def test_hedged_and_negated_right_answers_fail(tid):
    task = BY_ID[tid]
    facts = [f for f in task["check"]["answer"] if not f.get("forbid")]
    for form in ("{v} or {w}", "either {v} or {w}", "It is not {v}; it was {w}.", "{w}, not {v}.", "{v}? No: {v} is wrong.", "{v} (maybe {w})"):
        text = " ".join(form.format(v=f["value"], w=_WRONG[f["type"]](f["value"])) for f in facts)
        v = _score(task, [*task["reference"][:-1], {"content": text}])
        assert not any(c["ok"] for c in _answer_checks(v)), (text, v["checks"])
        if not task["check"].get("state"):
            assert v["score"] == 0.0


# =========================================================================== phrasing (issue 11)

PHRASINGS = {
    "ag-001": (
        ["Yes, about 11.5mm of rain.", "</think>Yes: 11.5 millimetres are forecast.", "**Rain: 11.5 mm** on 14 March 2025",
         "Yes, rain is expected in Bergen on 2025-03-14: 11,5 mm.", "Expected rainfall 11.5 mm (rain, high 6 °C, low 2 °C)."],
        ["About 12 mm.", "11.5 or 12 mm.", "It is not 11.5 mm; it was 4 mm.", "At least 11.5 mm.", "Between 11.5 and 15 mm.", "No rain."],
    ),
    "ag-002": (
        ["$926.00", "Your holding is worth 926 USD.", "US$926 (40 × 23.15)", "926,00 USD", "<think>40*23.15</think>**926.00USD**", "926 dollars."],
        ["About 920 USD.", "926 or 930 USD.", "Not 926 USD.", "926.5 USD", "Up to 926 USD.", "23.15 USD per share."],
    ),
    "ag-014": (
        ["3,112.50 USD", "$3,112.50, saved to reports/holdings.txt.", "The holding is worth 3 112,50 USD.", "3112.5 dollars", "Value: **$3112.50** (250 × 12.45)."],
        ["3,112 USD", "3,112.50 or 22,025 USD", "Not 3,112.50 USD; 22,025 USD.", "Over $3,112.50.", "31,125 USD"],
    ),
    "ag-017": (
        ["Bodø, Norway: 3 °C.", "The warmest is Bodo, with a high of 3°C.", "Bodø (3 °C), compared with 1 °C in Narvik and -2 °C in Tromsø.",
         "</think>\nBodø — high of 3 °C", "BODØ: 3°C"],
        ["Narvik, 3 °C.", "Bodø or Narvik, 3 °C.", "Not Bodø; Narvik at 1 °C.", "Bodø, 5 °C.", "Bodø, -2 °C."],
    ),
    "ag-018": (
        ["Halvard Nyström placed order O-3120, for 6 mugs.", "The customer is Halvard Nystrom, who ordered 6 units.",
         "Order O-3120 — customer: **Halvard Nyström**, quantity: 6", "It was placed by Mr. Halvard Nyström (6 × MUG-02).",
         "<think>look it up</think>Halvard Nyström ordered 6."],
        ["Greta Lind ordered 6.", "Halvard Nyström or Greta Lind, 6 units.", "Not Halvard Nyström; Greta Lind, 2 units.", "Halvard Nyström, 2 units.", "Halvard, 6 units."],
    ),
    "ag-020": (
        ["Leave at 1:20 PM.", "13:20", "Leave by 1:20 p.m.; the drive is in your calendar 13:20–14:05.", "You should head out at 13h20.",
         "Your flight departs at 14:05, so leave at 13:20."],
        ["Leave at 13:05.", "Leave at 1:20 AM.", "13:20 or 13:30.", "Not 13:20; leave at 13:05.", "Leave at 1:20."],
    ),
    "ag-021": (
        ["It is due on 8 May 2025.", "Due May 8th; the reminder is set.", "Thursday, 8 May 2025", "Due 08.05.2025 (380.00 SEK).", "Due date: May 8, 2025.",
         "It's due on the 8th of May."],
        ["Due 2025-05-01.", "Due May 8 or May 1.", "Due 2025-08-05.", "Not May 8; May 1.", "Due in May."],
    ),
}


@pytest.mark.parametrize("tid", sorted(PHRASINGS))
def test_right_answers_in_real_model_forms_score_100_and_near_misses_fail(tid):
    task = BY_ID[tid]
    right, near = PHRASINGS[tid]
    assert len(right) >= 5 and len(near) >= 5
    for text in right:
        v = _score(task, [*task["reference"][:-1], {"content": text}])
        assert v["score"] == 100.0, (text, v["reason"])
    for text in near:
        v = _score(task, [*task["reference"][:-1], {"content": text}])
        assert not v["passed"] and v["score"] < 100.0, text
        if len(task["check"]["answer"]) == 1 and not task["check"].get("state"):
            assert v["score"] == 0.0, (text, v["reason"])


@pytest.mark.parametrize(
    "spec, arguments, ok",
    [
        ({"name": "place_order", "arguments": {"customer": "Tomasz Wren", "sku": "BAG-11", "quantity": 8}}, {"customer": " tomasz  WREN. ", "sku": "bag-11", "quantity": 8.0}, True),
        ({"name": "place_order", "arguments": {"quantity": 8}}, {"customer": "T", "sku": "B", "quantity": True}, False),
        ({"name": "place_order", "arguments": {"quantity": 8}}, {"customer": "T", "sku": "B", "quantity": "8"}, False),
        ({"name": "create_event", "arguments": {"title": "Picnic"}, "accept": {"title": ["Picnic in Lund"]}}, {"title": "picnic in lund!"}, True),
        ({"name": "create_event", "arguments": {"title": "Picnic"}}, {"title": "Picnic in Lund"}, False),
        ({"name": "create_event", "arguments": {"start": "09:00"}}, {"start": "9:00"}, True),
        ({"name": "read_file", "arguments": {"path": "notes/a.txt"}}, {"path": "./notes/a.txt"}, True),
        ({"name": "read_file", "arguments": {"path": "notes/a.txt"}}, {"path": "Notes/A.txt"}, False),  # the store is case-sensitive
        ({"name": "restock", "arguments": {"quantity": 44}}, {"quantity": 10**400}, False),
        ({"name": "restock", "arguments": {"quantity": 44}}, {"quantity": float("inf")}, False),
        ({"name": "restock", "arguments": {"quantity": 44}}, {"quantity": float("nan")}, False),
        ({"name": "write_file", "arguments": {"content": {"$number": 124, "tolerance": 0.001}}}, {"content": "1e309"}, False),
        ({"name": "write_file", "arguments": {"content": {"$number": 124, "tolerance": 0.001}}}, {"content": "124.00 L"}, True),
    ],
)
def test_required_call_arguments_are_compared_by_meaning(spec, arguments, ok):
    assert agent.call_matches(spec, {"name": spec["name"], "status": "ok", "arguments": arguments}) is ok


def _deep(n):
    v = "x"
    for _ in range(n):
        v = {"a": [v]}
    return v


def test_hostile_argument_values_never_raise():
    task = BY_ID["ag-012"]
    for value in (_deep(5000), 1e309, 10**400, float("nan"), -(10**400), [[[]]] * 50):
        calls = [{"turn": 1, "name": n, "status": "ok", "arguments": {p: value for p in at.TOOLS[n].params}, "result": {"v": "x"}} for n in task["tools"]]
        outcome = {"content": "124 litres", "finished": True, "calls": calls, "state": at.new_state(task["state"]), "turns": 2}
        v = agent.check(task, outcome)
        assert 0.0 <= v["score"] < 100.0


_fuzz_text = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(["44", " or ", "not ", "2025-04-09", "10:30", "1e309", "9" * 400, "NaN", "Osta Biolabs", "</think>", "<think>", " ", ",", "1,2", "-", "11:45 AM", "250g"]), max_size=60).map("".join),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_fuzz_text, tid=st.sampled_from(IDS))
def test_any_final_text_is_judged_without_raising_and_fast(text, tid):
    import time

    task = BY_ID[tid]
    outcome, _ = agent.simulate(task, [*task["reference"][:-1], {"content": text}])
    t0 = time.thread_time()
    v = agent.check(task, outcome)
    assert time.thread_time() - t0 < 0.05
    assert 0.0 <= v["score"] <= 100.0
    json.dumps(v["checks"])


# =========================================================================== the real model


def test_real_smollm_runs_the_loop_end_to_end(smollm_engine):
    """SmolLM2-135M through the whole loop: a finished, fully recorded task (its score is
    whatever it earns, but it must be a number the grading produced, not an error)."""
    task = BY_ID["ag-001"]
    ctx = Conversation(make_provider("llamacpp", smollm_engine.url), get_harness("hermes"), model="smollm2-135m",
                     suite_defaults=SUITE["defaults"], max_tokens_override=32)
    rec = run_task(task, ctx)
    assert rec["error"] is None, rec["error"]
    assert 1 <= len(rec["turns"]) <= agent.max_turns(task, SUITE["defaults"])
    assert rec["latency_ms"] > 0 and rec["completion_tokens"] > 0
    assert 0.0 <= rec["score"] <= 100.0 and rec["checks"]
    assert all(t["completion_tokens"] <= 32 for t in rec["turns"])
