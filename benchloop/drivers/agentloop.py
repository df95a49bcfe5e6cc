"""The agent driver: a real multi-turn tool loop.

Each turn the model's reply is played against the task's :class:`Episode` (its tool
calls run on the task's fresh state); the results go back in the form the harness
teaches, until a reply without tool calls or the turn limit. The trace is kept turn by
turn, so a provider failure mid-task still leaves everything measured so far.
"""
from __future__ import annotations

from benchloop.agent_episode import Episode, max_turns
from benchloop.record import Exchange, clip
from benchloop.tasks import task_messages


def run(task: dict, conv) -> Exchange:
    """Play the task; ``Exchange.answer`` is the episode's outcome for the checker."""
    ep = Episode(task)
    with conv.task(task) as ex:
        history = task_messages(task)
        try:
            for _ in range(max_turns(task, conv.suite_defaults)):
                n = len(history)
                reply, res = conv.chat(list(history), ep.tools, task=task)
                kept, results = ep.take(reply, res, messages=n)
                history.append(conv.harness.assistant_message(kept))
                if not results:
                    break
                for call, result in results:
                    history.append(conv.harness.tool_message(call, result))
        finally:
            _summarize(ex, ep)
    return ex


def _summarize(ex: Exchange, ep: Episode) -> None:
    """The episode's trace into the record fields the agent suite owns."""
    out = ep.outcome()
    ex.answer = out
    ex.turns = ep.turns
    reasons = [t.get("finish_reason") for t in ep.turns]
    last = ep.turns[-1] if ep.turns else None
    ex.extra.update(
        length_turns=sum(1 for r in reasons if r == "length"),
        reasoning=clip("\n\n".join(t["reasoning"] for t in ep.turns if t.get("reasoning"))),
        tool_calls=[c for t in ep.turns for c in t["calls"]],
        output=clip(out["content"] or "") or (last["output"] if last is not None and not last["calls"] else ""),
    )
    if reasons:
        ex.extra["finish_reason"] = "length" if "length" in reasons else reasons[-1]
