"""The two plain-data types a task's life produces: the checker's ``Verdict`` and the
``TaskRecord`` the run artifact keeps.

Why typed: a task's result used to be a free dict that the runner, two checkers, the
speed loop and the session all updated, so nobody could tell which module owned which
key. Now a driver returns what the model did (an ``Exchange``), a checker returns a
``Verdict`` and touches nothing else, and :func:`TaskRecord.build` is the one place that
puts the two together. ``TaskRecord.to_dict`` serializes to exactly the keys
``run.json`` has always had (see ``docs/artifact.md``), so old runs re-score unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

MAX_OUTPUT_CHARS = 100_000
MAX_REASON_CHARS = 2000
NOT_RUN = "not_run"  # error_kind of a task recorded without running (run deadline)


def clip(s, n: int = MAX_OUTPUT_CHARS) -> str:
    """Text cut to ``n`` characters with a note of how much was cut; non-text is ''."""
    s = s if isinstance(s, str) else ""
    return s if len(s) <= n else s[:n] + f"\n…[{len(s) - n} more characters cut]"


MAX_NESTING = 64  # deeper model-made JSON is refused: it only exists to blow the stack


def nesting_exceeds(value, limit: int = MAX_NESTING) -> bool:
    """True when lists/dicts nest deeper than ``limit`` (checked without recursion, so a
    3,000-level tool argument is an answer to refuse, not a RecursionError)."""
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list, tuple)):
            if d >= limit:
                return True
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return False


def _ms(v):
    return None if v is None else round(v, 3)


@dataclass
class Verdict:
    """A checker's judgement of one task. Pure data: checkers build it from the task and
    the model's answer alone, with no I/O and no access to the record or the model."""

    score: float
    """0-100. Clamped on construction, so a checker bug cannot leak 140 or -3 into a mean."""
    passed: bool | None = None
    """The task's pass/fail; None means "score is 100"."""
    reason: str = ""
    """One line a person reads in the report or a JUnit failure: why it passed or failed."""
    checks: list = field(default_factory=list)
    """Per-check details: ``[{"name", "ok", "detail"}]`` (kept in the record as ``checks``)."""
    detail: dict = field(default_factory=dict)
    """Everything else a checker wants kept (strict/loose fractions, per-step scores...);
    lands under the record's ``detail`` key."""
    turns: list = field(default_factory=list)
    """Multi-turn suites: per-turn annotations (step score, problems) merged into the
    record's ``turns`` by position. Not a record key of its own."""

    def __post_init__(self):
        try:
            s = float(self.score)
        except (TypeError, ValueError, OverflowError):
            s = 0.0
        self.score = 0.0 if s != s else max(0.0, min(100.0, s))
        self.passed = bool(self.score >= 100.0 if self.passed is None else self.passed)
        self.reason = str(self.reason or "")[:MAX_REASON_CHARS]
        self.checks = list(self.checks or [])

    @classmethod
    def of(cls, v) -> "Verdict":
        """A Verdict from a checker's legacy dict (score/passed/reason/checks + extras)."""
        if isinstance(v, Verdict):
            return v
        v = dict(v or {})
        turns = v.pop("turns", None) or []
        known = {k: v.pop(k) for k in ("score", "passed", "reason", "checks") if k in v}
        return cls(known.get("score", 0.0), known.get("passed"), known.get("reason", ""), known.get("checks") or [], v, turns)

    def __getitem__(self, key):
        """Read a verdict like the plain dict it is saved as (``v["score"]``)."""
        return self.to_dict()[key]

    def to_dict(self) -> dict:
        d = {"score": self.score, "passed": self.passed, "reason": self.reason, "checks": self.checks}
        d.update(self.detail)
        return d


@dataclass
class Exchange:
    """What a driver got from the model for one task: the answer to judge and the
    receipts (every request's ChatResult, the turn trace). Lives only in the worker."""

    answer: object = None
    """What the suite's checker judges: a parsed reply, a list of replies (tool rounds)
    or an outcome (the agent loop)."""
    reply: dict = field(default_factory=dict)
    """The last parsed reply: ``{"content", "reasoning", "tool_calls", "finish_reason"}``."""
    results: list = field(default_factory=list)
    """One ChatResult per request, in order (timings and tokens come from these)."""
    turns: list = field(default_factory=list)
    """Multi-turn drivers: one dict per turn (kept in the record's ``turns``)."""
    error: Exception | None = None
    """The ProviderError (or deadline) that ended the task early; None when it finished."""
    extra: dict = field(default_factory=dict)
    """Record fields a driver owns beyond the common ones (``speed``, ``length_turns``, ``skipped``...)."""
    model_wait_ms: float = 0.0
    """Time spent inside provider calls (the overhead benchmark's denominator)."""
    retries: list = field(default_factory=list)
    """Each transient failure that was retried: ``{"kind", "status", "wait_s"}``."""
    t0: float = 0.0
    """perf_counter() when the task started (its ``wall_ms`` runs from here)."""


@dataclass
class TaskRecord:
    """One task's receipt, one line of ``tasks.jsonl`` and one entry of ``run.json``'s
    ``tasks``. Field names are the artifact contract (docs/artifact.md)."""

    suite: str | None
    """Suite name, e.g. ``reasonmath``."""
    task_id: str
    """Fixed-width task id, e.g. ``rm-001``."""
    score: float = 0.0
    """0-100 from the checker (0 on any error)."""
    passed: bool = False
    """The checker's pass/fail (False on any error)."""
    error: str | None = None
    """Why the task could not be judged (provider failure, deadline, harness bug); None when judged."""
    error_kind: str | None = None
    """connect | timeout | http | protocol | model | deadline | not_run | harness | config."""
    reason: str = ""
    """The checker's one-line reason, or the error's."""
    latency_ms: float | None = None
    """Wall time of the model's request(s), summed over turns."""
    ttft_ms: float | None = None
    """Time to the first token of the first request."""
    ttfr_ms: float | None = None
    """Time to the first response chunk of any kind of the first request."""
    prompt_tokens: int | None = None
    """Prompt tokens, summed over requests (None when no request reported them)."""
    completion_tokens: int | None = None
    """Generated tokens, summed over requests."""
    reasoning_tokens: int | None = None
    """Reasoning tokens, where the server counts them."""
    token_source: str = "none"
    """server | counted | none | mixed: where the token counts came from."""
    finish_reason: str | None = None
    """The last request's finish reason; ``length`` if any turn hit the token limit."""
    output: str = ""
    """The answer text, reasoning removed (clipped)."""
    reasoning: str = ""
    """Reasoning text (think blocks, reasoning_content), never scored."""
    tool_calls: list = field(default_factory=list)
    """Every tool call the model made, in order."""
    checks: list = field(default_factory=list)
    """The checker's per-check details."""
    prompt: list = field(default_factory=list)
    """The task's opening messages, exactly as the task file gives them."""
    max_tokens: int | None = None
    """The output token budget the task ran with."""
    request: dict | None = None
    """The JSON body of the last request (no headers, so never a key)."""
    response: object = None
    """The last response: final JSON or the streamed events, bounded."""
    server_timings: dict | None = None
    """The server's own timings for the last request, where it sends them."""
    turns: list = field(default_factory=list)
    """Multi-turn suites: every turn, call, argument, result and timing."""
    wall_ms: float | None = None
    """The task's wall time from the first request to the verdict."""
    model_wait_ms: float | None = None
    """The part of ``wall_ms`` spent inside provider calls."""
    retries: list = field(default_factory=list)
    """Transient failures retried: ``{"kind", "status", "wait_s"}``."""
    detail: dict | None = None
    """The checker's extra data (absent from the JSON when empty)."""
    extra: dict = field(default_factory=dict)
    """Driver-owned keys serialized at the top level (``speed``, ``length_turns``, ``skipped``...)."""

    # ------------------------------------------------------------------ building
    @classmethod
    def empty(cls, task: dict, max_tokens: int | None = None) -> "TaskRecord":
        """A record for ``task`` with nothing measured yet (errors start from this)."""
        from benchloop.tasks import task_messages

        prompt = task_messages(task) if (task.get("prompt") or task.get("messages")) else []
        return cls(suite=task.get("suite"), task_id=task["id"], prompt=prompt, max_tokens=max_tokens)

    @classmethod
    def failed(cls, task: dict, error: str, kind: str, reason: str | None = None, max_tokens: int | None = None) -> "TaskRecord":
        rec = cls.empty(task, max_tokens)
        rec.error, rec.error_kind, rec.reason = error, kind, reason if reason is not None else error
        rec.wall_ms = 0.0 if kind == NOT_RUN else None
        return rec

    @classmethod
    def build(cls, task: dict, ex: Exchange, verdict: Verdict | None, *, wall_ms: float | None = None, max_tokens: int | None = None) -> "TaskRecord":
        """The record of one task from what the model did and how it was judged; the one
        place where an error outranks a verdict (an error scores 0 whatever was judged)."""
        rec = cls.empty(task, max_tokens)
        rec._fill_timings(ex)
        reply = ex.reply or {}
        rec.output = clip(reply.get("content"))
        rec.reasoning = clip(reply.get("reasoning"))
        rec.tool_calls = list(reply.get("tool_calls") or [])
        rec.turns = list(ex.turns)
        rec.extra = dict(ex.extra)
        for key in ("output", "reasoning", "tool_calls"):
            if key in rec.extra:
                setattr(rec, key, rec.extra.pop(key))
        for key in [k for k in rec.extra if k in _FIELDS]:
            setattr(rec, key, rec.extra.pop(key))
        if verdict is not None:
            verdict = Verdict.of(verdict)
            rec.score, rec.passed, rec.reason, rec.checks = verdict.score, verdict.passed, verdict.reason, verdict.checks
            rec.detail = dict(verdict.detail) or None
            for turn, note in zip(rec.turns, verdict.turns):
                if isinstance(turn, dict) and isinstance(note, dict):
                    turn.update(note)
        if ex.error is not None:
            kind = getattr(ex.error, "kind", None) or "harness"
            text = str(ex.error)
            if kind == "harness":
                text = text if text.startswith("harness error") else f"harness error: {text}"
            rec.error, rec.error_kind, rec.score, rec.passed = text, kind, 0.0, False
            rec.reason = text if kind == "harness" else f"provider error: {text}"
        rec.wall_ms = None if wall_ms is None else round(wall_ms, 3)
        rec.model_wait_ms = round(ex.model_wait_ms, 3)
        rec.retries = list(ex.retries)
        return rec

    def _fill_timings(self, ex: Exchange) -> None:
        results = [r for r in ex.results if r is not None]
        if not results:
            return
        first, last = results[0], results[-1]
        if len(results) == 1:
            self.latency_ms = _ms(last.latency_ms)
            self.prompt_tokens, self.completion_tokens, self.reasoning_tokens = last.prompt_tokens, last.completion_tokens, last.reasoning_tokens
            self.token_source = last.token_source
        else:
            self.latency_ms = _ms(_sum(r.latency_ms for r in results))
            self.prompt_tokens = _sum(r.prompt_tokens for r in results)
            self.completion_tokens = _sum(r.completion_tokens for r in results)
            self.reasoning_tokens = _sum(r.reasoning_tokens for r in results) if any(r.reasoning_tokens is not None for r in results) else None
            sources = {r.token_source for r in results}
            self.token_source = sources.pop() if len(sources) == 1 else "mixed"
        self.ttft_ms, self.ttfr_ms = _ms(first.ttft_ms), _ms(first.ttfr_ms)
        reasons = [r.finish_reason for r in results]
        self.finish_reason = "length" if "length" in reasons else reasons[-1]
        self.request, self.response, self.server_timings = last.request, last.response, last.server_timings

    # ------------------------------------------------------------------ plain data
    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("detail", "extra")}
        if self.detail:
            d["detail"] = self.detail
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TaskRecord":
        d = dict(d)
        known = {k: d.pop(k) for k in list(d) if k in _FIELDS and k != "extra"}
        return cls(**known, extra=d)


def _sum(values):
    vals = list(values)
    if not vals or any(v is None for v in vals):
        return None
    return sum(vals)


_FIELDS = {f.name for f in fields(TaskRecord)}
