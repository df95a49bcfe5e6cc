"""OpenAI-compatible chat completions (llama-server, vLLM, LM Studio, hosted APIs).

Streams SSE with ``stream_options.include_usage`` so token counts come from the server.
The bearer key lives only on this object and goes only to the endpoint it was given for;
it is never part of ``ChatResult.request``.
"""
from __future__ import annotations

import json
import time

from benchloop.providers.base import MAX_EVENTS, ChatResult, Provider, ProviderError, emit_delta, http_error, json_reply, parse_arguments, settle


def base_url(endpoint: str) -> str:
    """``http://h:8080``, ``http://h:8080/`` and ``http://h:8080/v1`` all mean the same server."""
    e = endpoint.rstrip("/")
    if e.endswith("/v1"):
        e = e[: -len("/v1")]
    return e


class OpenAICompatProvider(Provider):
    name = "openai_compat"

    def __init__(self, endpoint, **kw):
        super().__init__(base_url(endpoint), **kw)

    def _headers(self):
        h = {"Content-Type": "application/json"}
        if self._api_key:
            h["Authorization"] = f"Bearer {self._api_key}"
        return h

    def list_models(self) -> list[str]:
        return [m["id"] for m in self._models() if isinstance(m, dict) and "id" in m]

    def model_entries(self) -> list:
        """``/v1/models`` data as the server sent it (ids, owners, llama.cpp's meta)."""
        return self._models()

    def _models(self) -> list:
        def go():
            r = self.session.get(f"{self.endpoint}/v1/models", headers=self._headers(), timeout=(self.connect_timeout, 15))
            if r.status_code != 200:
                raise http_error(r, "/v1/models")
            try:
                return r.json().get("data") or []
            except ValueError:
                raise ProviderError("protocol", f"{self.shown_endpoint}/v1/models did not return JSON") from None

        return self._wrap(go, "list models")

    @staticmethod
    def single_model_server(entries: list) -> str | None:
        """The one model's id when ``entries`` (``/v1/models`` data) come from a
        single-model llama.cpp server, which answers to any model name; else None."""
        models = [m for m in entries if isinstance(m, dict) and "id" in m]
        if len(models) == 1 and (models[0].get("owned_by") == "llamacpp" or isinstance(models[0].get("meta"), dict) and "n_params" in models[0]["meta"]):
            return str(models[0]["id"])
        return None

    @classmethod
    def served_name(cls, model: str, entries: list) -> str | None:
        """The name the server answers ``model`` as: ``model`` itself when it is listed
        (or nothing is listed), the server's own name for a single-model llama.cpp
        server (any name reaches its one model), else None (not served here)."""
        ids = [str(m["id"]) for m in entries if isinstance(m, dict) and "id" in m]
        if model in ids or not ids:
            return model
        return cls.single_model_server(entries)

    def describe_model(self, model: str) -> dict:
        """What the server says of ``model``; ``served_name`` when it answers under
        another name (a single-model llama.cpp server lists its GGUF file)."""
        info = {"name": model}
        try:
            entries = self._models()
            served = self.served_name(model, entries)
            for m in entries:
                if isinstance(m, dict) and m.get("id") is not None and (m.get("id") == served or len(entries) == 1):
                    meta = m.get("meta") if isinstance(m.get("meta"), dict) else {}
                    info.update(
                        {
                            "parameters": meta.get("n_params"),
                            "size_bytes": meta.get("size"),
                            "quantization": meta.get("ftype"),
                            "context_train": meta.get("n_ctx_train"),
                            "owned_by": m.get("owned_by"),
                        }
                    )
                    if str(m["id"]) != model:
                        info["served_name"] = str(m["id"])
                    break
        except ProviderError:
            pass
        return {k: v for k, v in info.items() if v is not None}

    def build_body(self, model, messages, *, tools, stream, max_tokens, temperature, seed, extra):
        body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature, "stream": stream}
        if seed is not None:
            body["seed"] = seed
        if tools:
            body["tools"] = tools
        if stream:
            body["stream_options"] = {"include_usage": True}
        if extra:
            body.update(extra)
        return body

    def chat(self, model, messages, *, tools=None, stream=True, max_tokens=512, temperature=0.0, seed=None, extra=None, on_delta=None) -> ChatResult:
        """See :meth:`Provider.chat` (``on_delta`` gets each streamed text delta)."""
        body = self.build_body(model, messages, tools=tools, stream=stream, max_tokens=max_tokens, temperature=temperature, seed=seed, extra=extra)
        res = ChatResult(request=body, model=model)

        def go():
            res.t_sent = time.perf_counter()
            r = self.session.post(
                f"{self.endpoint}/v1/chat/completions",
                data=json.dumps(body),
                headers=self._headers(),
                stream=stream,
                timeout=(self.connect_timeout, self.timeout),
            )
            if r.status_code != 200:
                res.t_done = time.perf_counter()
                raise http_error(r, "/v1/chat/completions")
            if stream:
                with r:  # closing keeps the connection when the stream's last bytes are here
                    self._read_stream(r, res, on_delta)
            else:
                self._read_whole(r, res)
                emit_delta(on_delta, res.content, res.reasoning)
            return res

        self._wrap(go, "chat")
        return settle(res)

    def _read_whole(self, r, res: ChatResult):
        data = json_reply(r, res)
        choices = data.get("choices") or [{}]
        msg = choices[0].get("message") or {}
        res.content = msg.get("content") or ""
        res.reasoning = msg.get("reasoning_content") or msg.get("reasoning") or ""
        if res.content or res.reasoning:
            res.t_first_token = res.t_last_token = res.t_done
        res.finish_reason = choices[0].get("finish_reason")
        for i, tc in enumerate(msg.get("tool_calls") or []):
            fn = tc.get("function") or {}
            args, raw = parse_arguments(fn.get("arguments"))
            res.tool_calls.append({"id": tc.get("id") or f"call_{i}", "name": fn.get("name") or "", "arguments": args, "arguments_raw": raw})
        self._usage(res, data)

    @staticmethod
    def _usage(res: ChatResult, data: dict):
        usage = data.get("usage")
        if isinstance(usage, dict) and usage.get("completion_tokens") is not None:
            res.prompt_tokens = usage.get("prompt_tokens")
            res.completion_tokens = usage.get("completion_tokens")
            details = usage.get("completion_tokens_details") or {}
            res.reasoning_tokens = details.get("reasoning_tokens")
            res.cached_tokens = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
            res.token_source = "server"
        if isinstance(data.get("timings"), dict):
            res.server_timings = data["timings"]

    def _read_stream(self, r, res: ChatResult, on_delta=None):
        events: list = []
        calls: dict[int, dict] = {}
        deadline = res.t_sent + self.timeout * 10
        done = False
        malformed = 0
        for line in r.iter_lines(chunk_size=None, decode_unicode=False):
            now = time.perf_counter()
            if res.t_first_chunk is None:
                res.t_first_chunk = now
            if now > deadline:
                raise ProviderError("timeout", f"stream exceeded {self.timeout * 10:g}s in total")
            if not line:
                continue
            line = line.decode("utf-8", "replace")
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                done = True
                break
            try:
                ev = json.loads(payload)
            except ValueError:
                malformed += 1
                if len(events) < MAX_EVENTS:
                    events.append({"malformed": payload[:200]})
                continue
            if len(events) < MAX_EVENTS:
                events.append(ev)
            if not isinstance(ev, dict):
                malformed += 1
                continue
            if ev.get("error"):
                err = ev["error"]
                raise ProviderError("http", f"error inside stream: {(err.get('message') if isinstance(err, dict) else err)!s:.300}")
            self._usage(res, ev)
            for ch in ev.get("choices") or []:
                delta = ch.get("delta") or {}
                text, think = delta.get("content") or "", delta.get("reasoning_content") or delta.get("reasoning") or ""
                res.add_text(text, think, now)
                emit_delta(on_delta, text, think)
                for tc in delta.get("tool_calls") or []:
                    idx = tc.get("index", len(calls))
                    slot = calls.setdefault(idx, {"id": None, "name": "", "arguments_raw": ""})
                    if tc.get("id"):
                        slot["id"] = tc["id"]
                    fn = tc.get("function") or {}
                    if fn.get("name"):
                        slot["name"] += fn["name"]
                    if fn.get("arguments"):
                        slot["arguments_raw"] += fn["arguments"] if isinstance(fn["arguments"], str) else json.dumps(fn["arguments"])
                    res.token_seen(now)
                if ch.get("finish_reason"):
                    res.finish_reason = ch["finish_reason"]
        res.t_done = time.perf_counter()
        res.response = {"events": events, "malformed_chunks": malformed}
        for idx in sorted(calls):
            slot = calls[idx]
            args, raw = parse_arguments(slot["arguments_raw"])
            res.tool_calls.append({"id": slot["id"] or f"call_{idx}", "name": slot["name"], "arguments": args, "arguments_raw": raw})
        if not done and res.finish_reason is None:
            raise ProviderError("protocol", "stream ended before the reply finished (connection dropped?)")
        if res.token_source != "server" and res.content_chunks:
            res.completion_tokens = res.content_chunks
            res.token_source = "counted"
