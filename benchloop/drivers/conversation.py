"""The model behind a harness, as drivers see it: one ``chat`` call per turn, with
retries for transient failures and the task's and the run's wall deadlines.

The harness owns the wire format (``Harness.ask`` renders, calls the provider and
parses), so a turn goes driver -> harness -> provider and back, once.
"""
from __future__ import annotations

import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field

from benchloop.providers.base import ProviderError
from benchloop.record import Exchange

DEFAULT_MAX_TOKENS = 512
MAX_RETRY_AFTER_S = 120.0  # a server asking for a longer pause fails the task instead of stalling the run


class HarnessFailure(Exception):
    """A bug in a harness, driver or checker, caught so the run carries on."""

    kind = "harness"


@dataclass
class Conversation:
    """Everything a driver needs to talk to the model (one per worker and suite)."""

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
    on_delta: object = None  # callable(text) for live streaming (the dashboard's chat)
    _ex: Exchange | None = None  # the task in progress (retries and wait time land on it)
    deadline_at: float | None = None  # perf_counter() at which this task must stop

    def max_tokens(self, task: dict) -> int:
        if self.max_tokens_override:
            return int(self.max_tokens_override)
        return int(task.get("max_tokens") or self.suite_defaults.get("max_tokens") or DEFAULT_MAX_TOKENS)

    @contextmanager
    def task(self, task: dict):
        """One task's Exchange: arms the deadline, and turns a provider failure or a bug
        raised inside the block into ``Exchange.error`` (what was measured is kept)."""
        ex = self._ex = Exchange(t0=time.perf_counter())
        limits = []
        if self.task_deadline_s:
            limits.append(ex.t0 + float(self.task_deadline_s))
        if self.run_deadline_at is not None:
            limits.append(ex.t0 + max(0.0, self.run_deadline_at - time.time()))
        self.deadline_at = min(limits) if limits else None
        try:
            yield ex
        except ProviderError as exc:
            ex.error = exc
        except Exception as exc:  # a bug in a harness or driver must not end the run
            ex.error = HarnessFailure(traceback.format_exception_only(type(exc), exc)[-1].strip())
        finally:
            self._ex = None

    def _left_s(self) -> float | None:
        return None if self.deadline_at is None else self.deadline_at - time.perf_counter()

    def chat(self, messages, tools=None, *, task=None, max_tokens=None, extra=None):
        """One model turn through the harness; returns (reply dict, ChatResult).

        Transient failures (see :func:`transient`) are retried up to ``retries`` times
        with exponential backoff, each retry logged on the Exchange; the task's wall
        deadline is checked before every request and bounds every wait.
        """
        ex = self._ex if self._ex is not None else Exchange()
        attempt = 0
        while True:
            left = self._left_s()
            if left is not None and left <= 0:
                raise ProviderError("deadline", "task deadline exceeded before the request was sent")
            t_req = time.perf_counter()
            try:
                reply, res = self.harness.ask(
                    self.provider,
                    self.model,
                    messages,
                    tools,
                    max_tokens=max_tokens or self.max_tokens(task or {}),
                    temperature=self.temperature,
                    seed=self.seed,
                    extra=extra,
                    on_delta=self.on_delta,
                )
                ex.model_wait_ms += (time.perf_counter() - t_req) * 1000
                ex.results.append(res)
                return reply, res
            except ProviderError as exc:
                ex.model_wait_ms += (time.perf_counter() - t_req) * 1000
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
                ex.retries.append({"kind": exc.kind, "status": exc.status, "wait_s": round(wait, 3)})
                attempt += 1
                time.sleep(wait)


def transient(exc: ProviderError) -> bool:
    """Worth retrying: nothing was processed (connection refused) or the server said
    "later" (429, 502, 503). A timeout or a cut stream is not retried: the model may
    have done the work, and a retry would hide a real reliability problem."""
    if exc.kind == "connect":
        return "refused" in str(exc)
    return exc.kind == "http" and exc.status in (429, 502, 503)
