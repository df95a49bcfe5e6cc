"""The harness interface. ``raw`` is the identity; text formats override the hooks."""
from __future__ import annotations


class Harness:
    name = "base"
    native_tools = True  # tools travel in the API's "tools" field

    def ask(self, provider, model: str, messages: list[dict], tools: list[dict] | None, *, on_delta=None, **sampling):
        """One turn in this format: render, send through ``provider``, parse.
        Returns (reply dict, ChatResult). The one place a harness meets a provider."""
        msgs, api_tools = self.render(messages, tools)
        kw = {"on_delta": on_delta} if on_delta is not None else {}
        res = provider.chat(model, msgs, tools=api_tools, stream=True, **kw, **sampling)
        return self.parse(res), res

    def render(self, messages: list[dict], tools: list[dict] | None) -> tuple[list[dict], list[dict] | None]:
        """History + tool specs -> what the provider is sent."""
        return messages, tools

    def parse(self, result) -> dict:
        """A ChatResult -> {"content", "reasoning", "tool_calls": [{"id","name","arguments","arguments_raw"}], "finish_reason"}.

        ``<think>`` blocks are split off here too (providers already do it; a result that
        did not pass through one must not get its reasoning scored as the answer)."""
        from benchloop.providers.base import split_think

        content, think = split_think(result.content or "")
        reasoning = "\n".join(x for x in ((result.reasoning or "").strip(), think) if x)
        return {
            "content": content,
            "reasoning": reasoning,
            "tool_calls": list(result.tool_calls or []),
            "finish_reason": result.finish_reason,
        }

    def encode_reply(self, reply: dict) -> dict:
        """What a model that speaks this format sends over the wire for a logical reply
        ``{"content", "reasoning"?, "tool_calls"?: [{"name", "arguments"}]}``:
        ``{"content": str, "tool_calls": [{"name", "arguments"}]}``. Native format: the
        calls travel as API tool calls (tests play reference answers through it)."""
        return {
            "content": reply.get("content") or "",
            "tool_calls": [{"name": c.get("name", ""), "arguments": c.get("arguments", {})} for c in reply.get("tool_calls") or []],
        }

    def assistant_message(self, reply: dict) -> dict:
        """How the model's own turn is kept in the history (OpenAI shape)."""
        import json

        msg = {"role": "assistant", "content": reply.get("content") or ""}
        if reply.get("tool_calls"):
            msg["tool_calls"] = [
                {
                    "id": tc.get("id") or f"call_{i}",
                    "type": "function",
                    "function": {"name": tc["name"], "arguments": tc.get("arguments_raw") or json.dumps(tc.get("arguments") or {})},
                }
                for i, tc in enumerate(reply["tool_calls"])
            ]
        return msg

    def tool_message(self, call: dict, result) -> dict:
        """A tool's result fed back to the model."""
        import json

        content = result if isinstance(result, str) else json.dumps(result, sort_keys=True)
        return {"role": "tool", "tool_call_id": call.get("id") or "call_0", "name": call.get("name"), "content": content}
