"""Drivers: the part of a task's life that talks to the model.

A driver takes a task and a :class:`~benchloop.drivers.conversation.Conversation` (the
model behind a harness, with retries and deadlines) and returns an
:class:`~benchloop.record.Exchange`: what the model did. It never judges; the suite's
checker does that from the Exchange's ``answer``. One driver per way of asking:

- ``chat``: one turn (coding, dataextract, instructfollow, reasonmath)
- ``toolround``: tool calls with scripted results, turn by turn (toolcall)
- ``agentloop``: a real multi-turn loop over stateful tools (agent)
- ``speed``: a timed scenario or the concurrency sweep (speed)

The suite modules in ``suites/`` call driver -> checker -> record themselves, so each
reads as its task's life; :func:`run_task` does the same for code outside pytest
(benchmarks, tests, the dashboard) from the table in :mod:`benchloop.catalog`.
"""
from __future__ import annotations


def run_task(task: dict, conv):
    """Drive, judge and record one task outside pytest; returns the record as plain
    data (``TaskRecord.to_dict()``, the form tasks.jsonl and run.json keep)."""
    import importlib
    import time

    from benchloop.catalog import SUITES
    from benchloop.record import TaskRecord

    driver_name, checker_name, _ = SUITES[task["suite"]]
    ex = importlib.import_module(driver_name).run(task, conv)
    verdict = judge(importlib.import_module(checker_name), task, ex) if ex.error is None else None
    return TaskRecord.build(task, ex, verdict, wall_ms=(time.perf_counter() - ex.t0) * 1000, max_tokens=conv.max_tokens(task)).to_dict()


def judge(checker, task: dict, ex):
    """``checker.check(task, ex.answer)`` as a Verdict; a checker bug becomes a harness
    error on the Exchange (and no verdict) instead of ending the run."""
    import traceback

    from benchloop.drivers.conversation import HarnessFailure
    from benchloop.record import Verdict

    try:
        return Verdict.of(checker.check(task, ex.answer))
    except Exception as exc:  # a checker must never raise; if one does, the run goes on
        ex.error = HarnessFailure(traceback.format_exception_only(type(exc), exc)[-1].strip())
        return None
