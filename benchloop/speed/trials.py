"""How many trials a scenario gets: the adaptive stop rule, the cost estimate of a
scenario, and the speed suite's time budget in one worker.

Pure, apart from :class:`SuiteClock`, which only keeps numbers. The driver
(:mod:`benchloop.drivers.speed`) asks it, between requests, whether to go on.

- **Stop rule.** At least ``min_trials`` (3) trials; then stop as soon as the 95%
  interval of decode tok/s and the one of TTFT both lie within ±``target_pct`` (2%) of
  their medians, or at ``max_trials`` (``--trials``), or when the next trial would not
  fit in the ``--speed-budget`` left, whichever comes first. The interval is the
  t-interval of the mean that :func:`benchloop.stats.summarize` gives every speed metric
  (its ``ci95``); the reached width is the farther of its ends from the median, in
  percent of the median. With n = 3 the interval is ±2.48 sd wide (t = 4.30, /√3), so a
  scenario stops at 3 only when its trials vary by less than about 0.8% (sd over mean);
  at 5 the bound is about 1.6%, at 10 about 2.8%.
- **Why it stopped** is one of :data:`STOPS`: ``settled``, ``max_trials``, ``budget``,
  ``invalid`` (a truncated request, or no valid one: more trials cannot help) and
  ``fixed`` (the fixed plan: exactly ``--trials`` trials, the way the suite ran before
  speed-2; ``benchmarks/speed_adaptive.py`` uses it as the baseline).
- **Cost estimate.** Before a scenario starts, its requests are priced from the prefill
  and decode rates measured earlier in this worker (or by one short calibration request):
  ``prompt / prefill rate + output / decode rate`` a request. Prefill is taken as linear
  in the prompt length from the largest prompt measured, and attention makes longer
  prompts slower per token, so for the long scenario it is a low estimate; the record
  keeps it beside the time the scenario really took.
"""
from __future__ import annotations

import statistics
import threading
import weakref
from dataclasses import dataclass, field

from benchloop.stats import summarize

MIN_TRIALS = 3
TARGET_PCT = 2.0  # the 95% interval must lie within ± this % of the median
WARM_TOKENS = 8  # output tokens of a warm-up once this worker has run a full one
STOPS = ("settled", "max_trials", "budget", "invalid", "fixed")
SETTLE_METRICS = ("decode_tok_s", "ttft_ms")


@dataclass(frozen=True)
class Plan:
    """How one scenario is measured: trial bounds, the target width and the budget."""

    min_trials: int = MIN_TRIALS
    max_trials: int = 5
    target_pct: float = TARGET_PCT
    budget_s: float | None = None
    fixed: bool = False  # exactly max_trials trials and full warm-ups (the pre-speed-2 plan)

    @classmethod
    def from_settings(cls, settings: dict | None, task: dict | None = None) -> "Plan":
        """``--trials`` is the maximum, ``--speed-budget`` the suite's cap; the task may
        set ``min_trials`` and ``settle_pct`` (tasks/speed.yaml states both). The setting
        ``speed_fixed`` (no flag: the adaptive benchmark's baseline) runs exactly
        ``--trials`` trials."""
        s, t = settings or {}, task or {}
        most = max(1, int(s.get("trials") or 5))
        budget = s.get("speed_budget")
        budget = float(budget) if budget not in (None, "") and float(budget) > 0 else None
        fixed = bool(s.get("speed_fixed"))
        least = most if fixed else min(int(t.get("min_trials", MIN_TRIALS)), most)
        return cls(min_trials=least, max_trials=most, target_pct=float(t.get("settle_pct", TARGET_PCT)), budget_s=budget, fixed=fixed)

    def to_dict(self) -> dict:
        return {"min_trials": self.min_trials, "max_trials": self.max_trials, "target_pct": self.target_pct, "budget_s": self.budget_s, "fixed": self.fixed}


def interval_pct(summary: dict) -> float | None:
    """How far the 95% interval reaches from the median, in % of the median (the larger
    side); None with fewer than two values (one value has no interval) or no median."""
    med, ci = summary.get("median"), summary.get("ci95")
    if not ci or not med or (summary.get("n") or 0) < 2:
        return None
    return round(100.0 * max(med - ci[0], ci[1] - med) / abs(med), 3)


def intervals(requests: list[dict]) -> dict:
    """The reached width of decode tok/s and TTFT over the valid requests."""
    valid = [q for q in requests if q.get("valid")]
    return {k: interval_pct(summarize([q[k] for q in valid if q.get(k) is not None])) for k in SETTLE_METRICS}


def settled(widths: dict, target_pct: float) -> bool:
    return all(widths.get(k) is not None and widths[k] <= target_pct for k in SETTLE_METRICS)


def next_step(requests: list[dict], plan: Plan) -> tuple[str | None, dict]:
    """After a trial: (why to stop, or None to go on; the reached widths). The budget is
    the driver's to check, as it needs a clock."""
    widths = intervals(requests)
    n = len(requests)
    if any(str(f).startswith("truncated") for q in requests for f in q.get("flags") or []):
        return "invalid", widths
    if n >= plan.min_trials and not any(q.get("valid") for q in requests):
        return "invalid", widths
    if plan.fixed:
        return ("fixed" if n >= plan.max_trials else None), widths
    if sum(1 for q in requests if q.get("valid")) >= plan.min_trials and settled(widths, plan.target_pct):
        return "settled", widths
    if n >= plan.max_trials:
        return "max_trials", widths
    return None, widths


def _pct(v) -> str:
    return "—" if v is None else f"±{v:.1f}%"


def stop_reason(stop: str, n: int, widths: dict, plan: Plan) -> str:
    """One line: why the trials stopped and what interval they reached."""
    reached = f"decode {_pct(widths.get('decode_tok_s'))}, TTFT {_pct(widths.get('ttft_ms'))} of the median (target ±{plan.target_pct:g}%)"
    head = {
        "settled": f"settled after {n} trial(s)",
        "max_trials": f"stopped at the maximum of {plan.max_trials} trials (--trials) before settling",
        "budget": f"stopped after {n} trial(s): the next would not fit in the --speed-budget of {plan.budget_s:g} s" if plan.budget_s else f"stopped after {n} trial(s) by the budget",
        "invalid": f"stopped after {n} trial(s): the measurement is invalid whatever follows",
        "fixed": f"fixed plan: {n} trials",
    }.get(stop, stop)
    return f"{head}: {reached}"


# ---- cost -------------------------------------------------------------------------------


def estimate(prompt_tokens: int, max_tokens: int, rates: dict | None, plan: Plan, *, warmups: int, short_warmup: bool, left_s: float | None) -> dict | None:
    """What a scenario will cost, from measured rates (``{"prefill_tok_s",
    "decode_tok_s", "source"}``); None when nothing is measured yet."""
    if not rates or not rates.get("prefill_tok_s") or not rates.get("decode_tok_s"):
        return None
    prefill_s = prompt_tokens / rates["prefill_tok_s"]
    request_s = prefill_s + max_tokens / rates["decode_tok_s"]
    warm_s = (prefill_s + min(WARM_TOKENS, max_tokens) / rates["decode_tok_s"]) if short_warmup else request_s
    r = lambda x: round(x, 2)  # noqa: E731
    return {
        "request_s": r(request_s),
        "min_s": r(warmups * warm_s + plan.min_trials * request_s),
        "max_s": r(warmups * warm_s + plan.max_trials * request_s),
        "prompt_tokens": prompt_tokens,
        "max_tokens": max_tokens,
        "prefill_tok_s": r(rates["prefill_tok_s"]),
        "decode_tok_s": r(rates["decode_tok_s"]),
        "source": rates.get("source"),
        "budget_left_s": None if left_s is None else r(left_s),
        "basis": "prompt / prefill rate + output / decode rate per request; prefill linear in the prompt from the largest prompt measured (longer prompts prefill slower per token, so this is low for them)",
    }


def fits(est: dict | None, left_s: float | None) -> bool:
    """Whether a scenario's warm-up and minimum trials fit in the budget left (no
    budget or no estimate: yes)."""
    return left_s is None or est is None or est["min_s"] <= left_s


@dataclass
class SuiteClock:
    """The speed suite's state in one worker: the time its scenarios took (for
    ``--speed-budget``), the rates they measured (for estimates) and whether a full
    warm-up has run. One per provider object, which the plugin makes once per worker."""

    spent_s: float = 0.0
    measured: list = field(default_factory=list)  # {"task_id", "scenario", "prompt_tokens", "prefill_tok_s", "decode_tok_s"}
    warmed: bool = False

    def left_s(self, plan: Plan, running_s: float = 0.0) -> float | None:
        return None if plan.budget_s is None else plan.budget_s - self.spent_s - running_s

    def rates(self) -> dict | None:
        """Prefill from the largest prompt measured, decode the median of every
        scenario's median."""
        have = [m for m in self.measured if m.get("prefill_tok_s") and m.get("decode_tok_s")]
        if not have:
            return None
        big = max(have, key=lambda m: m["prompt_tokens"] or 0)
        names = ", ".join(str(m.get("scenario") or m.get("task_id")) for m in have)
        return {"prefill_tok_s": big["prefill_tok_s"], "decode_tok_s": statistics.median(m["decode_tok_s"] for m in have), "source": f"measured in this worker ({names}); prefill from {big.get('scenario') or big.get('task_id')} at {big['prompt_tokens']} prompt tokens"}

    def add(self, entry: dict) -> None:
        self.measured.append(entry)


_CLOCKS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_CLOCKS_LOCK = threading.Lock()


def clock_for(provider) -> SuiteClock:
    """The worker's :class:`SuiteClock` for this provider (made on first use)."""
    with _CLOCKS_LOCK:
        c = _CLOCKS.get(provider)
        if c is None:
            c = _CLOCKS[provider] = SuiteClock()
        return c
