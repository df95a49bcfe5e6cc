"""A scripted HTTP endpoint that speaks enough OpenAI and Ollama to test clients against.

Why it exists: provider, metric and fault-handling code must be tested without a model, and
a mock at the ``requests`` level cannot show what a real socket does (when a chunk reaches
``iter_lines``, what a dropped or refused connection raises). So this is a real HTTP server
on 127.0.0.1 whose every reply follows a :class:`Reply` script: the text, the tool calls,
the exact timing of each streamed chunk, and the faults (HTTP errors, a non-JSON line, a
stall, a connection cut mid-stream, the whole server dying).

Standard library only, so it can run in any environment BenchLoop's own tests run in.

Timing contract (other modules' tests rely on it): with ``t0`` the moment the request body
has been read, streamed chunk ``i`` (0-based) leaves at ``t0 + first_delay_s + i *
token_delay_s``, plus ``stall_s`` for the second half of the chunks. Times are absolute
targets, so sleeps do not accumulate drift. Each chunk is one HTTP/1.1 chunked-encoding
chunk written with Nagle off, so ``requests``' ``iter_lines`` yields it as soon as it is
sent. The optional OpenAI role-only chunk is sent at ``t0``; it carries no token.

The "tokenizer" is :func:`tokenize` (whitespace-attached words), used for every count this
server reports, so a test can compute expected counts with the same function.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import socket
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Mapping

__all__ = ["Reply", "ScriptedEndpoint", "count_prompt_tokens", "tokenize", "token_ids"]


@dataclass
class Reply:
    """What the endpoint answers to one chat request, and how (timing and faults).

    Fields mirror the knobs a benchmark client must cope with in real servers; see the
    module docstring for the timing contract. ``tool_calls`` items are ``{"name": str,
    "arguments": dict | str}``; a ``str`` is sent verbatim so malformed JSON can be tested.
    """

    content: str = ""
    reasoning: str = ""
    tool_calls: list = field(default_factory=list)
    finish_reason: str = "stop"
    status: int = 200
    error_message: str = "scripted error"
    first_delay_s: float = 0.0
    token_delay_s: float = 0.0
    tokens_per_chunk: int = 1
    role_chunk_first: bool = False
    stall_s: float = 0.0
    malformed_chunk: bool = False
    drop_after_chunks: int | None = None
    usage: bool = True
    prompt_tokens: int | None = None
    timings: bool = True
    cached_tokens: int = 0
    retry_after: str | None = None  # sent as the Retry-After header of an error reply


_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into "tokens": each word with its leading whitespace.

    Deterministic and lossless (``"".join(tokenize(t)) == t``), so the streamed text of a
    reply re-joins exactly and expected token counts are easy to state in tests.
    """
    return _TOKEN_RE.findall(text)


def token_ids(text: str) -> list[int]:
    """Stable integer ids for :func:`tokenize` pieces (crc32), as ``POST /tokenize`` returns."""
    return [zlib.crc32(piece.encode("utf-8")) & 0x7FFFFFFF for piece in tokenize(text)]


def _message_text(message: Any) -> str:
    """The text of one chat message; list-of-parts content contributes its text parts."""
    if not isinstance(message, Mapping):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return ""


def count_prompt_tokens(messages: Iterable[Any]) -> int:
    """Prompt tokens reported when ``Reply.prompt_tokens`` is None.

    The token count of all message contents concatenated with no separator; exposed so
    tests can compute the number the endpoint will report.
    """
    return len(tokenize("".join(_message_text(m) for m in messages or ())))


def _arguments_text(arguments: Any) -> str:
    """OpenAI carries tool arguments as a JSON string; a str is kept raw (maybe malformed)."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments if arguments is not None else {})


def _arguments_object(arguments: Any) -> Any:
    """Ollama carries tool arguments as an object; unparseable text is passed through raw."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments if arguments is not None else {}


def _error_type(status: int) -> str:
    """OpenAI-style ``error.type`` for an HTTP status, so clients can branch on it."""
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        408: "timeout_error",
        429: "rate_limit_error",
        503: "unavailable_error",
    }.get(status, "server_error" if status >= 500 else "invalid_request_error")


def _as_reply(value: Any) -> Reply:
    """Responders may return a bare string as shorthand for ``Reply(content=...)``."""
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(content=value)
    raise TypeError(f"responder must return Reply or str, got {type(value).__name__}")


@dataclass
class _Chunk:
    """One scheduled stream chunk: reasoning/content text, or a piece of a tool call."""

    kind: str  # "reasoning" | "content" | "tool"
    text: str = ""
    tool_index: int = 0
    tool_name: str | None = None  # set on the first chunk of a tool call only


def _text_chunks(kind: str, text: str, per_chunk: int) -> list[_Chunk]:
    pieces = tokenize(text)
    return [
        _Chunk(kind, "".join(pieces[i : i + per_chunk])) for i in range(0, len(pieces), per_chunk)
    ]


def _tool_chunks(tool_calls: list) -> list[_Chunk]:
    """OpenAI streaming: the name first, then the arguments text split across two chunks."""
    chunks: list[_Chunk] = []
    for index, call in enumerate(tool_calls):
        chunks.append(_Chunk("tool", "", index, call.get("name", "")))
        args = _arguments_text(call.get("arguments"))
        if len(args) >= 2:
            half = len(args) // 2
            chunks += [_Chunk("tool", args[:half], index), _Chunk("tool", args[half:], index)]
        elif args:
            chunks.append(_Chunk("tool", args, index))
    return chunks


def _completion_tokens(reply: Reply) -> int:
    """Generated tokens: reasoning + content + tool names and argument text."""
    n = len(tokenize(reply.reasoning)) + len(tokenize(reply.content))
    for call in reply.tool_calls:
        n += len(tokenize(call.get("name", ""))) + len(tokenize(_arguments_text(call.get("arguments"))))
    return n


class _Aborted(Exception):
    """The endpoint was killed or stopped while a request was being served."""


class _Clock:
    """Sends on an absolute schedule relative to ``t0`` and records what actually happened."""

    def __init__(self, killed: threading.Event):
        self.killed = killed
        self.t0 = time.perf_counter()
        self.first: float | None = None
        self.last: float | None = None

    def wait_until(self, offset_s: float) -> None:
        remaining = self.t0 + offset_s - time.perf_counter()
        if remaining > 0 and self.killed.wait(remaining):
            raise _Aborted()
        if self.killed.is_set():
            raise _Aborted()

    def mark_token_chunk(self) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now


class _Stats:
    """Counts and durations for usage/timings, computed from the measured schedule."""

    def __init__(self, reply: Reply, req: dict, clock: _Clock, n_chunks: int):
        end = time.perf_counter()
        self.prompt_tokens = (
            reply.prompt_tokens if reply.prompt_tokens is not None else count_prompt_tokens(req["messages"])
        )
        self.cached = max(0, min(reply.cached_tokens, self.prompt_tokens))
        self.prompt_n = self.prompt_tokens - self.cached
        self.completion_tokens = _completion_tokens(reply)
        self.reasoning_tokens = len(tokenize(reply.reasoning))
        # Prefill ends when the first token leaves: prompt time is the measured TTFT.
        first = clock.first if clock.first is not None else end
        self.prompt_s = first - clock.t0
        # Each chunk costs one token_delay_s to generate, so n chunks span (last-first) + one
        # delay; this makes predicted_per_second == tokens_per_chunk / token_delay_s.
        if n_chunks and clock.first is not None and clock.last is not None:
            self.predicted_s = (clock.last - clock.first) + reply.token_delay_s
        else:
            self.predicted_s = 0.0
        self.total_s = end - clock.t0

    def openai_usage(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
        }

    def llamacpp_timings(self) -> dict:
        prompt_ms = self.prompt_s * 1000.0
        predicted_ms = self.predicted_s * 1000.0
        return {
            "cache_n": self.cached,
            "prompt_n": self.prompt_n,
            "prompt_ms": prompt_ms,
            "prompt_per_second": self.prompt_n / self.prompt_s if self.prompt_s > 0 else 0.0,
            "predicted_n": self.completion_tokens,
            "predicted_ms": predicted_ms,
            "predicted_per_second": (
                self.completion_tokens / self.predicted_s if self.predicted_s > 0 else 0.0
            ),
        }

    def ollama_metrics(self, usage: bool) -> dict:
        ns = 1_000_000_000
        metrics = {"total_duration": int(self.total_s * ns), "load_duration": 0}
        if usage:
            metrics.update(
                prompt_eval_count=self.prompt_n,
                prompt_eval_duration=int(self.prompt_s * ns),
                eval_count=self.completion_tokens,
                eval_duration=int(self.predicted_s * ns),
            )
        return metrics


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"


class _Server(ThreadingHTTPServer):
    """Daemon handler threads, a deep backlog for concurrency tests, and quiet I/O errors."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    endpoint: "ScriptedEndpoint"

    def handle_error(self, request, client_address):  # noqa: D401 - socketserver hook
        """Swallow connection errors (client went away, server killed); report real bugs."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, _Aborted)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes one request. Every response closes the connection, which keeps kill() simple."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a small chunk must leave now, not after the next ACK
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        """Silenced: tests read results, not access logs."""

    # --- plumbing -----------------------------------------------------------------------

    def setup(self):
        super().setup()
        self.server.endpoint._track(self.connection, add=True)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.endpoint._track(self.connection, add=False)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (OSError, _Aborted):
            self.close_connection = True

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _read_body(self) -> dict | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _send_json(self, status: int, obj: Any, headers: dict | None = None) -> None:
        data = json.dumps(obj).encode("utf-8")
        self._send_raw(status, data, "application/json", headers)

    def _send_raw(self, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def _send_error(self, status: int, message: str, headers: dict | None = None) -> None:
        self._send_json(
            status, {"error": {"message": message, "type": _error_type(status), "code": status}}, headers
        )

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True

    def _write_chunk(self, data: bytes) -> None:
        """One HTTP chunk per write, so the client sees it as one read."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- routing ------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        ep = self.server.endpoint
        if ep._killed.is_set():
            raise _Aborted()
        path = self.path.split("?", 1)[0]
        body = self._read_body() if method == "POST" else {}
        api = "ollama" if path.startswith("/api/") else "openai"
        req = {
            "api": api,
            "path": self.path,
            "body": body if body is not None else {},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "messages": [],
            "tools": None,
            "model": "",
            "stream": False,
            "received_at": time.monotonic(),
        }
        if isinstance(body, dict):
            messages = body.get("messages")
            req["messages"] = messages if isinstance(messages, list) else []
            req["tools"] = body.get("tools")
            req["model"] = str(body.get("model") or body.get("name") or "")
            req["stream"] = bool(body.get("stream", api == "ollama"))
        ep._record(req)
        if body is None:
            self._send_error(400, "request body is not a JSON object")
            return
        route = {
            ("GET", "/v1/models"): self._openai_models,
            ("GET", "/models"): self._openai_models,
            ("POST", "/v1/chat/completions"): self._openai_chat,
            ("POST", "/chat/completions"): self._openai_chat,
            ("POST", "/tokenize"): self._tokenize,
            ("GET", "/health"): lambda req: self._send_json(200, {"status": "ok"}),
            ("GET", "/"): lambda req: self._send_raw(200, b"Ollama is running", "text/plain"),
            ("GET", "/api/tags"): self._ollama_tags,
            ("POST", "/api/show"): self._ollama_show,
            ("POST", "/api/chat"): self._ollama_chat,
            ("GET", "/api/version"): lambda req: self._send_json(200, {"version": "0.0-scripted"}),
        }.get((method, path))
        if route is None:
            self._send_error(404, f"no route for {method} {path}")
            return
        route(req)

    def _reply_for(self, req: dict) -> Reply | None:
        """Ask the responder; unknown models and responder bugs become HTTP errors."""
        ep = self.server.endpoint
        if req["model"] and not ep._known_model(req["model"]):
            self._send_error(404, f"model '{req['model']}' not found")
            return None
        try:
            reply = _as_reply(ep.responder(req))
        except Exception as exc:  # a broken responder is a test bug: make it loud in the reply
            self._send_error(500, f"responder raised {type(exc).__name__}: {exc}")
            return None
        if reply.status != 200:
            _Clock(ep._killed).wait_until(reply.first_delay_s)
            self._send_error(reply.status, reply.error_message, {"Retry-After": reply.retry_after} if reply.retry_after else None)
            return None
        return reply

    # --- llama.cpp / OpenAI ---------------------------------------------------------------

    def _openai_models(self, req: dict) -> None:
        data = [{"id": m, "object": "model", "owned_by": "scripted"} for m in self.server.endpoint.models]
        self._send_json(200, {"object": "list", "data": data})

    def _tokenize(self, req: dict) -> None:
        content = req["body"].get("content", "")
        if not isinstance(content, str):
            self._send_error(400, "'content' must be a string")
            return
        if req["body"].get("with_pieces"):
            tokens = [{"id": i, "piece": p} for i, p in zip(token_ids(content), tokenize(content))]
        else:
            tokens = token_ids(content)
        self._send_json(200, {"tokens": tokens})

    def _openai_chat(self, req: dict) -> None:
        reply = self._reply_for(req)
        if reply is None:
            return
        ep = self.server.endpoint
        clock = _Clock(ep._killed)
        n = ep._next_id()
        cid, created, model = f"chatcmpl-scripted-{n}", int(time.time()), req["model"] or ep.models[0]
        per = max(1, int(reply.tokens_per_chunk))
        chunks = (
            _text_chunks("reasoning", reply.reasoning, per)
            + _text_chunks("content", reply.content, per)
            + _tool_chunks(reply.tool_calls)
        )
        finish = reply.finish_reason
        if reply.tool_calls and finish == "stop":
            finish = "tool_calls"
        call_ids = [f"call_{n}_{i}" for i in range(len(reply.tool_calls))]

        if not req["stream"]:
            if not self._run_schedule(reply, clock, chunks, send=None):
                return
            stats = _Stats(reply, req, clock, len(chunks))
            message: dict[str, Any] = {"role": "assistant", "content": reply.content}
            if reply.reasoning:
                message["reasoning_content"] = reply.reasoning
            if reply.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": call_ids[i],
                        "type": "function",
                        "function": {"name": c.get("name", ""), "arguments": _arguments_text(c.get("arguments"))},
                    }
                    for i, c in enumerate(reply.tool_calls)
                ]
            obj: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            }
            if reply.usage:
                obj["usage"] = stats.openai_usage()
            if reply.timings:
                obj["timings"] = stats.llamacpp_timings()
            data = json.dumps(obj).encode("utf-8")
            if reply.malformed_chunk:
                data = data[: len(data) // 2]  # a truncated, unparseable body with a 200
            self._send_raw(200, data, "application/json")
            return

        def event(choices: list, **extra: Any) -> bytes:
            obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
            obj["choices"] = choices
            obj.update(extra)
            return b"data: " + json.dumps(obj).encode("utf-8") + b"\n\n"

        role_sent = False

        def send(chunk: _Chunk) -> None:
            nonlocal role_sent
            delta: dict[str, Any] = {}
            if not role_sent:
                delta["role"] = "assistant"
                role_sent = True
            if chunk.kind == "reasoning":
                delta["reasoning_content"] = chunk.text
            elif chunk.kind == "content":
                delta["content"] = chunk.text
            else:
                call: dict[str, Any] = {"index": chunk.tool_index}
                if chunk.tool_name is not None:
                    call.update(id=call_ids[chunk.tool_index], type="function")
                    call["function"] = {"name": chunk.tool_name, "arguments": ""}
                else:
                    call["function"] = {"arguments": chunk.text}
                delta["tool_calls"] = [call]
            self._write_chunk(event([{"index": 0, "delta": delta, "finish_reason": None}]))

        self._start_stream("text/event-stream")
        if reply.role_chunk_first:
            self._write_chunk(event([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]))
            role_sent = True
        malformed = b'data: {"id": "' + cid.encode() + b'", "choices": [{"delta": {"content": \n\n'
        if not self._run_schedule(reply, clock, chunks, send=send, malformed=malformed):
            return
        stats = _Stats(reply, req, clock, len(chunks))
        final_delta: dict[str, Any] = {} if role_sent else {"role": "assistant"}
        extra = {"timings": stats.llamacpp_timings()} if reply.timings else {}
        self._write_chunk(event([{"index": 0, "delta": final_delta, "finish_reason": finish}], **extra))
        options = req["body"].get("stream_options") or {}
        if reply.usage and isinstance(options, dict) and options.get("include_usage"):
            self._write_chunk(event([], usage=stats.openai_usage(), **extra))
        self._write_chunk(b"data: [DONE]\n\n")
        self._end_stream()

    def _run_schedule(
        self,
        reply: Reply,
        clock: _Clock,
        chunks: list[_Chunk],
        send: Callable[[_Chunk], None] | None,
        malformed: bytes = b"",
    ) -> bool:
        """Emit (or, for non-streamed replies, just wait out) each chunk at its time.

        Returns False when the reply was cut by ``drop_after_chunks`` (after that many chunks,
        or after the last one if the reply is shorter) and nothing more may be sent. The
        malformed line goes right after the first chunk.
        """
        n = len(chunks)
        half = n // 2 if n >= 2 else n
        delay = reply.token_delay_s
        for i, chunk in enumerate(chunks):
            if reply.drop_after_chunks is not None and i >= reply.drop_after_chunks:
                return self._drop()
            clock.wait_until(reply.first_delay_s + i * delay + (reply.stall_s if half and i >= half else 0.0))
            if send is not None:
                send(chunk)
            clock.mark_token_chunk()
            if i == 0 and send is not None and reply.malformed_chunk:
                self._write_chunk(malformed)
        if reply.drop_after_chunks is not None:  # a reply shorter than N still ends cut
            return self._drop()
        if n == 0 and send is not None and reply.malformed_chunk:
            self._write_chunk(malformed)
        clock.wait_until(reply.first_delay_s + max(n - 1, 0) * delay + reply.stall_s)
        return True

    def _drop(self) -> bool:
        """Cut the connection now: no terminating chunk, no final message, no usage."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return False

    # --- Ollama ---------------------------------------------------------------------------

    def _ollama_tags(self, req: dict) -> None:
        ep = self.server.endpoint
        models = []
        for m in ep.models:
            info = ep._show(m)
            models.append(
                {
                    "name": m,
                    "model": m,
                    "modified_at": "2024-01-01T00:00:00Z",
                    "size": 4_000_000_000,
                    "digest": hashlib.sha256(m.encode("utf-8")).hexdigest(),
                    "details": info["details"],
                }
            )
        self._send_json(200, {"models": models})

    def _ollama_show(self, req: dict) -> None:
        ep = self.server.endpoint
        if not ep._known_model(req["model"]):
            self._send_error(404, f"model '{req['model']}' not found")
            return
        self._send_json(200, ep._show(req["model"]))

    def _ollama_chat(self, req: dict) -> None:
        reply = self._reply_for(req)
        if reply is None:
            return
        ep = self.server.endpoint
        clock = _Clock(ep._killed)
        model = req["model"] or ep.models[0]
        per = max(1, int(reply.tokens_per_chunk))
        chunks = _text_chunks("reasoning", reply.reasoning, per) + _text_chunks("content", reply.content, per)
        tool_calls = [
            {"function": {"name": c.get("name", ""), "arguments": _arguments_object(c.get("arguments"))}}
            for c in reply.tool_calls
        ]

        def final(message: dict) -> dict:
            stats = _Stats(reply, req, clock, len(chunks))
            obj = {"model": model, "created_at": _now_iso(), "message": message}
            obj.update(done=True, done_reason=reply.finish_reason)
            obj.update(stats.ollama_metrics(reply.usage))
            return obj

        if not req["stream"]:
            if not self._run_schedule(reply, clock, chunks, send=None):
                return
            message: dict[str, Any] = {"role": "assistant", "content": reply.content}
            if reply.reasoning:
                message["thinking"] = reply.reasoning
            if tool_calls:
                message["tool_calls"] = tool_calls
            data = json.dumps(final(message)).encode("utf-8")
            if reply.malformed_chunk:
                data = data[: len(data) // 2]
            self._send_raw(200, data, "application/json")
            return

        def line(obj: dict) -> bytes:
            return json.dumps(obj).encode("utf-8") + b"\n"

        def send(chunk: _Chunk) -> None:
            message = {"role": "assistant", "content": chunk.text if chunk.kind == "content" else ""}
            if chunk.kind == "reasoning":
                message["thinking"] = chunk.text
            self._write_chunk(
                line({"model": model, "created_at": _now_iso(), "message": message, "done": False})
            )

        self._start_stream("application/x-ndjson")
        malformed = b'{"model": "' + model.encode() + b'", "message": {"content": \n'
        if not self._run_schedule(reply, clock, chunks, send=send, malformed=malformed):
            return
        message = {"role": "assistant", "content": ""}
        if tool_calls:
            message["tool_calls"] = tool_calls
        self._write_chunk(line(final(message)))
        self._end_stream()


_DEFAULT_DETAILS = {
    "format": "gguf",
    "family": "scripted",
    "families": ["scripted"],
    "parameter_size": "7B",
    "quantization_level": "Q4_K_M",
}
_DEFAULT_MODEL_INFO = {
    "general.architecture": "scripted",
    "general.parameter_count": 7_000_000_000,
    "scripted.context_length": 4096,
}


class ScriptedEndpoint:
    """A real local HTTP server answering OpenAI and Ollama routes from a script.

    ``responder(req) -> Reply | str`` decides each chat reply; ``req`` holds ``api``,
    ``path``, ``body``, ``headers`` (lower-case keys), ``messages``, ``tools``, ``model``,
    ``stream`` and ``received_at`` (``time.monotonic()``, for concurrency checks). Every
    request, chat or not, is appended to ``received`` in that shape.

    ``model_details`` maps a model name to overrides for ``/api/show``: a dict whose
    ``"details"`` and ``"model_info"`` are merged over the defaults (other keys, e.g.
    ``"capabilities"``, are added as is); ``"details"`` also feeds ``/api/tags``.
    """

    def __init__(
        self,
        responder: Callable[[dict], Reply | str] | None = None,
        *,
        models: Iterable[str] = ("scripted-model",),
        model_details: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        self.responder = responder if responder is not None else (lambda req: Reply(content="ok"))
        self.models = tuple(models)
        if not self.models:
            raise ValueError("ScriptedEndpoint needs at least one model name")
        self.model_details = dict(model_details or {})
        self.received: list[dict] = []
        self.url = ""
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._connections: set[socket.socket] = set()
        self._killed = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- ready-made responders -------------------------------------------------------------

    @classmethod
    def constant(cls, text: Reply | str, **kwargs: Any) -> "ScriptedEndpoint":
        """Always the same reply."""
        reply = _as_reply(text)
        return cls(lambda req: reply, **kwargs)

    @classmethod
    def replies(cls, items: Iterable[Reply | str], **kwargs: Any) -> "ScriptedEndpoint":
        """The given replies in order of arrival, cycling; safe under concurrent requests."""
        script = [_as_reply(item) for item in items]
        if not script:
            raise ValueError("replies() needs at least one reply")
        lock, counter = threading.Lock(), itertools.count()

        def responder(req: dict) -> Reply:
            with lock:
                return script[next(counter) % len(script)]

        return cls(responder, **kwargs)

    @classmethod
    def from_map(
        cls,
        mapping: Mapping[str, Reply | str],
        default: Reply | str = Reply(content="ok"),
        **kwargs: Any,
    ) -> "ScriptedEndpoint":
        """The reply of the first key (in mapping order) found in the messages' text."""
        table = [(key, _as_reply(value)) for key, value in mapping.items()]
        fallback = _as_reply(default)

        def responder(req: dict) -> Reply:
            text = "\n".join(_message_text(m) for m in req["messages"])
            for key, reply in table:
                if key in text:
                    return reply
            return fallback

        return cls(responder, **kwargs)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "ScriptedEndpoint":
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.endpoint = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-endpoint", daemon=True
        )
        self._thread.start()
        return self

    def kill(self) -> None:
        """Die like a crashed server: cut in-flight streams, stop listening.

        Afterwards a connect to ``url`` is refused (ECONNREFUSED), which is what a client
        sees when a local llama.cpp or Ollama process has gone.
        """
        self._killed.set()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def stop(self) -> None:
        """Shut down for good (idempotent); streams still running are cut, not awaited."""
        self.kill()

    def __enter__(self) -> "ScriptedEndpoint":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # --- internals used by the handler ------------------------------------------------------

    def _record(self, req: dict) -> None:
        with self._lock:
            self.received.append(req)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)
        if add and self._killed.is_set():
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def _known_model(self, name: str) -> bool:
        if name in self.models:
            return True
        # Ollama treats "name" and "name:latest" as the same model.
        base = name[: -len(":latest")] if name.endswith(":latest") else name + ":latest"
        return base in self.models

    def _show(self, name: str) -> dict:
        override = dict(self.model_details.get(name, {}))
        details = {**_DEFAULT_DETAILS, **dict(override.pop("details", {}))}
        model_info = {**_DEFAULT_MODEL_INFO, **dict(override.pop("model_info", {}))}
        return {"details": details, "model_info": model_info, **override}
