"""Ollama's native API: ``/api/chat`` (NDJSON), ``/api/tags``, ``/api/show``.

Ollama silently truncates prompts longer than its default context, which would falsify
every long-prompt score, so each request sends ``options.num_ctx`` sized for the prompt
plus the output budget, and ``num_predict`` for the output budget.
"""
from __future__ import annotations

import json
import time

from benchloop.providers.base import MAX_EVENTS, ChatResult, Provider, ProviderError, emit_delta, http_error, json_reply, parse_arguments, settle


def num_ctx_for(messages, tools, max_tokens: int) -> int:
    """A context window that surely holds prompt + output: ~3 chars a token, rounded up to 1024."""
    chars = len(json.dumps(messages)) + (len(json.dumps(tools)) if tools else 0)
    need = chars // 3 + int(max_tokens) + 256
    return max(2048, -(-need // 1024) * 1024)


def to_ollama_messages(messages: list[dict]) -> list[dict]:
    """OpenAI-shaped history -> Ollama's (tool-call arguments as objects, no ids)."""
    out = []
    for m in messages:
        m2 = {"role": m["role"], "content": m.get("content") or ""}
        if m.get("tool_calls"):
            calls = []
            for tc in m["tool_calls"]:
                fn = tc.get("function", tc)
                args = fn.get("arguments")
                if isinstance(args, str):
                    args, _ = parse_arguments(args)
                calls.append({"function": {"name": fn.get("name"), "arguments": args or {}}})
            m2["tool_calls"] = calls
        if m.get("role") == "tool" and m.get("name"):
            m2["tool_name"] = m["name"]
        out.append(m2)
    return out


class OllamaProvider(Provider):
    name = "ollama"

    def list_models(self) -> list[str]:
        def go():
            r = self.session.get(f"{self.endpoint}/api/tags", timeout=(self.connect_timeout, 15))
            if r.status_code != 200:
                raise http_error(r, "/api/tags")
            try:
                return [m.get("name") or m.get("model") for m in r.json().get("models") or []]
            except (ValueError, AttributeError):
                raise ProviderError("protocol", f"{self.shown_endpoint}/api/tags did not return the Ollama model list") from None

        return self._wrap(go, "list models")

    @staticmethod
    def matches(model: str, available: list[str]) -> bool:
        return model in available or (":" not in model and f"{model}:latest" in available)

    def describe_model(self, model: str) -> dict:
        info = {"name": model}

        def go():
            r = self.session.post(f"{self.endpoint}/api/show", json={"model": model}, timeout=(self.connect_timeout, 15))
            return r.json() if r.status_code == 200 else {}

        try:
            data = self._wrap(go, "describe model")
        except ProviderError:
            data = {}
        d = data.get("details") or {}
        mi = data.get("model_info") or {}
        info.update(
            {
                "family": d.get("family"),
                "parameters": d.get("parameter_size") or mi.get("general.parameter_count"),
                "quantization": d.get("quantization_level"),
                "format": d.get("format"),
            }
        )
        try:
            r = self.session.get(f"{self.endpoint}/api/tags", timeout=(self.connect_timeout, 15))
            for m in r.json().get("models") or []:
                if m.get("name") == model or m.get("model") == model:
                    info["digest"] = m.get("digest")
                    info["size_bytes"] = m.get("size")
        except Exception:  # describing is best-effort; it must never end a run
            pass
        return {k: v for k, v in info.items() if v is not None}

    def chat(self, model, messages, *, tools=None, stream=True, max_tokens=512, temperature=0.0, seed=None, extra=None, on_delta=None) -> ChatResult:
        """See :meth:`Provider.chat` (``on_delta`` gets each streamed text delta)."""
        options = {"temperature": temperature, "num_predict": int(max_tokens), "num_ctx": num_ctx_for(messages, tools, max_tokens)}
        if seed is not None:
            options["seed"] = seed
        body = {"model": model, "messages": to_ollama_messages(messages), "stream": stream, "options": options}
        if tools:
            body["tools"] = tools
        if extra:
            extra = dict(extra)
            options.update(extra.pop("options", {}))
            body.update(extra)
        res = ChatResult(request=body, model=model)

        def go():
            res.t_sent = time.perf_counter()
            r = self.session.post(f"{self.endpoint}/api/chat", data=json.dumps(body), stream=stream, timeout=(self.connect_timeout, self.timeout))
            if r.status_code != 200:
                res.t_done = time.perf_counter()
                raise http_error(r, "/api/chat")
            if stream:
                with r:  # closing keeps the connection when the stream's last bytes are here
                    self._read_stream(r, res, on_delta)
            else:
                self._absorb(res, json_reply(r, res), res.t_done, on_delta)
            return res

        self._wrap(go, "chat")
        return settle(res)

    def _absorb(self, res: ChatResult, ev: dict, now: float, on_delta=None):
        if ev.get("error"):
            raise ProviderError("http", f"error inside stream: {str(ev['error'])[:300]}")
        msg = ev.get("message") or {}
        text, think = msg.get("content") or "", msg.get("thinking") or ""
        res.add_text(text, think, now)
        emit_delta(on_delta, text, think)
        for i, tc in enumerate(msg.get("tool_calls") or []):
            fn = tc.get("function") or {}
            args, raw = parse_arguments(fn.get("arguments"))
            res.tool_calls.append({"id": f"call_{len(res.tool_calls)}", "name": fn.get("name") or "", "arguments": args, "arguments_raw": raw})
            res.token_seen(now)
        if ev.get("done"):
            res.finish_reason = ev.get("done_reason") or "stop"
            if res.tool_calls and res.finish_reason == "stop":
                res.finish_reason = "tool_calls"
            if ev.get("eval_count") is not None:
                res.completion_tokens = ev.get("eval_count")
                res.prompt_tokens = ev.get("prompt_eval_count")
                res.token_source = "server"
            res.server_timings = {k: ev.get(k) for k in ("eval_count", "eval_duration", "prompt_eval_count", "prompt_eval_duration", "load_duration", "total_duration") if ev.get(k) is not None}

    def _read_stream(self, r, res: ChatResult, on_delta=None):
        events = []
        deadline = res.t_sent + self.timeout * 10
        malformed = 0
        for line in r.iter_lines(chunk_size=None):
            now = time.perf_counter()
            if res.t_first_chunk is None:
                res.t_first_chunk = now
            if now > deadline:
                raise ProviderError("timeout", f"stream exceeded {self.timeout * 10:g}s in total")
            if not line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                malformed += 1
                continue
            if not isinstance(ev, dict):
                malformed += 1
                continue
            if len(events) < MAX_EVENTS:
                events.append(ev)
            self._absorb(res, ev, now, on_delta)
            if ev.get("done"):
                break
        res.t_done = time.perf_counter()
        res.response = {"events": events, "malformed_chunks": malformed}
        if res.finish_reason is None:
            raise ProviderError("protocol", "stream ended before the reply finished (connection dropped?)")
        if res.token_source != "server" and res.content_chunks:
            res.completion_tokens = res.content_chunks
            res.token_source = "counted"
