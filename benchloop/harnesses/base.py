"""The harness interface. ``raw`` is the identity; text formats override the hooks."""
from __future__ import annotations


def task_messages(task: dict) -> list[dict]:
    """The conversation a task opens with: its ``messages``, or ``system`` + ``prompt``."""
    if task.get("messages"):
        return [dict(m) for m in task["messages"]]
    msgs = []
    if task.get("system"):
        msgs.append({"role": "system", "content": task["system"]})
    msgs.append({"role": "user", "content": task["prompt"]})
    return msgs


class Harness:
    name = "base"
    native_tools = True  # tools travel in the API's "tools" field

    def render(self, messages: list[dict], tools: list[dict] | None) -> tuple[list[dict], list[dict] | None]:
        """History + tool specs -> what the provider is sent."""
        return messages, tools

    def parse(self, result) -> dict:
        """A ChatResult -> {"content", "reasoning", "tool_calls": [{"id","name","arguments","arguments_raw"}], "finish_reason"}."""
        return {
            "content": result.content or "",
            "reasoning": result.reasoning or "",
            "tool_calls": list(result.tool_calls or []),
            "finish_reason": result.finish_reason,
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
