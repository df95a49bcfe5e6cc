"""Small, dependency-free statistics: Wilson and bootstrap intervals, summaries.

Deterministic on purpose (fixed bootstrap seed): re-scoring an artifact offline must
give the same numbers to the last digit.
"""
from __future__ import annotations

import math
import random
import statistics

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n trials, in percent."""
    if n <= 0:
        return (0.0, 100.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (round(max(0.0, centre - half) * 100, 2), round(min(1.0, centre + half) * 100, 2))


def bootstrap_mean(values: list[float], *, iters: int = 2000, seed: int = 1729) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean."""
    n = len(values)
    if n == 0:
        return (0.0, 100.0)
    if n == 1 or min(values) == max(values):
        v = round(float(values[0]), 2)
        return (v, v)
    rng = random.Random(seed)
    means = sorted(sum(rng.choice(values) for _ in range(n)) / n for _ in range(iters))
    lo = means[int(0.025 * iters)]
    hi = means[min(iters - 1, int(0.975 * iters))]
    return (round(lo, 2), round(hi, 2))


def summarize(values: list[float]) -> dict:
    """median, p90, mean ± sd and a 95% interval of the mean, for speed metrics."""
    vals = sorted(float(v) for v in values if v is not None)
    n = len(vals)
    if n == 0:
        return {"n": 0, "median": None, "p90": None, "mean": None, "sd": None, "ci95": None, "min": None, "max": None}
    mean = sum(vals) / n
    sd = statistics.stdev(vals) if n > 1 else 0.0
    p90 = vals[min(n - 1, math.ceil(0.9 * n) - 1)]
    half = (_t95(n - 1) * sd / math.sqrt(n)) if n > 1 else 0.0
    r = lambda x: round(x, 3)  # noqa: E731
    return {"n": n, "median": r(statistics.median(vals)), "p90": r(p90), "mean": r(mean), "sd": r(sd), "ci95": [r(mean - half), r(mean + half)], "min": r(vals[0]), "max": r(vals[-1])}


def _t95(df: int) -> float:
    table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 15: 2.131, 20: 2.086, 30: 2.042}
    if df in table:
        return table[df]
    for k in sorted(table):
        if df < k:
            return table[k]
    return Z95
