"""One task, start to finish: render -> provider -> parse -> check -> record.

Everything returned is plain JSON data (it rides the pytest report to the xdist
controller). A provider failure becomes ``error`` on the record, never an exception:
the run carries on and reliability says what happened.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

from benchloop.harnesses.base import task_messages
from benchloop.providers.base import ProviderError

DEFAULT_MAX_TOKENS = 512
MAX_RETRY_AFTER_S = 120.0  # a server asking for a longer pause fails the task instead of stalling the run
MAX_OUTPUT_CHARS = 100_000


@dataclass
class RunContext:
    provider: object
    harness: object
    model: str
    temperature: float = 0.0
    seed: int | None = 42
    max_tokens_override: int | None = None
    suite_defaults: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    retries: int = 2
    backoff_s: float = 0.5
    task_deadline_s: float | None = None
    run_deadline_at: float | None = None  # time.time() at which the whole run must stop
    retry_log: list = field(default_factory=list)
    wait_ms: float = 0.0  # time spent inside provider.chat for the current task (overhead benchmark)
    deadline_at: float | None = None  # perf_counter() at which this task must stop; set by start_task

    def start_task(self, t0: float) -> None:
        """Arm the task's wall deadline: its own limit, cut short by the run's deadline."""
        self.retry_log = []
        limits = []
        if self.task_deadline_s:
            limits.append(t0 + float(self.task_deadline_s))
        if self.run_deadline_at is not None:
            limits.append(t0 + max(0.0, self.run_deadline_at - time.time()))
        self.deadline_at = min(limits) if limits else None

    def _left_s(self) -> float | None:
        return None if self.deadline_at is None else self.deadline_at - time.perf_counter()

    def max_tokens(self, task: dict) -> int:
        if self.max_tokens_override:
            return int(self.max_tokens_override)
        return int(task.get("max_tokens") or self.suite_defaults.get("max_tokens") or DEFAULT_MAX_TOKENS)

    def chat(self, messages, tools=None, *, task=None, max_tokens=None, extra=None):
        """One model turn through the harness; returns (reply dict, ChatResult).

        Transient failures (see :func:`transient`) are retried up to ``retries`` times
        with exponential backoff, each retry logged in ``retry_log`` for the record; the
        task's wall deadline is checked before every request and bounds every wait.
        """
        msgs, api_tools = self.harness.render(messages, tools)
        attempt = 0
        while True:
            left = self._left_s()
            if left is not None and left <= 0:
                raise ProviderError("deadline", "task deadline exceeded before the request was sent")
            t_req = time.perf_counter()
            try:
                res = self.provider.chat(
                    self.model,
                    msgs,
                    tools=api_tools,
                    stream=True,
                    max_tokens=max_tokens or self.max_tokens(task or {}),
                    temperature=self.temperature,
                    seed=self.seed,
                    extra=extra,
                )
                self.wait_ms += (time.perf_counter() - t_req) * 1000
                return self.harness.parse(res), res
            except ProviderError as exc:
                self.wait_ms += (time.perf_counter() - t_req) * 1000
                if not transient(exc) or attempt >= self.retries:
                    raise
                wait = min(self.backoff_s * (2**attempt), 30.0)
                if exc.retry_after_s is not None:  # the server said how long: honour it, within reason
                    if exc.retry_after_s > MAX_RETRY_AFTER_S:
                        raise
                    wait = max(wait, exc.retry_after_s)
                left = self._left_s()
                if left is not None and wait >= left:
                    raise
                self.retry_log.append({"kind": exc.kind, "status": exc.status, "wait_s": round(wait, 3)})
                attempt += 1
                time.sleep(wait)


def transient(exc: ProviderError) -> bool:
    """Worth retrying: nothing was processed (connection refused) or the server said
    "later" (429, 502, 503). A timeout or a cut stream is not retried: the model may
    have done the work, and a retry would hide a real reliability problem."""
    if exc.kind == "connect":
        return "refused" in str(exc)
    return exc.kind == "http" and exc.status in (429, 502, 503)


def _clip(s: str | None, n: int = MAX_OUTPUT_CHARS) -> str:
    s = s or ""
    return s if len(s) <= n else s[:n] + f"\n…[{len(s) - n} more characters cut]"


def empty_record(task: dict, ctx: RunContext | None = None) -> dict:
    return {
        "suite": task.get("suite"),
        "task_id": task["id"],
        "score": 0.0,
        "passed": False,
        "error": None,
        "error_kind": None,
        "reason": "",
        "latency_ms": None,
        "ttft_ms": None,
        "ttfr_ms": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "reasoning_tokens": None,
        "token_source": "none",
        "finish_reason": None,
        "output": "",
        "reasoning": "",
        "tool_calls": [],
        "checks": [],
        "prompt": task_messages(task) if (task.get("prompt") or task.get("messages")) else [],
        "max_tokens": ctx.max_tokens(task) if ctx else None,
        "request": None,
        "response": None,
        "server_timings": None,
        "turns": [],
        "wall_ms": None,
    }


def fill_from_result(rec: dict, reply: dict, res) -> None:
    rec.update(
        latency_ms=round(res.latency_ms, 3),
        ttft_ms=None if res.ttft_ms is None else round(res.ttft_ms, 3),
        ttfr_ms=None if res.ttfr_ms is None else round(res.ttfr_ms, 3),
        prompt_tokens=res.prompt_tokens,
        completion_tokens=res.completion_tokens,
        reasoning_tokens=res.reasoning_tokens,
        token_source=res.token_source,
        finish_reason=res.finish_reason,
        output=_clip(reply.get("content")),
        reasoning=_clip(reply.get("reasoning")),
        tool_calls=reply.get("tool_calls") or [],
        request=res.request,
        response=res.response,
        server_timings=res.server_timings,
    )


def run_task(task: dict, ctx: RunContext) -> dict:
    """Run one task. Suites with their own loop (multi-turn) provide ``run(task, ctx)``
    in their checker module; everything else is a single turn."""
    from benchloop.checkers import registry

    checker = registry.get(task["suite"])
    t0 = time.perf_counter()
    rec = empty_record(task, ctx)
    ctx.wait_ms = 0.0
    if hasattr(ctx, "start_task"):
        ctx.start_task(t0)
    try:
        if checker is not None and hasattr(checker, "run"):
            rec = checker.run(task, ctx, rec)
        else:
            reply, res = ctx.chat(task_messages(task), task.get("tools"), task=task)
            fill_from_result(rec, reply, res)
            verdict = checker.check(task, reply)
            apply_verdict(rec, verdict)
    except ProviderError as exc:
        rec.update(error=str(exc), error_kind=exc.kind, score=0.0, passed=False, reason=f"provider error: {exc}")
    except Exception as exc:  # a bug in a harness or checker must not end the run
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        rec.update(error=f"harness error: {tb}", error_kind="harness", score=0.0, passed=False, reason=f"harness error: {tb}")
    rec["wall_ms"] = round((time.perf_counter() - t0) * 1000, 3)
    rec["model_wait_ms"] = round(ctx.wait_ms, 3)
    rec["retries"] = list(getattr(ctx, "retry_log", None) or [])
    return rec


def apply_verdict(rec: dict, verdict: dict) -> None:
    rec["score"] = float(max(0.0, min(100.0, verdict.get("score", 0.0))))
    rec["passed"] = bool(verdict.get("passed", rec["score"] >= 100.0))
    rec["reason"] = str(verdict.get("reason", ""))[:2000]
    rec["checks"] = verdict.get("checks") or []
    for k, v in verdict.items():
        if k not in ("score", "passed", "reason", "checks"):
            rec.setdefault("detail", {})[k] = v
