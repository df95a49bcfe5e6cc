"""Protocol and fault tests of the providers against the scripted endpoint."""
import json
import time

import pytest

from benchloop.providers import ProviderError, make_provider
from benchloop.providers.ollama import num_ctx_for
from benchloop.providers.openai_compat import base_url
from benchloop.testing.scripted import Reply

MSGS = [{"role": "user", "content": "hello there"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_endpoint_with_or_without_v1(scripted, suffix):
    ep = scripted(lambda req: "hi")
    p = make_provider("openai_compat", ep.url + suffix)
    assert p.list_models() == ["scripted-model"]
    assert p.chat("scripted-model", MSGS).content == "hi"
    assert all(not r["path"].startswith("/v1/v1") for r in ep.received)
    assert base_url("http://h:1/v1") == "http://h:1"


@pytest.mark.parametrize("provider", ["openai_compat", "ollama"])
def test_streaming_text_tokens_and_timestamps(scripted, provider):
    ep = scripted(lambda req: Reply(content="one two three four", first_delay_s=0.1, token_delay_s=0.02))
    res = make_provider(provider, ep.url).chat("scripted-model", MSGS, max_tokens=32)
    assert res.content == "one two three four"
    assert res.token_source == "server" and res.completion_tokens == 4
    assert res.finish_reason == "stop"
    assert res.t_sent < res.t_first_chunk <= res.t_first_token < res.t_last_token <= res.t_done
    assert 80 <= res.ttft_ms <= 400
    assert res.server_timings


def test_openai_reasoning_fields_and_think_tags_kept_apart(scripted):
    ep = scripted(lambda req: Reply(content="<think>secret plan</think>ANSWER: 4", reasoning="native thoughts"))
    res = make_provider("openai_compat", ep.url).chat("scripted-model", MSGS)
    assert res.content == "ANSWER: 4"
    assert "native thoughts" in res.reasoning and "secret plan" in res.reasoning


def test_ollama_thinking_and_num_ctx(scripted):
    ep = scripted(lambda req: Reply(content="fine", reasoning="hmm"))
    res = make_provider("ollama", ep.url).chat("scripted-model", [{"role": "user", "content": "x" * 30000}], max_tokens=300)
    assert res.reasoning == "hmm" and res.content == "fine"
    opts = ep.received[-1]["body"]["options"]
    assert opts["num_predict"] == 300
    assert opts["num_ctx"] >= 30000 // 3 + 300 and opts["num_ctx"] % 1024 == 0
    assert num_ctx_for([], None, 10) == 2048


@pytest.mark.parametrize("provider", ["openai_compat", "ollama"])
@pytest.mark.parametrize("stream", [True, False])
def test_tool_calls(scripted, provider, stream):
    ep = scripted(lambda req: Reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "get_weather", "arguments": '{"city": '}]))
    res = make_provider(provider, ep.url).chat("scripted-model", MSGS, tools=TOOLS, stream=stream)
    assert [c["name"] for c in res.tool_calls] == ["get_weather", "get_weather"]
    assert res.tool_calls[0]["arguments"] == {"city": "Oslo"}
    if provider == "openai_compat":
        assert res.tool_calls[1]["arguments"] is None and res.tool_calls[1]["arguments_raw"] == '{"city": '
    body = ep.received[-1]["body"]
    assert body["tools"] == TOOLS


def test_bearer_key_flag_wins_and_goes_only_to_its_endpoint(scripted, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key-0000")
    ep = scripted(lambda req: "ok")
    make_provider("openai_compat", ep.url).chat("scripted-model", MSGS)
    assert ep.received[-1]["headers"]["authorization"] == "Bearer sk-env-key-0000"
    p = make_provider("openai_compat", ep.url, api_key="sk-flag-key-1111")
    res = p.chat("scripted-model", MSGS)
    assert ep.received[-1]["headers"]["authorization"] == "Bearer sk-flag-key-1111"
    assert "sk-flag" not in json.dumps(res.to_dict())
    other = scripted(lambda req: "ok")
    make_provider("ollama", other.url).chat("scripted-model", MSGS)
    assert "authorization" not in other.received[-1]["headers"]


def test_http_500_becomes_provider_error(scripted):
    ep = scripted(lambda req: Reply(status=500, error_message="out of memory"))
    with pytest.raises(ProviderError) as ei:
        make_provider("openai_compat", ep.url).chat("scripted-model", MSGS)
    assert ei.value.kind == "http" and ei.value.status == 500 and "out of memory" in str(ei.value)


def test_stall_hits_the_read_deadline(scripted):
    ep = scripted(lambda req: Reply(content="a b c d", stall_s=2.0))
    t0 = time.monotonic()
    with pytest.raises(ProviderError) as ei:
        make_provider("openai_compat", ep.url, timeout=0.5).chat("scripted-model", MSGS)
    assert ei.value.kind in ("timeout", "protocol")
    assert time.monotonic() - t0 < 1.9


def test_malformed_chunk_is_skipped_and_counted(scripted):
    ep = scripted(lambda req: Reply(content="x y z", malformed_chunk=True))
    res = make_provider("openai_compat", ep.url).chat("scripted-model", MSGS)
    assert res.content == "x y z"
    assert res.response["malformed_chunks"] == 1


@pytest.mark.parametrize("provider", ["openai_compat", "ollama"])
def test_dropped_stream_is_a_protocol_error(scripted, provider):
    ep = scripted(lambda req: Reply(content="a b c d e f", drop_after_chunks=2))
    with pytest.raises(ProviderError) as ei:
        make_provider(provider, ep.url).chat("scripted-model", MSGS)
    assert ei.value.kind == "protocol"


def test_dead_endpoint_is_a_connect_error(scripted):
    ep = scripted(lambda req: "x")
    url = ep.url
    ep.kill()
    with pytest.raises(ProviderError) as ei:
        make_provider("openai_compat", url).chat("scripted-model", MSGS)
    assert ei.value.kind == "connect"


def test_describe_and_list_models_ollama(scripted):
    ep = scripted(lambda req: "x", models=("qwen3:8b",), model_details={"qwen3:8b": {"details": {"family": "qwen3", "parameter_size": "8.2B", "quantization_level": "Q4_K_M"}}})
    p = make_provider("ollama", ep.url)
    assert p.list_models() == ["qwen3:8b"]
    d = p.describe_model("qwen3:8b")
    assert d["family"] == "qwen3" and d["quantization"] == "Q4_K_M" and d["parameters"] == "8.2B"


@pytest.mark.parametrize("provider", ["openai_compat", "ollama"])
def test_on_delta_gets_every_streamed_text_delta_in_order(scripted, provider):
    ep = scripted(lambda req: Reply(content="one two three", reasoning="think hard", role_chunk_first=True, token_delay_s=0.005))
    got = []
    res = make_provider(provider, ep.url).chat("scripted-model", MSGS, on_delta=lambda text, think: got.append((text, think)))
    assert len(got) >= 3 and all(t or r for t, r in got)  # a role-only chunk is not a delta
    assert "".join(t for t, _ in got) == res.content == "one two three"
    assert "".join(r for _, r in got) == res.reasoning == "think hard"
    assert res.completion_tokens and res.t_first_token is not None  # timings are the provider's own


@pytest.mark.parametrize("provider", ["openai_compat", "ollama"])
def test_on_delta_is_called_once_for_a_whole_reply_and_can_stop_a_stream(scripted, provider):
    ep = scripted(lambda req: Reply(content="a b c d e f", token_delay_s=0.005))
    p = make_provider(provider, ep.url)
    got = []
    assert p.chat("scripted-model", MSGS, stream=False, on_delta=lambda t, r: got.append(t)).content == "a b c d e f"
    assert got == ["a b c d e f"]

    def stop(text, think):
        raise ProviderError("protocol", "the reader went away")

    with pytest.raises(ProviderError, match="went away"):
        p.chat("scripted-model", MSGS, on_delta=stop)
    assert p.chat("scripted-model", MSGS).content == "a b c d e f"  # without a callback nothing changes
