"""speed: what a person feels (TTFR, TTFT, decode, prefill), measured so that it agrees
with the server's own accounting, and how close decode comes to the machine's limit.

Why it is built this way (each point is a way other tools get speed wrong):

- **A chunk is not a token.** Decode tok/s is ``(n - n_first) / (t_last - t_first)``
  where ``n`` is the server's ``usage.completion_tokens`` and ``t_first``/``t_last`` are
  the arrival times of the first and last token-bearing chunks. ``n_first`` is the
  number of tokens the first chunk carried; a stream does not say it, so it is taken as
  the mean tokens per chunk, ``n / m`` over the ``m`` token-bearing chunks. With one token
  per chunk (llama.cpp) that is the textbook ``(n - 1) / (t_last - t_first)``; with four
  tokens per chunk it is ``(n - 4) / …`` and the rate is still right, where ``n - 1``
  would overstate it.
- **A role-only chunk is not a token**: TTFR is the first chunk of any kind, TTFT the
  first chunk carrying content or reasoning text (``ChatResult`` keeps both).
- **Prompt caches and silent truncation falsify prefill.** Every prompt starts with a
  unique nonce, ``cache_prompt: false`` is sent where the server is llama.cpp (and only
  there: hosted APIs reject unknown fields), and a request whose server reports cached
  prompt tokens, or fewer prompt tokens than were sent, is flagged and left out of the
  statistics. A scenario with a truncated request is invalid: score 0, not passed.
- **Exact sizes.** Prompts are calibrated to the target prompt-token count as the server
  reports it (chat template included): with llama.cpp's ``/tokenize`` where the server
  has one, else from the usage reports of probe requests.
- **Statistics, not one sample**: warm-up requests are not counted; each scenario runs
  at least 3 trials and stops once the 95% intervals of decode tok/s and TTFT are within
  ±2% of their medians, at ``--trials`` (the maximum) or at ``--speed-budget``, and says
  which; every metric gets median, p90, mean ± sd and a 95% interval.
- **Roofline**: decode is memory-bound, each token reads (about) every weight once, so
  ``bandwidth / bytes per token`` bounds decode tok/s. A short multi-threaded memcpy
  probe measures the bandwidth; the GGUF size (or ``--model-bytes``) is the bytes per
  token. Where either is unknown (remote endpoint, GPU, unknown file) the report says so.

The suite score per scenario is the documented speed score of its decode rate
(``scoring.speed_score_local``), or for a remote endpoint ``speed_score_remote`` of its
TTFT and content tok/s. The run's speed score comes from :func:`aggregate` (``run["speed"]``).

Where each part lives (speed follows driver -> checker -> record like every suite):

- :mod:`benchloop.speed.metrics`: pure math: one request's metrics, a scenario's and a
  concurrency level's summary.
- :mod:`benchloop.speed.calibrate`: prompts of an exact token count (filler, nonces).
- :mod:`benchloop.speed.trials`: when to stop trying (the stop rule), what a scenario
  will cost, and the suite's time budget in one worker.
- :mod:`benchloop.speed.probe`: what the server is, its request fields, the bandwidth
  probe and the roofline.
- :mod:`benchloop.speed.report`: ``run["speed"]`` from the records, and report rows.
- :mod:`benchloop.drivers.speed`: the measuring loop (scenario, concurrency sweep).
- :mod:`benchloop.checkers.speed`: the verdict (score, pass/fail) of a measurement.

This package stays light: the names below are imported on first use.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "aggregate": "benchloop.speed.report",
    "csv_rows": "benchloop.speed.report",
    "scenario_rows": "benchloop.speed.report",
    "SCENARIO_COLUMNS": "benchloop.speed.report",
}
__all__ = list(_LAZY)


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'benchloop.speed' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)
