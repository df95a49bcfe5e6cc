"""The toolcall driver: tool calls turn by turn, with BenchLoop playing the tools.

Each turn the model sees the task's tools; when a step expects calls and the model made
them, the scripted results (or a tool-like error for a call that did not match) go back
and the next turn starts. Which results to send is the checker's pure
:func:`~benchloop.checkers.toolcall.next_turn`, so the live loop and the offline replay
the checker judges can never disagree.
"""
from __future__ import annotations

import time

from benchloop.checkers import toolcall
from benchloop.record import Exchange, clip
from benchloop.tasks import task_messages

MAX_TURN_TEXT = 20_000
MAX_CALLS_KEPT = 100


def run(task: dict, conv) -> Exchange:
    """Play the task's turns; ``Exchange.answer`` is the list of parsed replies."""
    with conv.task(task) as ex:
        replies: list[dict] = []
        ex.answer = replies
        messages = task_messages(task)
        for i in range(len(toolcall.steps_of(task))):
            t0 = time.perf_counter()
            reply, res = conv.chat(messages, task.get("tools"), task=task)
            replies.append(reply)
            ex.turns.append(_turn(len(replies), reply, res, len(messages), t0))
            ex.reply = dict(reply, tool_calls=[c for r in replies for c in (r.get("tool_calls") or [])][:MAX_CALLS_KEPT])
            results = toolcall.next_turn(task, i, reply)
            if results is None:
                break
            messages = messages + [conv.harness.assistant_message(reply)]
            for j, (call, result) in enumerate(zip(reply.get("tool_calls") or [], results)):
                messages.append(conv.harness.tool_message(dict(call, id=call.get("id") or f"call_{j}"), result))
    return ex


def _turn(n: int, reply: dict, res, messages_sent: int, t0: float) -> dict:
    return {
        "turn": n,
        "content": clip(reply.get("content"), MAX_TURN_TEXT),
        "reasoning": clip(reply.get("reasoning"), MAX_TURN_TEXT),
        "tool_calls": reply.get("tool_calls") or [],
        "finish_reason": res.finish_reason,
        "latency_ms": round(res.latency_ms, 3),
        "ttft_ms": None if res.ttft_ms is None else round(res.ttft_ms, 3),
        "prompt_tokens": res.prompt_tokens,
        "completion_tokens": res.completion_tokens,
        "messages_sent": messages_sent,
        "wall_ms": round((time.perf_counter() - t0) * 1000, 3),
    }
