"""The agent suite: its tools, its grading, and its loop through real HTTP.

Every task is played through ``runner.run_task`` against the scripted endpoint under
each harness: the reference must score 100, the wrong script less, and four bad models
(empty, echo, constant, every tool with empty arguments) exactly 0. The tools are tested
for their state changes and for turning every bad call into an error result.
"""
from __future__ import annotations

import copy
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


BAD_MODELS = {
    "empty": lambda task, k, req: {"content": ""},
    "echo": lambda task, k, req: {"content": task["prompt"]},
    "constant": lambda task, k, req: {"content": "I have completed the task successfully."},
    "empty_args": lambda task, k, req: {"content": "", "tool_calls": [{"name": n, "arguments": {}} for n in task["tools"]]},
}


# =========================================================================== the suite file


def test_suite_has_enough_varied_original_tasks():
    assert len(TASKS) >= 12
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
