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


# ---------------------------------------------------------------- paired comparisons
# Two runs of the same tasks are paired data: the same task is easy or hard for both
# models, so the tests below look at per-task differences, not at two independent means.
EXACT_MCNEMAR_MAX = 50  # up to this many discordant pairs the exact binomial test is used


def binom_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n fair coin flips (p = 0.5)."""
    if n <= 0:
        return 1.0
    k = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def mcnemar(b: int, c: int) -> dict:
    """McNemar's test on the discordant pairs: ``b`` tasks only A passed, ``c`` only B.
    Exact binomial for small counts (where the chi-square approximation is poor),
    chi-square with continuity correction above :data:`EXACT_MCNEMAR_MAX`."""
    n = b + c
    if n <= EXACT_MCNEMAR_MAX:
        return {"test": "mcnemar-exact", "b": b, "c": c, "p": round(binom_two_sided(b, n), 6)}
    stat = (abs(b - c) - 1) ** 2 / n
    return {"test": "mcnemar-chi2", "b": b, "c": c, "statistic": round(stat, 4), "p": round(math.erfc(math.sqrt(stat / 2)), 6)}


EXACT_SIGN_FLIP_MAX_N = 16  # 2**16 sign patterns: enumerate them all up to here


def sign_flip_p(diffs: list[list[float]], *, iters: int = 4000, seed: int = 1729) -> float:
    """Two-sided p-value of a paired randomization test on the mean of group means.

    Under "no difference" each task's B - A is as likely to have come out with the other
    sign, so the statistic's null distribution is that of every sign pattern: enumerated
    exactly for up to 16 tasks, sampled (fixed seed) beyond. Unlike a bootstrap centred
    on zero, this cannot call two tasks that both moved by 50 significant: with n tasks
    the smallest possible p is 2 / 2**n, so fewer than 6 never reach 95%.
    """
    groups = [d for d in diffs if d]
    if not groups:
        return 1.0
    observed = abs(sum(sum(d) / len(d) for d in groups) / len(groups))
    flat = [(gi, x) for gi, d in enumerate(groups) for x in d if x != 0]  # a zero is the same under either sign
    sizes = [len(d) for d in groups]
    g = len(groups)

    def stat(signs) -> float:
        sums = [0.0] * g
        for s, (gi, x) in zip(signs, flat):
            sums[gi] += x if s else -x
        return abs(sum(sm / k for sm, k in zip(sums, sizes)) / g)

    tol = 1e-9 * max(1.0, observed)
    n = len(flat)
    if n <= EXACT_SIGN_FLIP_MAX_N:
        import itertools

        hits = sum(1 for signs in itertools.product((True, False), repeat=n) if stat(signs) >= observed - tol)
        return hits / 2**n
    rng = random.Random(seed)
    hits = sum(1 for _ in range(iters) if stat([rng.random() < 0.5 for _ in range(n)]) >= observed - tol)
    return (hits + 1) / (iters + 1)


def paired_bootstrap(groups: list[list[tuple[float, float]]], *, iters: int = 4000, seed: int = 1729) -> dict:
    """The difference B - A in the mean of group means (a suite is a group; one group =
    a plain paired mean): a bootstrap 95% interval, resampled within each group so a
    suite keeps its weight, and a two-sided p-value from the paired sign-flip test
    (:func:`sign_flip_p`). Deterministic (fixed seed)."""
    groups = [g for g in groups if g]
    if not groups:
        return {"test": "paired-sign-flip", "diff": None, "ci95": None, "p": None, "n": 0}
    diffs = [[float(b) - float(a) for a, b in g] for g in groups]
    means = [sum(d) / len(d) for d in diffs]
    observed = sum(means) / len(means)
    n = sum(len(d) for d in diffs)
    if all(x == d[0] for d in diffs for x in d) and all(m == means[0] for m in means) and observed == 0:
        return {"test": "paired-sign-flip", "diff": 0.0, "ci95": [0.0, 0.0], "p": 1.0, "n": n}
    rng = random.Random(seed)
    boot = []
    for _ in range(iters):
        bm = 0.0
        for d in diffs:
            k = len(d)
            bm += sum(d[rng.randrange(k)] for _ in range(k)) / k
        boot.append(bm / len(diffs))
    boot.sort()
    p = sign_flip_p(diffs, iters=iters, seed=seed)
    lo, hi = boot[int(0.025 * iters)], boot[min(iters - 1, int(0.975 * iters))]
    return {"test": "paired-sign-flip", "diff": round(observed, 4), "ci95": [round(lo, 4), round(hi, 4)], "p": round(min(1.0, p), 6), "n": n}
