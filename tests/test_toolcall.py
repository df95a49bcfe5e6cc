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
from benchloop.tasks import task_messages
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


def by_id(tid: str) -> dict:
    return next(t for t in TASKS if t["id"] == tid)


def n_turns(task: dict) -> int:
    return len(tc.steps_of(task))


def bad_reply(kind: str, task: dict, last_user: str) -> dict:
    """The models that must score 0: silent, parrot, canned, tool sprayer, and the gaming
    replies of issue 11 (see GAMING)."""
    if kind == "empty":
        return {"content": ""}
    if kind == "echo":
        return {"content": last_user}
    if kind == "constant":
        return {"content": CANNED}
    if kind == "spray":
        return {"tool_calls": [{"name": n, "arguments": {}} for n in tc.offered_tools(task)]}
    return GAMING[kind](task)


# ------------------------------------------------------------------ gaming replies --
def answer_spec(task: dict) -> dict | None:
    last = tc.steps_of(task)[-1]
    return last.get("answer")


def _right_wrong(spec: dict) -> tuple[list[str], list[str]]:
    """Per fact of an answer spec: the right value as text, and a wrong one."""
    right, wrong = [], []
    for kind, fact in spec.items():
        fact = fact if isinstance(fact, dict) else {"value": fact}
        if kind == "number":
            v = fact["value"]
            right.append(f"{v:g}"), wrong.append(f"{v + 6:g}")
        elif kind == "money":
            right.append(f"{fact['value']:.2f} {fact['currency']}"), wrong.append(f"{fact['value'] + 40:.2f} {fact['currency']}")
        elif kind == "choice":
            right.append(fact["answer"]), wrong.append(next(o for o in fact["options"] if o != fact["answer"]))
    return right, wrong


def _all_option_names() -> list[str]:
    names = []
    for t in TASKS:
        spec = answer_spec(t) or {}
        if "choice" in spec:
            names += [str(o) for o in spec["choice"]["options"]]
    return names


STUFFED = ("Answer: " + ", ".join(_all_option_names()) + ". Numbers: 19, 210, 4162.50 EUR, 4,500 USD, -4, 112.5, 44, 90, 25, 1250. "
           "Dates: 2025-05-09, 2025-03-14, 2025-07-19. Times: 09:30, 20:00, 8 pm, noon.")


def _spray_plausible(task: dict) -> dict:
    """Every offered tool, the expected ones with their reference arguments and the rest
    with arguments of the right type: a shotgun that always contains the right call."""
    ref = task["reference"] if isinstance(task["reference"], list) else [task["reference"]]
    calls = [c for r in ref for c in (r.get("tool_calls") or [])]
    called = {c["name"] for c in calls}
    plain = {"string": "Oslo", "integer": 25, "number": 25.0, "boolean": True, "array": ["x"]}
    for name, fn in tc.offered_tools(task).items():
        if name not in called:
            props = fn["parameters"]["properties"]
            calls.append({"name": name, "arguments": {k: (p.get("enum") or [plain[p["type"]]])[0] for k, p in props.items()}})
    return {"tool_calls": calls}


def _answer_game(task: dict, build) -> dict:
    spec = answer_spec(task)
    if not spec:  # a call task: the text game cannot make a call
        return {"content": build(["Oslo"], ["Bergen"])}
    return {"content": build(*_right_wrong(spec))}


GAMING = {
    "stuffed": lambda task: {"content": STUFFED},
    "hedge": lambda task: _answer_game(task, lambda r, w: " and ".join(f"{a} or {b}" for a, b in zip(r, w)) + "."),
    "hedge_first_wrong": lambda task: _answer_game(task, lambda r, w: "Either " + " and ".join(f"{b} or {a}" for a, b in zip(r, w)) + "."),
    "negation": lambda task: _answer_game(task, lambda r, w: "; ".join(f"it is not {b}; it was {a}" for a, b in zip(r, w)) + "."),
    "wrong_beside_right": lambda task: _answer_game(task, lambda r, w: f"The answer is {', '.join(r)}. Some sources say {', '.join(w)}."),
    "listing": lambda task: _answer_game(task, lambda r, w: "Possible answers: " + "; ".join([*w, *r, *_all_option_names()[:12]]) + "."),
    "spray_plausible": _spray_plausible,
}
BAD = ["empty", "echo", "constant", "spray", *GAMING]


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
    task = copy.deepcopy(by_id("tc-022"))
    task["check"]["answer"] = {"choice": {"answer": "Canberra", "options": ["Canberra", "Sydney"]}}  # a coin a constant could call
    assert "options" in tc.validate(task)[1]
    task["check"]["answer"] = {"contains": ["canberra"]}  # untyped phrases can be stuffed
    assert tc.validate(task)[0] == "check"
    task = copy.deepcopy(by_id("tc-007"))
    task["check"]["calls"][0]["args"]["date"] = "next Friday"
    assert "readable date" in tc.validate(task)[1]


def test_loader_rejects_a_broken_task_file(tmp_path):
    text = open(SUITE["path"]).read().replace("name: get_weather\n          args:\n            city:", "name: get_weathr\n          args:\n            city:", 1)
    (tmp_path / "toolcall.yaml").write_text(text)
    with pytest.raises(TaskFileError, match="tc-001.*check"):
        load_suite("toolcall", tmp_path)


# ------------------------------------------------------- a reply fits one task only --
# (reference of task, task it is scored against) -> why it may score above 0. None today:
# every off-diagonal score is 0, so a new exception needs a reason written here.
MATRIX_EXCEPTIONS: dict[tuple[str, str], str] = {}


def test_cross_task_matrix_is_diagonal():
    """Issue 11 item 2: every task's reference scored against every other task scores 0."""
    off = {}
    for a in TASKS:
        for b in TASKS:
            if a is not b:
                score = tc.check(b, a["reference"])["score"]
                if score > 0 and (a["id"], b["id"]) not in MATRIX_EXCEPTIONS:
                    off[(a["id"], b["id"])] = score
    assert off == {}


# ---------------------------------------------------------------- honest phrasings --
def _final(task: dict, content: str) -> list | dict:
    ref = task["reference"]
    return [*ref[:-1], {"content": content}] if isinstance(ref, list) else {"content": content}


# task -> (right answers in forms real models write, near misses)
PHRASINGS = {
    "tc-019": (["210", "210 minutes.", "Three and a half hours is 210 minutes.", "3.5 hours = 210 minutes", "**210**",
                "<think>3.5 times 60</think>There are 210 minutes in three and a half hours.", "ANSWER: 210"],
               ["200 minutes", "210 or 220 minutes", "It is not 210 minutes.", "21 minutes", "at least 210", "between 200 and 210 minutes", ""]),
    "tc-020": (["nedrag", "Nedrag", '"garden" backwards is "nedrag".', "Reversed: n-e-d-r-a-g", "It reads **nedrag**.", "The word reversed is NEDRAG"],
               ["nedarg", "gradne", "nedrag or nedarg", "It is not nedrag.", "garden"]),
    "tc-021": (["19", "The sum of the digits is 19.", "4 + 0 + 9 + 6 = 19", "4+0+9+6 = **19**", "Their sum is 19.", "ANSWER: 19"],
               ["18", "19 or 20", "4 + 0 + 9 + 6 = 18", "It is not 19.", "about 20"]),
    "tc-022": (["Canberra", "Canberra.", "The capital of Australia is Canberra.", "It's **Canberra** (in the ACT).", "canberra", "ANSWER: Canberra"],
               ["Sydney", "Canberra or Sydney", "It is not Canberra.", "Melbourne", "Either Sydney or Canberra."]),
    "tc-024": (["Your order is out for delivery.", "Status: Out for Delivery (ETA 2025-05-09).", "Order B-20417 is out for delivery from the Gdansk depot.",
                "It's out for delivery today and should arrive on May 9.", "OUT FOR DELIVERY"],
               ["It has been delivered.", "It is in transit.", "It is out for delivery or already delivered.", "It is not out for delivery.", "It is in Gdansk."]),
    "tc-025": (["4,162.50 EUR", "€4,162.50", "40 × $112.50 = $4,500, which converts to €4,162.50.", "Your shares are worth 4162.5 euros.",
                "That's EUR 4,162.50 (from USD 4,500).", "4.162,50 €"],
               ["€4,500", "€4,162.50 or €4,500", "$4,162.50", "about 4,100 EUR", "It is not €4,162.50."]),
    "tc-027": (["It's -4 °C with light snow in Tromsø.", "Tromsø: −4°C, light snow.", "Currently -4 degrees and snowing.",
                "In Tromsø (user u-5512) it is -4 °C and there is light snow.", "Light snow, -4 °C."],
               ["4 °C and light snow", "-4 °C and rain", "-4 or -5 °C, light snow", "-4 °C, light snow or rain", "It is not -4 °C; it is light snow."]),
}


def test_every_answer_task_has_phrasings():
    assert {t["id"] for t in TASKS if answer_spec(t)} == set(PHRASINGS)


@pytest.mark.parametrize("tid", sorted(PHRASINGS))
def test_answers_in_real_model_forms_score_100_and_near_misses_0(tid):
    task = by_id(tid)
    right, near = PHRASINGS[tid]
    assert len(right) >= 5
    for text in right:
        v = tc.check(task, _final(task, text))
        assert v["score"] == 100.0, (text, v["reason"])
    for text in near:
        v = tc.check(task, _final(task, text))
        last = v["checks"][-1]
        assert not last["ok"] and v.detail["step_scores"][-1] == 0.0, (text, v["reason"])


# task -> arguments the model may honestly send instead of the reference's
HONEST_ARGS = {
    "tc-001": [{"city": "Reykjavík, Iceland", "unit": "Fahrenheit"}, {"city": "REYKJAVIK", "unit": "FAHRENHEIT"}, {"city": " reykjavik ", "unit": "fahrenheit"}],
    "tc-003": [{"minutes": 90.0, "label": "Laundry"}, {"minutes": 90, "label": "laundry timer"}],
    "tc-005": [{"title": "Dentist", "date": "March 14, 2025", "start_time": "9:30", "duration_minutes": 45.0},
               {"title": "dentist appointment", "date": "14.03.2025", "start_time": "9:30 AM", "duration_minutes": 45},
               {"title": "Dentist", "date": "2025-03-14", "start_time": "09:30:00", "duration_minutes": 45}],
    "tc-007": [{"restaurant": "casa lume", "party_size": 6.0, "date": "July 19, 2025", "time": "8 pm"},
               {"restaurant": "Casa Lume.", "party_size": 6, "date": "19 July 2025", "time": "8:00 PM"},
               {"restaurant": "CASA LUME", "party_size": 6, "date": "2025-07-19", "time": "20:00:00"}],
    "tc-008": [{"text": "where is the train station", "target_language": "de"}, {"text": "Where is the train station?", "target_language": "deutsch"}],
    "tc-009": [{"task": "Renew passport", "priority": "High", "due_date": "1 September 2025"}, {"task": "renew passport", "priority": "HIGH", "due_date": "2025/09/01"}],
    "tc-012": [{"principal": 240000.0, "annual_rate_percent": 4.2, "years": 25.0}],
    "tc-013": [{"origin": "Utrecht, Netherlands", "destination": "Amsterdam, NL", "mode": "Cycling"}],
    "tc-014": [{"query": "Running Shoe", "max_price": 89.99, "in_stock_only": True}, {"query": "running shoes", "max_price": 90.0, "in_stock_only": True}],
}
NEAR_ARGS = {
    "tc-003": [{"minutes": "90", "label": "laundry"}, {"minutes": 1.5, "label": "laundry"}, {"minutes": 90.5, "label": "laundry"}],
    "tc-005": [{"title": "Dentist", "date": "2025-03-14", "start_time": "9:30 PM", "duration_minutes": 45},
               {"title": "Dentist", "date": "2025-14-03", "start_time": "09:30", "duration_minutes": 45}],
    "tc-007": [{"restaurant": "Casa Lume", "party_size": "6", "date": "2025-07-19", "time": "20:00"},
               {"restaurant": "Casa Lume", "party_size": 6, "date": "2025-07-19", "time": "08:00"},
               {"restaurant": "Casa Lume", "party_size": 6, "date": "July 19", "time": "20:00"}],
    "tc-009": [{"task": "renew passport", "priority": "highest", "due_date": "2025-09-01"}, {"task": "renew passport", "priority": "high", "due_date": "2025-01-09"}],
    "tc-001": [{"city": "Reykjavik, Norway", "unit": "fahrenheit"}],
}


@pytest.mark.parametrize("tid", sorted(set(HONEST_ARGS) | set(NEAR_ARGS)))
def test_call_arguments_in_honest_forms_score_100_and_near_misses_less(tid):
    name = by_id(tid)["check"]["calls"][0]["name"]
    for args in HONEST_ARGS.get(tid, []):
        v = tc.check(by_id(tid), {"tool_calls": [{"name": name, "arguments": args}]})
        assert v["score"] == 100.0, (args, v["reason"])
    for args in NEAR_ARGS.get(tid, []):
        assert _one(tid, [{"name": name, "arguments": args}]) < 100.0, args


def test_aliases_for_places_with_their_country():
    assert _one("tc-016", [{"name": "get_weather", "arguments": {"city": "Oslo, Norway"}}, {"name": "get_weather", "arguments": {"city": "bergen"}}]) == 100.0
    steps = by_id("tc-027")["reference"]
    v = tc.check(by_id("tc-027"), [steps[0], {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Tromsø, Norway"}}]}, steps[2]])
    assert v["score"] == 100.0, v["reason"]


def test_tool_spam_scores_0_but_one_extra_call_only_dilutes():
    right = {"name": "get_weather", "arguments": {"city": "Reykjavik", "unit": "fahrenheit"}}
    timer = {"name": "set_timer", "arguments": {"minutes": 5}}
    route = {"name": "get_route", "arguments": {"origin": "A", "destination": "B"}}
    assert _one("tc-001", [right, timer]) == 50.0
    assert _one("tc-001", [right, timer, route]) == 0.0
    assert _one("tc-001", [right, right, right]) == 0.0
    email = {"name": "send_email", "arguments": {"to": "x@y.z", "subject": "s", "body": "b"}}
    v = tc.check(by_id("tc-023"), [{"tool_calls": [{"name": "lookup_contact", "arguments": {"name": "Ingrid"}}, timer, email]}] * 2)
    assert v["score"] == 0.0 and "spam" in v["reason"]
    assert tc.next_turn(by_id("tc-023"), 0, tc.logical_reply({"tool_calls": [{"name": "lookup_contact", "arguments": {"name": "Ingrid"}}, timer, timer]})) is None


def _deep(n: int):
    v: object = 1
    for _ in range(n):
        v = [v]
    return v


HOSTILE = {
    "deep list": _deep(100_000),
    "deep dict": json.loads('{"a":' * 500 + "1" + "}" * 500),
    "1e309": json.loads("1e309"),
    "NaN": float("nan"),
    "400 digits": 10**400,
    "100k digits": 10**100_000,
    "huge string": "x" * 2_000_000,
    "wide list": list(range(200_000)),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_arguments_are_wrong_calls_not_exceptions(kind):
    import time
    for tid, arg in (("tc-003", "minutes"), ("tc-007", "party_size"), ("tc-001", "city")):
        task = by_id(tid)
        args = dict(task["reference"]["tool_calls"][0]["arguments"], **{arg: HOSTILE[kind]})
        t0 = time.thread_time()
        v = tc.check(task, {"tool_calls": [{"name": task["check"]["calls"][0]["name"], "arguments": args}]})
        assert time.thread_time() - t0 < 0.05, kind
        assert v["score"] == 0.0 and not v["passed"], (kind, v["reason"])
        json.dumps(v.to_dict())
        assert tc.next_turn(by_id("tc-023"), 0, {"tool_calls": [{"name": "lookup_contact", "arguments": {"name": HOSTILE[kind]}}]}) is not None
    # the same as raw text a model sends (the harness keeps the string when it cannot parse it)
    for raw in ("[" * 100_000, '{"minutes": ' + "9" * 5000 + "}", '{"minutes": NaN}', '{"minutes": 1e309}'):
        assert tc.check(by_id("tc-003"), {"tool_calls": [{"name": "set_timer", "arguments": raw}]})["score"] == 0.0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**17, max_value=10**500) | st.floats() | st.text(max_size=12),
    lambda i: st.lists(i, max_size=4) | st.dictionaries(st.text(max_size=8), i, max_size=4), max_leaves=12)
ALL_NAMES = sorted({n for t in TASKS for n in tc.offered_tools(t)} | {"nope", ""})
ANY_CALL = st.fixed_dictionaries({
    "name": st.sampled_from(ALL_NAMES),
    "arguments": st.one_of(st.dictionaries(st.sampled_from(["city", "minutes", "name", "time", "date", "amount", "x"]), JSON, max_size=4), JSON, st.text(max_size=40)),
})
WORDS = st.sampled_from(["Canberra", "Sydney", "nedrag", "210", "19", "-4", "€4,162.50", "or", "not", "=", "snow", "out for delivery",
                         "2025-05-09", "8 pm", "</think>", "<think>", "ANSWER:", "1e309", "9" * 400, " ", "\n"])
ANY_TEXT = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=40).map(" ".join))
ANY_REPLY = st.fixed_dictionaries({"content": ANY_TEXT, "tool_calls": st.lists(ANY_CALL, max_size=8)})


@settings(max_examples=120, deadline=None)
@given(tid=st.sampled_from(IDS), replies=st.lists(ANY_REPLY, min_size=1, max_size=3))
def test_checker_never_raises_stays_in_range_and_is_fast(tid, replies):
    import time
    t0 = time.thread_time()
    v = tc.check(by_id(tid), replies)
    assert time.thread_time() - t0 < 0.05
    assert 0.0 <= v["score"] <= 100.0 and isinstance(v["reason"], str)
    json.dumps(v.to_dict())
    for i in range(len(tc.steps_of(by_id(tid)))):
        res = tc.next_turn(by_id(tid), i, tc.logical_reply(replies[min(i, len(replies) - 1)]))
        assert res is None or isinstance(res, list)


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
