"""The plain driver: the task's messages in one turn, the parsed reply out."""
from __future__ import annotations

from benchloop.record import Exchange
from benchloop.tasks import task_messages


def run(task: dict, conv) -> Exchange:
    """Ask once. The checker judges ``Exchange.answer``: the parsed reply dict."""
    with conv.task(task) as ex:
        reply, _res = conv.chat(task_messages(task), task.get("tools"), task=task)
        ex.reply = ex.answer = reply
    return ex
