"""Chat with any model from the browser; the reply streams back as Server-Sent Events.

The provider does the talking and the timing; its public ``on_delta`` callback hands
each text delta to this module, which forwards it to the browser (``delta`` events),
then sends one ``done`` event with the provider's own measurements. An API key is used
for this one request and never echoed, stored or logged.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from benchloop.catalog import PROVIDERS
from benchloop.dashboard.context import Dashboard, answers, bad
from benchloop.dashboard.jobs import SSE_HEADERS, sse


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    provider: str = "ollama"
    endpoint: str | None = None
    model: str
    messages: list[ChatMessage]
    max_tokens: int = 512
    temperature: float = 0.7
    api_key: Any = Field(None, description="key for a remote endpoint; used for this request only, never stored or echoed")


def check_request(body: ChatRequest) -> None:
    """Refuse a chat request that cannot be sent as is (one line saying what to fix)."""
    if body.provider not in PROVIDERS:
        bad(f"provider must be {', '.join(PROVIDERS[:-1])} or {PROVIDERS[-1]}")
    if body.provider != "llamacpp" and (not body.endpoint or not body.endpoint.startswith(("http://", "https://"))):
        bad("endpoint must be an http:// or https:// URL")
    if not body.model.strip() or len(body.model) > 300:
        bad("model is required")
    if not body.messages or len(body.messages) > 200:
        bad("send 1 to 200 messages")
    for m in body.messages:
        if m.role not in ("system", "user", "assistant"):
            bad("message roles are system, user or assistant")
        if len(m.content) > 200_000:
            bad("a message may hold at most 200,000 characters")
    if not 1 <= body.max_tokens <= 16384:
        bad("max_tokens must be 1 to 16384")
    if not 0 <= body.temperature <= 2:
        bad("temperature must be 0 to 2")


def done_event(res) -> dict:
    """The closing ``done`` event: the whole reply and the provider's timings."""
    dec = None
    if res.completion_tokens and res.t_first_token and res.t_last_token and res.t_last_token > res.t_first_token:
        dec = (res.completion_tokens - 1) / (res.t_last_token - res.t_first_token)
    return {"content": res.content, "reasoning": res.reasoning, "finish_reason": res.finish_reason, "ttft_ms": res.ttft_ms, "latency_ms": res.latency_ms,
            "completion_tokens": res.completion_tokens, "token_source": res.token_source, "decode_tok_s": dec}


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()

    @r.post("/api/chat", tags=["chat"], summary="Chat with a model; the reply streams as Server-Sent Events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "delta events, then done or error"}, **answers(400, 403)})
    async def chat(body: ChatRequest):
        dash.need_control()
        check_request(body)
        from benchloop.providers import ProviderError, make_provider

        key = body.api_key if isinstance(body.api_key, str) and body.api_key else None
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def push(ev, data):
            loop.call_soon_threadsafe(queue.put_nowait, (ev, data))

        def on_delta(text: str, reasoning: str) -> None:
            if stop.is_set():  # the browser went away: end the stream (and the model's work)
                raise ProviderError("protocol", "the browser went away")
            push("delta", {"content": text, "reasoning": reasoning})

        def work():
            p = None
            try:
                endpoint = body.endpoint
                if body.provider == "llamacpp":
                    push("status", {"message": f"starting the embedded engine for {body.model}"})
                    endpoint = dash.engines.url_for(body.model)
                p = make_provider(body.provider, endpoint, api_key=key, timeout=120)
                res = p.chat(body.model, [m.model_dump() for m in body.messages], stream=True, max_tokens=body.max_tokens, temperature=body.temperature, on_delta=on_delta)
                push("done", done_event(res))
            except ProviderError as exc:
                push("error", {"message": str(exc)[:500]})
            except Exception as exc:  # engine failed to start, etc.
                push("error", {"message": f"{type(exc).__name__}: {exc}"[:500]})
            finally:
                if p is not None:
                    p.close()
                push(None, None)

        threading.Thread(target=work, name="benchloop-chat", daemon=True).start()

        async def gen():
            try:
                while True:
                    ev, data = await queue.get()
                    if ev is None:
                        return
                    yield sse(ev, data)
            finally:
                stop.set()

        return StreamingResponse(gen(), media_type="text/event-stream", headers=SSE_HEADERS)

    return r
