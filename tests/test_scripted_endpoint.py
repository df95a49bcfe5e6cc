"""Tests for the scripted endpoint, through a real HTTP client (``requests``).

Other modules' tests trust this endpoint's routes, timing and faults; each test here pins
one of those promises down so a regression shows up here first, not as a flaky metric
test elsewhere.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from benchloop.testing.scripted import Reply, ScriptedEndpoint, count_prompt_tokens, token_ids, tokenize

MODEL = "scripted-model"
MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "say hi"}]


def openai_chat(ep, *, stream=False, timeout=5, **body):
    payload = {"model": MODEL, "messages": MSGS, "stream": stream, **body}
    return requests.post(f"{ep.url}/v1/chat/completions", json=payload, stream=stream, timeout=timeout)


def ollama_chat(ep, *, stream=True, timeout=5, **body):
    payload = {"model": MODEL, "messages": MSGS, "stream": stream, **body}
    return requests.post(f"{ep.url}/api/chat", json=payload, stream=stream, timeout=timeout)


def sse_events(resp):
    """(arrival time, parsed event or raw str) for each SSE data line; [DONE] as the str."""
    out = []
    for line in resp.iter_lines():
        if not line:
            continue
        assert line.startswith(b"data: ")
        data = line[len(b"data: ") :].decode()
        try:
            out.append((time.perf_counter(), json.loads(data)))
        except ValueError:
            out.append((time.perf_counter(), data))
    return out


def ndjson(resp):
    out = []
    for line in resp.iter_lines():
        if line:
            try:
                out.append((time.perf_counter(), json.loads(line)))
            except ValueError:
                out.append((time.perf_counter(), line.decode()))
    return out


def deltas(events):
    return [e["choices"][0]["delta"] for _, e in events if isinstance(e, dict) and e["choices"]]


# --- tokenizer --------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, database=None)
@given(st.text())
def test_tokenize_is_lossless(text):
    assert "".join(tokenize(text)) == text


def test_tokenize_attaches_leading_whitespace():
    assert tokenize("hello  big\nworld ") == ["hello", "  big", "\nworld", " "]
    assert token_ids("a b a")[0] == token_ids("a")[0]


# --- OpenAI / llama.cpp routes ----------------------------------------------------------


def test_models_and_tokenize_routes():
    with ScriptedEndpoint(models=("m1", "m2")) as ep:
        assert ep.url.startswith("http://127.0.0.1:") and not ep.url.endswith("/v1")
        models = requests.get(f"{ep.url}/v1/models", timeout=5).json()
        assert models == {
            "object": "list",
            "data": [
                {"id": "m1", "object": "model", "owned_by": "scripted"},
                {"id": "m2", "object": "model", "owned_by": "scripted"},
            ],
        }
        tok = requests.post(f"{ep.url}/tokenize", json={"content": "one two three"}, timeout=5).json()
        assert tok["tokens"] == token_ids("one two three") and len(tok["tokens"]) == 3
        assert all(isinstance(t, int) for t in tok["tokens"])


def test_unknown_model_is_404_on_both_apis():
    with ScriptedEndpoint() as ep:
        r = openai_chat(ep, model="nope")
        assert r.status_code == 404
        assert r.json()["error"]["message"] == "model 'nope' not found"
        assert ollama_chat(ep, model="nope").status_code == 404
        assert requests.post(f"{ep.url}/api/show", json={"model": "nope"}, timeout=5).status_code == 404


def test_openai_non_stream_message_usage_and_timings():
    reply = Reply(content="the answer is 4", reasoning="two plus two", cached_tokens=1, token_delay_s=0.01)
    with ScriptedEndpoint.constant(reply) as ep:
        body = openai_chat(ep).json()
    assert body["object"] == "chat.completion" and body["model"] == MODEL
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"] == {
        "role": "assistant",
        "content": "the answer is 4",
        "reasoning_content": "two plus two",
    }
    prompt = count_prompt_tokens(MSGS)
    assert prompt == len(tokenize("be briefsay hi"))
    assert body["usage"]["prompt_tokens"] == prompt
    assert body["usage"]["completion_tokens"] == 4 + 3
    assert body["usage"]["total_tokens"] == prompt + 7
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 1
    timings = body["timings"]
    assert timings["cache_n"] == 1 and timings["prompt_n"] == prompt - 1
    assert timings["predicted_n"] == 7
    assert timings["predicted_per_second"] == pytest.approx(100, rel=0.1)


def test_usage_and_timings_can_be_left_out():
    reply = Reply(content="x", usage=False, timings=False, prompt_tokens=42)
    with ScriptedEndpoint.constant(reply) as ep:
        body = openai_chat(ep).json()
        events = sse_events(openai_chat(ep, stream=True, stream_options={"include_usage": True}))
        ndone = ollama_chat(ep, stream=False).json()
    assert "usage" not in body and "timings" not in body
    assert not any(isinstance(e, dict) and ("usage" in e or "timings" in e) for _, e in events)
    assert events[-1][1] == "[DONE]"
    assert "eval_count" not in ndone and "prompt_eval_count" not in ndone
    assert "total_duration" in ndone


def test_openai_stream_timing_follows_schedule():
    """TTFT == first_delay_s and chunk spacing == token_delay_s, as seen by the client."""
    reply = Reply(content=" ".join(["tok"] * 8), first_delay_s=0.3, token_delay_s=0.05)
    with ScriptedEndpoint.constant(reply) as ep:
        t0 = time.perf_counter()
        events = sse_events(openai_chat(ep, stream=True, stream_options={"include_usage": True}))
    content_times = [t for t, e in events if isinstance(e, dict) and e["choices"] and e["choices"][0]["delta"].get("content")]
    assert len(content_times) == 8
    assert content_times[0] - t0 == pytest.approx(0.3, rel=0.1)
    gaps = [b - a for a, b in zip(content_times, content_times[1:])]
    assert sum(gaps) / len(gaps) == pytest.approx(0.05, rel=0.1)
    assert all(0.03 < g < 0.08 for g in gaps)
    final = [e for _, e in events if isinstance(e, dict) and e["choices"] and e["choices"][0]["finish_reason"]]
    assert final[0]["timings"]["prompt_ms"] == pytest.approx(300, rel=0.1)
    assert final[0]["timings"]["predicted_per_second"] == pytest.approx(20, rel=0.1)
    usage = [e for _, e in events if isinstance(e, dict) and e["choices"] == []]
    assert usage[0]["usage"]["completion_tokens"] == 8
    assert events[-1][1] == "[DONE]"


def test_tokens_per_chunk_groups_tokens():
    reply = Reply(content="a b c d e f g", tokens_per_chunk=3)
    with ScriptedEndpoint.constant(reply) as ep:
        pieces = [d["content"] for d in deltas(sse_events(openai_chat(ep, stream=True))) if "content" in d]
        opieces = [e["message"]["content"] for _, e in ndjson(ollama_chat(ep)) if not e["done"]]
    assert pieces == opieces == ["a b c", " d e f", " g"]


def test_reasoning_streams_before_content_and_role_on_first_chunk():
    with ScriptedEndpoint.constant(Reply(content="yes", reasoning="let me think")) as ep:
        ds = deltas(sse_events(openai_chat(ep, stream=True)))
        lines = [e for _, e in ndjson(ollama_chat(ep))]
    assert ds[0] == {"role": "assistant", "reasoning_content": "let"}
    assert [d.get("reasoning_content") for d in ds[:3]] == ["let", " me", " think"]
    assert ds[3] == {"content": "yes"}
    assert [line["message"].get("thinking") for line in lines[:3]] == ["let", " me", " think"]
    assert [line["message"]["content"] for line in lines[:4]] == ["", "", "", "yes"]


def test_role_chunk_first_arrives_before_first_delay():
    reply = Reply(content="hi", first_delay_s=0.3, role_chunk_first=True)
    with ScriptedEndpoint.constant(reply) as ep:
        t0 = time.perf_counter()
        events = sse_events(openai_chat(ep, stream=True))
    (t_role, role), (t_tok, tok) = events[0], events[1]
    assert role["choices"][0]["delta"] == {"role": "assistant"}
    assert t_role - t0 < 0.1
    assert tok["choices"][0]["delta"] == {"content": "hi"}
    assert t_tok - t0 == pytest.approx(0.3, rel=0.1)


def test_stall_after_half_of_the_chunks():
    reply = Reply(content="a b c d", token_delay_s=0.02, stall_s=0.25)
    with ScriptedEndpoint.constant(reply) as ep:
        times = [t for t, e in sse_events(openai_chat(ep, stream=True)) if isinstance(e, dict) and e["choices"] and e["choices"][0]["delta"].get("content")]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[1] == pytest.approx(0.27, abs=0.03)
    assert gaps[0] < 0.06 and gaps[2] < 0.06


TOOLS = [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}, {"name": "noop", "arguments": "{bad json"}]


def test_openai_tool_calls_non_stream_and_stream():
    tools_req = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    with ScriptedEndpoint.constant(Reply(tool_calls=TOOLS)) as ep:
        body = openai_chat(ep, tools=tools_req).json()
        events = sse_events(openai_chat(ep, stream=True, tools=tools_req))
        assert ep.received[0]["tools"] == tools_req
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    calls = choice["message"]["tool_calls"]
    assert [c["type"] for c in calls] == ["function", "function"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris", "unit": "C"}
    assert calls[1]["function"] == {"name": "noop", "arguments": "{bad json"}
    # Reassemble streamed tool calls the way an OpenAI client must.
    built: dict[int, dict] = {}
    arg_chunks = {0: 0, 1: 0}
    for d in deltas(events):
        for tc in d.get("tool_calls", []):
            slot = built.setdefault(tc["index"], {"name": "", "arguments": ""})
            if "id" in tc:
                assert "name" in tc["function"]  # the name comes in the first chunk
                slot["id"] = tc["id"]
            slot["name"] += tc["function"].get("name", "")
            if tc["function"].get("arguments"):
                slot["arguments"] += tc["function"]["arguments"]
                arg_chunks[tc["index"]] += 1
    assert json.loads(built[0]["arguments"]) == {"city": "Paris", "unit": "C"}
    assert built[1]["name"] == "noop" and built[1]["arguments"] == "{bad json"
    assert arg_chunks == {0: 2, 1: 2}
    finals = [e["choices"][0]["finish_reason"] for _, e in events if isinstance(e, dict) and e["choices"]]
    assert finals[-1] == "tool_calls"


def test_ollama_tool_calls_non_stream_and_stream():
    with ScriptedEndpoint.constant(Reply(content="calling", tool_calls=TOOLS[:1])) as ep:
        body = ollama_chat(ep, stream=False).json()
        lines = [e for _, e in ndjson(ollama_chat(ep))]
    want = [{"function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}}]
    assert body["done"] is True and body["message"]["tool_calls"] == want
    assert body["message"]["content"] == "calling"
    assert lines[-1]["done"] is True and lines[-1]["message"]["tool_calls"] == want
    assert all("tool_calls" not in line["message"] for line in lines[:-1])


def test_ollama_routes_and_chat_metrics():
    details = {"big": {"details": {"parameter_size": "70B"}, "model_info": {"big.context_length": 131072}}}
    reply = Reply(content="one two three", first_delay_s=0.1, token_delay_s=0.02, finish_reason="length")
    with ScriptedEndpoint.constant(reply, models=("scripted-model", "big"), model_details=details) as ep:
        tags = requests.get(f"{ep.url}/api/tags", timeout=5).json()
        show = requests.post(f"{ep.url}/api/show", json={"model": "big"}, timeout=5).json()
        version = requests.get(f"{ep.url}/api/version", timeout=5).json()
        lines = [e for _, e in ndjson(ollama_chat(ep))]
        single = ollama_chat(ep, stream=False).json()
    assert [m["name"] for m in tags["models"]] == ["scripted-model", "big"]
    for m in tags["models"]:
        assert {"name", "model", "size", "digest", "details"} <= m.keys()
        assert {"family", "parameter_size", "quantization_level"} <= m["details"].keys()
    assert tags["models"][1]["details"]["parameter_size"] == "70B"
    assert show["details"]["parameter_size"] == "70B"
    assert show["model_info"]["big.context_length"] == 131072
    assert version == {"version": "0.0-scripted"}
    assert [line["done"] for line in lines] == [False, False, False, True]
    assert "".join(line["message"]["content"] for line in lines) == "one two three"
    done = lines[-1]
    assert done["done_reason"] == "length" and done["model"] == MODEL
    assert done["eval_count"] == 3 and done["prompt_eval_count"] == count_prompt_tokens(MSGS)
    assert done["prompt_eval_duration"] == pytest.approx(0.1e9, rel=0.1)
    assert done["eval_count"] / done["eval_duration"] * 1e9 == pytest.approx(50, rel=0.1)
    assert done["total_duration"] >= done["prompt_eval_duration"] + done["eval_duration"] - 0.03e9
    assert single["message"] == {"role": "assistant", "content": "one two three"}
    assert single["done"] is True and single["eval_count"] == 3


# --- faults -----------------------------------------------------------------------------


def test_http_error_status_both_apis():
    with ScriptedEndpoint.constant(Reply(status=500, error_message="boom")) as ep:
        for resp in (openai_chat(ep, stream=True), ollama_chat(ep)):
            assert resp.status_code == 500
            assert resp.json() == {"error": {"message": "boom", "type": "server_error", "code": 500}}
    with ScriptedEndpoint.constant(Reply(status=429)) as ep:
        assert openai_chat(ep).json()["error"]["type"] == "rate_limit_error"


def test_responder_exception_becomes_500():
    def responder(req):
        raise RuntimeError("script bug")

    with ScriptedEndpoint(responder) as ep:
        r = openai_chat(ep)
    assert r.status_code == 500 and "script bug" in r.json()["error"]["message"]


def test_malformed_chunk_is_one_bad_line():
    with ScriptedEndpoint.constant(Reply(content="a b c", malformed_chunk=True)) as ep:
        events = sse_events(openai_chat(ep, stream=True))
        lines = ndjson(ollama_chat(ep))
        non_stream = openai_chat(ep)
    bad = [e for _, e in events if isinstance(e, str) and e != "[DONE]"]
    assert len(bad) == 1
    assert "".join(d.get("content", "") for d in deltas(events)) == "a b c"
    assert sum(isinstance(e, str) for _, e in lines) == 1
    with pytest.raises(ValueError):
        non_stream.json()


def test_drop_after_chunks_cuts_the_stream():
    reply = Reply(content="a b c d e", drop_after_chunks=2)
    with ScriptedEndpoint.constant(reply) as ep:
        seen = []
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            for line in openai_chat(ep, stream=True, stream_options={"include_usage": True}).iter_lines():
                if line:
                    seen.append(line)
        assert [json.loads(s[6:])["choices"][0]["delta"]["content"] for s in seen] == ["a", " b"]
        oseen = []
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            for line in ollama_chat(ep).iter_lines():
                if line:
                    oseen.append(json.loads(line))
        assert [o["done"] for o in oseen] == [False, False]
        with pytest.raises(requests.exceptions.ConnectionError):
            openai_chat(ep)  # non-streamed: the connection closes with no response at all


def test_client_disconnect_mid_stream_is_silent(capfd):
    reply = Reply(content=" ".join(["x"] * 30), token_delay_s=0.01)
    with ScriptedEndpoint.constant(reply) as ep:
        resp = openai_chat(ep, stream=True)
        next(resp.iter_lines())
        resp.close()
        time.sleep(0.2)  # the server keeps writing into the closed connection
        assert openai_chat(ep).status_code == 200
    assert capfd.readouterr().err == ""


def test_kill_aborts_streams_and_refuses_connections():
    ep = ScriptedEndpoint.constant(Reply(content="a b c d", first_delay_s=0.05, token_delay_s=2.0)).start()
    resp = openai_chat(ep, stream=True)
    lines = resp.iter_lines()
    first = next(line for line in lines if line)
    assert json.loads(first[6:])["choices"][0]["delta"]["content"] == "a"
    t0 = time.perf_counter()
    ep.kill()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for _ in lines:
            pass
    assert time.perf_counter() - t0 < 1.0  # aborted, not waited out
    port = int(ep.url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{ep.url}/v1/models", timeout=2)
    ep.stop()  # idempotent


# --- scripting helpers and the request log ---------------------------------------------


def test_replies_cycle_in_arrival_order():
    with ScriptedEndpoint.replies(["one", Reply(content="two"), "three"]) as ep:
        got = [openai_chat(ep).json()["choices"][0]["message"]["content"] for _ in range(4)]
    assert got == ["one", "two", "three", "one"]


def test_replies_are_thread_safe():
    items = [f"r{i}" for i in range(16)]
    with ScriptedEndpoint.replies(items) as ep:
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda _: openai_chat(ep).json()["choices"][0]["message"]["content"], range(16)))
    assert sorted(got) == sorted(items)


def test_constant_and_from_map():
    with ScriptedEndpoint.constant("fixed") as ep:
        assert openai_chat(ep).json()["choices"][0]["message"]["content"] == "fixed"
    mapping = {"weather": Reply(content="sunny"), "hi": "hello"}
    with ScriptedEndpoint.from_map(mapping, default="?") as ep:
        ask = lambda text: openai_chat(ep, messages=[{"role": "user", "content": text}]).json()["choices"][0]["message"]["content"]  # noqa: E731
        assert ask("what's the weather, hi") == "sunny"  # first matching key wins
        assert ask("hi there") == "hello"
        assert ask("nope") == "?"


def test_received_log_records_every_request():
    seen_in_responder = []

    def responder(req):
        seen_in_responder.append(req)
        return "ok"

    with ScriptedEndpoint(responder) as ep:
        requests.get(f"{ep.url}/v1/models", timeout=5)
        openai_chat(ep, temperature=0)
        requests.post(
            f"{ep.url}/api/chat",
            json={"model": MODEL, "messages": MSGS},
            headers={"X-Trace": "abc"},
            timeout=5,
        ).content
        log = list(ep.received)
    assert [(r["api"], r["path"]) for r in log] == [
        ("openai", "/v1/models"),
        ("openai", "/v1/chat/completions"),
        ("ollama", "/api/chat"),
    ]
    assert seen_in_responder == log[1:]
    chat = log[1]
    assert chat["messages"] == MSGS and chat["model"] == MODEL and chat["stream"] is False
    assert chat["body"]["temperature"] == 0 and chat["tools"] is None
    assert log[2]["stream"] is True  # Ollama streams unless told not to
    assert log[2]["headers"]["x-trace"] == "abc"
    assert all(k == k.lower() for r in log for k in r["headers"])


def test_concurrent_streams_run_in_parallel():
    """Four replies of 0.3 s each: one after another they take 1.2 s at least, in
    parallel about 0.3 s. The least of three tries must be well under the serial time
    (a loaded CI machine stretched a single try past a tighter bound)."""
    reply = Reply(content="a b", first_delay_s=0.3)
    took = []
    with ScriptedEndpoint.constant(reply) as ep:
        for _ in range(3):
            t0 = time.perf_counter()
            threads = [threading.Thread(target=lambda: sse_events(openai_chat(ep, stream=True))) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            took.append(time.perf_counter() - t0)
    assert min(took) < 0.9, took
