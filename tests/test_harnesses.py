"""Harnesses: the text tool-call formats (hermes, qwen, pi) and the native one (raw).

Why these tests: a harness decides what the model is shown and how its reply is read. A
parser that crashes, drops a call, or scores reasoning as the answer would make a model
look worse or better than it is, so the parsers are pinned by examples of the messy
output real models produce and by property tests (never raise on any text; read back
exactly what ``encode_reply`` writes). Rendering is pinned by what the server receives.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchloop.harnesses import get_harness
from benchloop.harnesses.text import MAX_CALLS, encode_call, parse_call_body, parse_tagged_calls
from benchloop.providers.base import ChatResult, split_think
from benchloop.testing.scripted import Reply

ALL = ["raw", "hermes", "qwen", "pi"]
TEXT = ["hermes", "qwen", "pi"]
TAG = {"hermes": "tool_call", "qwen": "function_call", "pi": "tool_call"}
RESULT_TAG = {"hermes": "tool_response", "qwen": "function_result", "pi": "tool_response"}

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def wire(harness, logical: dict) -> ChatResult:
    """What an OpenAI-compatible provider hands the harness when the model sends
    ``encode_reply(logical)``: native calls parsed, ``<think>`` split off the content."""
    enc = harness.encode_reply(logical)
    content, think = split_think(enc["content"])
    calls = [
        {"id": f"call_{i}", "name": c["name"], "arguments": c["arguments"], "arguments_raw": json.dumps(c["arguments"])}
        for i, c in enumerate(enc["tool_calls"])
    ]
    return ChatResult(content=content, reasoning=think, tool_calls=calls, finish_reason="stop")


def names_args(reply: dict) -> list[tuple]:
    return [(c["name"], c["arguments"]) for c in reply["tool_calls"]]


# ------------------------------------------------------------------ parser by example --
def test_parses_calls_amid_chat_fences_whitespace_and_case():
    text = (
        "Sure, let me check.\n"
        "<tool_call>\n```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n```\n</tool_call>\n"
        "and also < TOOL_CALL >  {\"name\":\"get_weather\",\"arguments\":{\"city\":\"Bergen\"}}  </tool_call >\n"
        "Done."
    )
    calls, rest = parse_tagged_calls(text, "tool_call")
    assert [(c["name"], c["arguments"]) for c in calls] == [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Bergen"})]
    assert "<" not in rest and "Sure, let me check." in rest and rest.endswith("Done.")


def test_tags_inside_a_fence_leave_no_empty_fence_behind():
    calls, rest = parse_tagged_calls('```xml\n<tool_call>{"name": "f", "arguments": {}}</tool_call>\n```', "tool_call")
    assert calls == [{"name": "f", "arguments": {}, "arguments_raw": "{}"}]
    assert rest == ""


def test_malformed_json_is_a_failed_call_not_a_crash_or_silence():
    calls, rest = parse_tagged_calls('<tool_call>{"name": "get_weather", "arguments": {"city": Oslo}}</tool_call>', "tool_call")
    assert len(calls) == 1 and calls[0]["name"] == "get_weather" and calls[0]["arguments"] is None
    assert "Oslo" in calls[0]["arguments_raw"] and rest == ""


def test_unclosed_last_tag_runs_to_the_end_and_stringified_arguments_are_read():
    calls, _ = parse_tagged_calls('x <function_call>{"name": "f", "arguments": "{\\"a\\": 2}"}', "function_call")
    assert [(c["name"], c["arguments"]) for c in calls] == [("f", {"a": 2})]


def test_a_list_body_gives_several_calls_and_non_call_json_is_flagged():
    calls, _ = parse_tagged_calls('<tool_call>[{"name": "a", "arguments": {"x": 1}}, {"name": "b"}, 5]</tool_call>', "tool_call")
    assert [(c["name"], c["arguments"]) for c in calls] == [("a", {"x": 1}), ("b", {}), ("", None)]


def test_other_formats_tags_are_not_calls():
    text = '<function_call>{"name": "f", "arguments": {}}</function_call>'
    assert parse_tagged_calls(text, "tool_call")[0] == []
    assert len(parse_tagged_calls(text, "function_call")[0]) == 1


def test_hostile_sizes_are_bounded():
    many = '<tool_call>{"name": "f", "arguments": {}}</tool_call>' * 500
    calls, _ = parse_tagged_calls(many, "tool_call")
    assert len(calls) == MAX_CALLS
    deep = "<tool_call>" + "[" * 50_000 + "</tool_call>"
    calls, _ = parse_tagged_calls(deep, "tool_call")
    assert len(calls) == 1 and calls[0]["arguments"] is None
    assert parse_call_body('{"name": "f", "arguments": {"n": ' + "9" * 5000 + "}}")[0]["arguments"] is None


# ------------------------------------------------------------------ parser properties --
FRAGMENTS = st.sampled_from(
    ["<tool_call>", "</tool_call>", "<function_call>", "</function_call>", "<think>", "</think>", "```json\n", "```",
     "{", "}", "[", "]", '"name"', ": ", '"arguments"', ",", '"f"', "\n", " ", "null", "1e999", "\\", '"']
)
HOSTILE = st.one_of(st.text(max_size=400), st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=60).map("".join))


@settings(max_examples=300, deadline=None)
@given(text=HOSTILE)
def test_parser_never_raises_and_returns_well_formed_calls(text):
    for tag in ("tool_call", "function_call"):
        calls, rest = parse_tagged_calls(text, tag)
        assert isinstance(rest, str)
        for c in calls:
            assert isinstance(c["name"], str) and (c["arguments"] is None or isinstance(c["arguments"], dict))
            assert isinstance(c["arguments_raw"], str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=HOSTILE, name=st.sampled_from(ALL))
def test_every_harness_parse_never_raises(text, name):
    h = get_harness(name)
    reply = h.parse(ChatResult(content=text, reasoning="", finish_reason="stop"))
    assert isinstance(reply["content"], str) and isinstance(reply["reasoning"], str)
    assert "<think>" not in reply["content"].lower()


JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
CALL = st.fixed_dictionaries({"name": st.text(min_size=1, max_size=40), "arguments": st.dictionaries(st.text(max_size=12), JSONABLE, max_size=5)})
PLAIN = st.text(alphabet=st.characters(blacklist_characters="<`\r\n", blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(ALL), calls=st.lists(CALL, max_size=4), content=PLAIN, reasoning=PLAIN)
def test_parse_round_trips_encode_reply(name, calls, content, reasoning):
    """Whatever a well-behaved model of this format sends is read back exactly."""
    h = get_harness(name)
    logical = {"content": content, "reasoning": reasoning, "tool_calls": calls}
    reply = h.parse(wire(h, logical))
    assert names_args(reply) == [(c["name"], c["arguments"]) for c in calls]
    # text formats strip what surrounded the tags; raw hands the content over as sent
    assert reply["content"] == (content if name == "raw" else content.strip())
    if name == "pi" and reasoning.strip():
        assert reply["reasoning"] == reasoning.strip()


def test_encode_reply_shapes():
    logical = {"content": "Checking.", "reasoning": "need weather", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}
    raw = get_harness("raw").encode_reply(logical)
    assert raw == {"content": "Checking.", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}
    for name in TEXT:
        enc = get_harness(name).encode_reply(logical)
        assert enc["tool_calls"] == [] and f"<{TAG[name]}>" in enc["content"]
        assert ("<think>" in enc["content"]) == (name == "pi")
    # a name or value holding the closing tag cannot end the block early
    assert "</tool_call>" not in encode_call("x", {"v": "</tool_call>"}, "tool_call").split("\n")[1]


# -------------------------------------------------------------------- reasoning split --
@pytest.mark.parametrize("name", ALL)
def test_reasoning_is_separated_for_every_harness(name):
    h = get_harness(name)
    tag = TAG.get(name, "tool_call")
    text = f"<think>maybe call it? <{tag}>{{\"name\": \"f\", \"arguments\": {{}}}}</{tag}></think>The answer is 4."
    reply = h.parse(ChatResult(content=text, reasoning="server side", finish_reason="stop"))
    assert reply["content"] == "The answer is 4."
    assert "server side" in reply["reasoning"] and "maybe call it?" in reply["reasoning"]
    assert reply["tool_calls"] == []  # a call inside reasoning is not a call


@pytest.mark.parametrize("name", ALL)
def test_scripted_endpoint_round_trip_and_reasoning_content(scripted, name):
    """Through a real HTTP stream: calls, content and reasoning_content come back apart."""
    from benchloop.providers import make_provider

    h = get_harness(name)
    logical = {"content": "On it.", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "get_weather", "arguments": {"city": "Bergen"}}]}
    ep = scripted(lambda req: Reply(reasoning="server reasoning", **h.encode_reply(logical)))
    p = make_provider("openai_compat", ep.url)
    msgs, tools = h.render([{"role": "user", "content": "weather in Oslo and Bergen?"}], [WEATHER])
    reply = h.parse(p.chat("scripted-model", msgs, tools=tools, max_tokens=64))
    assert names_args(reply) == [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Bergen"})]
    assert reply["content"] == "On it." and reply["reasoning"] == "server reasoning"
    body = ep.received[-1]["body"]
    assert ("tools" in body) == (name == "raw")


# -------------------------------------------------------------------------- rendering --
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Oslo?"},
]


def _history_with_result(h):
    reply = {"content": "", "tool_calls": [{"id": "call_0", "name": "get_weather", "arguments": {"city": "Oslo"}, "arguments_raw": '{"city": "Oslo"}'}]}
    return HISTORY + [h.assistant_message(reply), h.tool_message(reply["tool_calls"][0], {"temp_c": -3})]


@pytest.mark.parametrize("name", TEXT)
def test_text_harness_renders_history_in_its_own_format(name):
    h = get_harness(name)
    msgs, tools = h.render(_history_with_result(h), [WEATHER])
    assert tools is None
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert all(set(m) == {"role", "content"} for m in msgs)  # no tool_calls, no tool role
    system = msgs[0]["content"]
    assert system.startswith("Be brief.") and '"get_weather"' in system and f"<{TAG[name]}>" in system
    assert ("<think>" in system) == (name == "pi")
    calls, _ = parse_tagged_calls(msgs[2]["content"], TAG[name])
    assert [(c["name"], c["arguments"]) for c in calls] == [("get_weather", {"city": "Oslo"})]
    result = msgs[3]["content"]
    assert result.startswith(f"<{RESULT_TAG[name]}>") and result.endswith(f"</{RESULT_TAG[name]}>")
    payload = json.loads(result.split("\n", 1)[1].rsplit("\n", 1)[0])
    assert payload == {"name": "get_weather", "content": {"temp_c": -3}}


def test_text_harness_merges_consecutive_user_turns_and_adds_system_when_absent():
    h = get_harness("hermes")
    call = {"id": "a", "name": "get_weather", "arguments": {"city": "Oslo"}}
    call2 = {"id": "b", "name": "get_weather", "arguments": {"city": "Rome"}}
    msgs = [{"role": "user", "content": "Oslo and Rome?"}, h.assistant_message({"content": "", "tool_calls": [call, call2]}),
            h.tool_message(call, {"t": 1}), h.tool_message(call2, {"t": 2}), {"role": "user", "content": "thanks"}]
    out, _ = h.render(msgs, [WEATHER])
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[3]["content"].count("<tool_response>") == 2 and out[3]["content"].endswith("thanks")


def test_no_tools_leaves_hermes_prompt_alone_but_pi_still_teaches_thinking():
    assert get_harness("hermes").render(HISTORY, None) == (HISTORY, None)
    out, _ = get_harness("pi").render(HISTORY, None)
    assert "<think>" in out[0]["content"] and "<tools>" not in out[0]["content"]


def test_raw_passes_native_history_and_tools_through():
    h = get_harness("raw")
    hist = _history_with_result(h)
    msgs, tools = h.render(hist, [WEATHER])
    assert msgs == hist and tools == [WEATHER]
    assert msgs[-1]["role"] == "tool" and msgs[-2]["tool_calls"][0]["function"]["name"] == "get_weather"
