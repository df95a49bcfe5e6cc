"""An in-process model that answers from a script, for tests that play many replies.

Why: the gaming and phrasing tests put thousands of replies through the real driver,
harness and checker path. The scripted HTTP endpoint (``scripted.py``) proves the wire
formats; this replay skips only the socket. Each scripted reply is encoded the way a
model trained on the harness would write it (``Harness.encode_reply``), so the harness's
render and parse run for real.
"""
from __future__ import annotations

import json
import time

from benchloop.providers.base import ChatResult


class Replay:
    """A provider whose model is ``reply_for(task, turn, messages) -> logical reply``."""

    def __init__(self, harness, reply_for, task):
        self.harness, self.reply_for, self.task, self.turn = harness, reply_for, task, 0

    def chat(self, model, messages, *, tools=None, stream=True, **_kw):
        reply = self.reply_for(self.task, self.turn, messages)
        self.turn += 1
        wire = self.harness.encode_reply(reply)
        calls = []
        for i, c in enumerate(wire.get("tool_calls") or []):
            args = c.get("arguments", {})
            calls.append({"id": f"call_{i}", "name": c.get("name", ""), "arguments": args if isinstance(args, dict) else None, "arguments_raw": json.dumps(args)})
        now = time.perf_counter()
        return ChatResult(content=wire.get("content") or "", reasoning=reply.get("reasoning") or "", tool_calls=calls, finish_reason="tool_calls" if calls else "stop", t_sent=now, t_done=now + 0.001, token_source="none")


def play(task: dict, harness_name: str, reply_for, suite_defaults: dict | None = None) -> dict:
    """One task through driver, harness and checker with the scripted model; the record."""
    from benchloop.drivers import run_task
    from benchloop.drivers.conversation import Conversation
    from benchloop.harnesses import get_harness

    harness = get_harness(harness_name)
    conv = Conversation(provider=Replay(harness, reply_for, task), harness=harness, model="replay", suite_defaults=suite_defaults or {}, retries=0)
    return run_task(task, conv)


def reference(task, turn, messages) -> dict:
    """The task's own reference reply (one per turn for multi-turn tasks)."""
    ref = task["reference"]
    if isinstance(ref, list):
        return ref[turn] if turn < len(ref) else {"content": ""}
    return ref if isinstance(ref, dict) else {"content": str(ref)}
