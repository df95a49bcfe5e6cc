"""Text tool-call formats: hermes, qwen and pi.

Why they exist: many models were never trained on an API's native ``tools`` field but
were taught a text convention instead. Measuring a model through the convention it
knows (or does not know) is half of "which model + harness works for me".

- ``hermes``: tool schemas in the system prompt inside ``<tools>…</tools>``; the model
  answers ``<tool_call>{"name": …, "arguments": {…}}</tool_call>``; results come back in
  a user turn as ``<tool_response>…</tool_response>``.
- ``qwen``: the same idea with ``<function_call>…</function_call>`` and
  ``<function_result>…</function_result>``.
- ``pi``: reasoning first inside ``<think>…</think>``, then Hermes-style tags.

A text harness never hands the API native ``tools`` or ``role: tool`` messages: the whole
history, including the model's own earlier calls, is rendered in the text form the system
prompt taught, so the model sees one consistent convention.

Parsing is a pure function over hostile text (:func:`parse_tagged_calls`): bounded input,
no backtracking regexes, never raises. Malformed JSON inside a tag is kept as a call
with ``arguments=None`` and the raw text, so the checker can fail it visibly.
"""
from __future__ import annotations

import json
import re

from benchloop.harnesses.base import Harness

MAX_PARSE_CHARS = 200_000  # longer model output is cut before parsing
MAX_CALLS = 32  # calls kept per reply; a model spraying hundreds gets the first 32
MAX_NAME = 200

_TAG_CACHE: dict[str, tuple[re.Pattern, re.Pattern]] = {}
_FENCE_OPEN = re.compile(r"^```[ \t]*[A-Za-z0-9_+-]{0,20}[ \t]*\n?")
_FENCE_CLOSE = re.compile(r"\n?[ \t]*```[ \t]*$")
_EMPTY_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+-]{0,20}[ \t]*(?:\n[ \t]*){0,20}```")
_NAME_IN_BROKEN = re.compile(r'"name"[ \t\r\n]{0,20}:[ \t\r\n]{0,20}"([^"\\\n]{1,200})"')
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")


def _tags(tag: str) -> tuple[re.Pattern, re.Pattern]:
    pats = _TAG_CACHE.get(tag)
    if pats is None:
        t = re.escape(tag)
        pats = (re.compile(rf"<[ \t]{{0,8}}{t}[ \t]{{0,8}}>", re.IGNORECASE), re.compile(rf"<[ \t]{{0,8}}/[ \t]{{0,8}}{t}[ \t]{{0,8}}>", re.IGNORECASE))
        _TAG_CACHE[tag] = pats
    return pats


def _strip_fence(body: str) -> str:
    """```json … ``` around (or inside) a call body is a common habit; drop the fence."""
    b = body.strip()
    if b.startswith("```"):
        b = _FENCE_OPEN.sub("", b, count=1)
        b = _FENCE_CLOSE.sub("", b, count=1)
    return b.strip()


def _decode_json(body: str):
    """The first JSON value in ``body`` (chat noise after it is ignored); raises ValueError."""
    dec = json.JSONDecoder()
    b = body.strip()
    try:
        return json.loads(b)
    except (ValueError, RecursionError):
        pass
    starts = [i for i in (b.find("{"), b.find("[")) if i >= 0]
    if not starts:
        raise ValueError("no JSON object")
    try:
        val, _ = dec.raw_decode(b, min(starts))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return val


def _call_from_obj(obj, raw: str) -> dict | None:
    """A decoded ``{"name", "arguments"}`` object as a call; None when it is not one."""
    if not isinstance(obj, dict):
        return None
    name = obj.get("name")
    if not isinstance(name, str):
        fn = obj.get("function")  # OpenAI-shaped {"function": {"name", "arguments"}}
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            obj, name = fn, fn["name"]
        else:
            return None
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):  # arguments sent as a JSON string, as the OpenAI wire does
        try:
            args = json.loads(args)
        except (ValueError, RecursionError):
            return {"name": name[:MAX_NAME], "arguments": None, "arguments_raw": args[:MAX_PARSE_CHARS]}
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return {"name": name[:MAX_NAME], "arguments": None, "arguments_raw": raw}
    try:
        args_raw = json.dumps(args, sort_keys=True, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        args_raw = raw
    return {"name": name[:MAX_NAME], "arguments": args, "arguments_raw": args_raw}


def parse_call_body(body: str) -> list[dict]:
    """The calls inside one tag body: one object, a list of objects, or a broken one.

    A body that is not valid JSON still counts as an attempted call (``arguments`` None,
    ``arguments_raw`` the text; the name is recovered when it can be), because the model
    did try to call a tool and the score must say it failed, not that it stayed silent.
    """
    b = _strip_fence(body)
    if not b:
        return []
    try:
        val = _decode_json(b)
    except ValueError:
        m = _NAME_IN_BROKEN.search(b[:10_000])
        return [{"name": m.group(1) if m else "", "arguments": None, "arguments_raw": b[:MAX_PARSE_CHARS]}]
    items = val if isinstance(val, list) else [val]
    calls = []
    for item in items[:MAX_CALLS]:
        try:
            raw = json.dumps(item, ensure_ascii=False)
        except (ValueError, TypeError, RecursionError):
            raw = b
        call = _call_from_obj(item, raw)
        calls.append(call if call is not None else {"name": "", "arguments": None, "arguments_raw": raw[:MAX_PARSE_CHARS]})
    return calls


def parse_tagged_calls(text: str, tag: str) -> tuple[list[dict], str]:
    """``(calls, remaining_text)`` for every ``<tag>…</tag>`` block in ``text``.

    Tolerates spaces inside the tags, any case, a missing closing tag on the last block
    (it runs to the end, as a reply cut by ``max_tokens`` does), code fences inside or
    around the blocks, several blocks, and chat before, between and after them. Calls are
    ``{"name", "arguments": dict | None, "arguments_raw": str}``; the remaining text has
    the blocks, stray closing tags and emptied fences removed. Never raises.
    """
    if not isinstance(text, str) or not text:
        return [], "" if not isinstance(text, str) else text
    text = text[:MAX_PARSE_CHARS]
    open_re, close_re = _tags(tag)
    calls: list[dict] = []
    kept: list[str] = []
    pos = 0
    while True:
        m = open_re.search(text, pos)
        if m is None:
            kept.append(text[pos:])
            break
        kept.append(text[pos : m.start()])
        end = close_re.search(text, m.end())
        body = text[m.end() : end.start()] if end else text[m.end() :]
        if len(calls) < MAX_CALLS:
            calls.extend(parse_call_body(body)[: MAX_CALLS - len(calls)])
        if end is None:
            break
        pos = end.end()
    rest = close_re.sub("", "".join(kept))
    if "```" in rest:
        rest = _EMPTY_FENCE.sub("", rest)
    rest = _BLANK_RUNS.sub("\n\n", rest)
    return calls, rest.strip()


def encode_call(name: str, arguments, tag: str) -> str:
    """One call as the format writes it. ``<`` inside JSON strings is escaped (``\\u003c``),
    so no name or value can close the tag early and the parser round-trips anything."""
    if isinstance(arguments, str):  # already-serialized (possibly malformed) arguments
        body = '{"name": ' + json.dumps(name, ensure_ascii=False) + ', "arguments": ' + arguments + "}"
    else:
        body = json.dumps({"name": name, "arguments": arguments if arguments is not None else {}}, ensure_ascii=False)
    return f"<{tag}>\n{body.replace('<', chr(92) + 'u003c')}\n</{tag}>"


def _tool_schemas(tools: list[dict]) -> list[dict]:
    """The function part of OpenAI tool specs (what the model needs to see)."""
    out = []
    for t in tools or []:
        if isinstance(t, dict):
            out.append(t.get("function", t) if t.get("type", "function") == "function" else t)
    return out



def _json_or_text(value):
    """A JSON string decoded (tool results and call arguments travel as JSON text in
    OpenAI-shaped history); anything else, or text that is not JSON, as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            pass
    return value

class TextToolHarness(Harness):
    """Shared machinery of the text formats; subclasses set the tags and the wording."""

    native_tools = False
    call_tag = "tool_call"
    result_tag = "tool_response"
    think = False  # teach and encode a <think> block first

    # --- prompt ---------------------------------------------------------------------------
    def tools_prompt(self, tools: list[dict]) -> str:
        schemas = "\n".join(json.dumps(s, ensure_ascii=False, sort_keys=True) for s in _tool_schemas(tools))
        example = encode_call("<function-name>", {"<arg-name>": "<value>"}, self.call_tag).replace("\\u003c", "<")
        return (
            "You can call functions to help with the user's request. The available functions are "
            f"described as JSON schemas inside <tools></tools>:\n<tools>\n{schemas}\n</tools>\n"
            f"To call a function, reply with a JSON object holding its name and arguments inside "
            f"<{self.call_tag}></{self.call_tag}> tags, like this:\n{example}\n"
            f"Use one <{self.call_tag}> block per call; you may make several calls at once. Only call the "
            "functions listed above, with the argument names and types their schemas give. Function results "
            f"come back inside <{self.result_tag}></{self.result_tag}> tags. If no function fits the request, "
            "answer directly in plain text without any call."
        )

    def think_prompt(self) -> str:
        return (
            "Before answering, reason step by step inside <think></think> tags. After </think>, give "
            "your answer or your function calls."
        )

    def system_addition(self, tools) -> str:
        parts = []
        if self.think:
            parts.append(self.think_prompt())
        if tools:
            parts.append(self.tools_prompt(tools))
        return "\n\n".join(parts)

    # --- history --------------------------------------------------------------------------
    def _result_block(self, msg: dict) -> str:
        content = _json_or_text(msg.get("content"))
        payload = json.dumps({"name": msg.get("name") or "", "content": content}, ensure_ascii=False)
        return f"<{self.result_tag}>\n{payload}\n</{self.result_tag}>"

    def _assistant_text(self, msg: dict) -> str:
        parts = [msg["content"]] if isinstance(msg.get("content"), str) and msg["content"] else []
        for tc in msg.get("tool_calls") or []:
            fn = tc.get("function") or tc
            parts.append(encode_call(fn.get("name") or "", _json_or_text(fn.get("arguments")), self.call_tag))
        return "\n".join(parts)

    def render(self, messages, tools):
        """OpenAI-shaped history -> plain text messages in this format; never native tools."""
        out: list[dict] = []
        addition = self.system_addition(tools)
        msgs = list(messages or [])
        if addition:
            if msgs and msgs[0].get("role") == "system" and isinstance(msgs[0].get("content"), str):
                first = msgs.pop(0)
                out.append({"role": "system", "content": (first["content"].rstrip() + "\n\n" + addition).strip()})
            else:
                out.append({"role": "system", "content": addition})
        for m in msgs:
            role = m.get("role")
            if role == "tool":
                text, role = self._result_block(m), "user"
            elif role == "assistant":
                text = self._assistant_text(m)
            else:
                text = m.get("content")
            # consecutive user turns (several results, or results then a question) merge:
            # many chat templates insist that roles alternate
            if out and role == "user" and out[-1]["role"] == "user" and isinstance(text, str) and isinstance(out[-1]["content"], str):
                out[-1] = {"role": "user", "content": out[-1]["content"] + "\n" + text}
            else:
                out.append({"role": role, "content": text if text is not None else ""})
        return out, None

    # --- reading the reply ----------------------------------------------------------------
    def parse(self, result) -> dict:
        base = super().parse(result)  # reasoning split off (provider + <think> in content)
        calls, rest = parse_tagged_calls(base["content"], self.call_tag)
        native = list(base["tool_calls"])  # a server that parsed the tags itself
        out_calls = []
        for i, c in enumerate(native + calls):
            out_calls.append({"id": c.get("id") or f"call_{i}", "name": c.get("name") or "", "arguments": c.get("arguments"), "arguments_raw": c.get("arguments_raw", "")})
        return {"content": rest, "reasoning": base["reasoning"], "tool_calls": out_calls, "finish_reason": base["finish_reason"]}

    def encode_reply(self, reply: dict) -> dict:
        parts = []
        if self.think and reply.get("reasoning"):
            parts.append(f"<think>\n{reply['reasoning']}\n</think>")
        if reply.get("content"):
            parts.append(reply["content"])
        for c in reply.get("tool_calls") or []:
            parts.append(encode_call(c.get("name", ""), c.get("arguments", {}), self.call_tag))
        return {"content": "\n".join(parts), "tool_calls": []}


class HermesHarness(TextToolHarness):
    name = "hermes"


class QwenHarness(TextToolHarness):
    name = "qwen"
    call_tag = "function_call"
    result_tag = "function_result"


class PiHarness(TextToolHarness):
    name = "pi"
    think = True
