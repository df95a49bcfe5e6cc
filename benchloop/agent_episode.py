"""One agent episode: the environment a model (or a script) plays against.

Why apart from the checker: the episode runs tool calls on a task's state, which is
neither judging nor talking to a model. The live loop (``benchloop.drivers.agentloop``)
and the offline replay the checker's ``validate`` uses (:func:`simulate`) both drive an
:class:`Episode`, so a script and a model are played by exactly the same rules.
"""
from __future__ import annotations

import json

from benchloop import agent_tools as at
from benchloop.record import nesting_exceeds

DEFAULT_MAX_TURNS = 8
MAX_CALLS_PER_TURN = 16
MAX_TRACE_TEXT = 20_000



def _clip(s, n: int = MAX_TRACE_TEXT) -> str:
    s = s if isinstance(s, str) else ""
    return s if len(s) <= n else s[:n] + f"\n…[{len(s) - n} more characters cut]"


def _clean_calls(calls) -> list[dict]:
    """Tool calls as the harness parsed them, made safe to keep and to feed back."""
    out = []
    for i, c in enumerate(calls if isinstance(calls, list) else []):
        if not isinstance(c, dict):
            continue
        args = c.get("arguments")
        raw = c.get("arguments_raw")
        if nesting_exceeds(args):
            args = None  # refused like unparsable arguments: the tool answers with an error
        if not isinstance(raw, str) or not raw:
            raw = json.dumps(args) if isinstance(args, dict) else ""
        out.append(
            {
                "id": str(c.get("id") or f"call_{i}")[:100],
                "name": str(c.get("name") or "")[:200],
                "arguments": args if isinstance(args, dict) else None,
                "arguments_raw": _clip(raw, 20_000),
            }
        )
    return out


def max_turns(task: dict, defaults: dict | None = None) -> int:
    return int(task.get("max_turns") or (defaults or {}).get("max_turns") or DEFAULT_MAX_TURNS)


class Episode:
    """The environment side of one agent task: the task's fresh state, the calls made,
    the turn trace. :meth:`take` plays one model reply against it (runs its tool calls)
    and says what goes back; :meth:`outcome` is what :func:`check` grades. The live loop
    (``benchloop.drivers.agentloop``) and :func:`simulate` both drive it, so a script and
    a model are played by the same rules."""

    def __init__(self, task: dict):
        self.task = task
        self.state = at.new_state(task.get("state"))
        self.offered = list(task.get("tools") or [])
        self.tools = at.specs(self.offered)
        self.calls: list[dict] = []
        self.turns: list[dict] = []
        self.final: str | None = None

    def take(self, reply, res=None, *, messages: int = 0) -> tuple[dict, list]:
        """One turn: returns (the reply as kept in the history, [(call, result)...]);
        an empty list means the reply was the final answer."""
        reply = reply if isinstance(reply, dict) else {}
        content = reply.get("content") if isinstance(reply.get("content"), str) else ""
        calls = _clean_calls(reply.get("tool_calls"))
        dropped = max(0, len(calls) - MAX_CALLS_PER_TURN)
        calls = calls[:MAX_CALLS_PER_TURN]  # a flood of calls is cut, not fed back
        turn = {
            "turn": len(self.turns) + 1,
            "messages": messages,
            "output": _clip(content),
            "reasoning": _clip(reply.get("reasoning")),
            "finish_reason": reply.get("finish_reason") or (getattr(res, "finish_reason", None) if res else None),
            "calls": [],
            "dropped_calls": dropped,
        }
        if res is not None:
            turn.update(
                latency_ms=round(res.latency_ms, 3),
                ttft_ms=None if res.ttft_ms is None else round(res.ttft_ms, 3),
                prompt_tokens=res.prompt_tokens,
                completion_tokens=res.completion_tokens,
                reasoning_tokens=res.reasoning_tokens,
                token_source=res.token_source,
            )
        self.turns.append(turn)
        kept = {**reply, "content": content, "tool_calls": calls}
        if not calls:
            self.final = content
            return kept, []
        out = []
        for call in calls:
            result, status = at.execute(self.state, call["name"], call["arguments"], self.offered)
            entry = {"turn": turn["turn"], "id": call["id"], "name": call["name"], "arguments": call["arguments"], "arguments_raw": call["arguments_raw"], "status": status, "result": result}
            turn["calls"].append(entry)
            self.calls.append(entry)
            out.append((call, result))
        return kept, out

    def outcome(self) -> dict:
        """The final answer (None if the limit came first), every call with its status, the final state."""
        return {"content": self.final, "finished": self.final is not None, "calls": self.calls, "state": self.state, "turns": len(self.turns)}


def script_reply(item: dict, turn: int) -> dict:
    """A logical reply from a task's ``reference``/``wrong`` list, as a harness would parse it."""
    calls = []
    for j, c in enumerate(item.get("tool_calls") or []):
        args = c.get("arguments") or {}
        args = None if nesting_exceeds(args) else at.jsonable(args)
        calls.append({"id": f"call_{turn}_{j}", "name": c.get("name"), "arguments": args, "arguments_raw": json.dumps(args)})
    return {"content": item.get("content") or "", "reasoning": item.get("reasoning") or "", "tool_calls": calls, "finish_reason": "stop"}


def simulate(task: dict, script: list, limit: int | None = None) -> tuple[dict, list]:
    """The episode with a script instead of a model (no HTTP): (outcome, turns).

    The script is played blindly, turn by turn, whatever the tools answer; past its end
    the "model" says nothing more (an empty final answer)."""
    ep = Episode(task)
    for k in range(limit or max_turns(task)):
        _kept, results = ep.take(script_reply(script[k], k) if k < len(script) else {"content": ""})
        if not results:
            break
    return ep.outcome(), ep.turns
