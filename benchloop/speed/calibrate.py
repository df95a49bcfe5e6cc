"""Prompts of an exact server-reported token count: original filler text, a nonce that
defeats prompt caches, and a search for the filler length that hits the target.
"""
from __future__ import annotations

import random
import re
import threading

from benchloop.speed.probe import get_json, request_extra

PROMPT_MARGIN = 16  # tokens kept free between prompt + output and the context size


def plan_prompt_tokens(target: int, n_ctx: int | None, max_tokens: int) -> tuple[int, str | None]:
    """The prompt size to use: the target, clamped so prompt + output fit the context."""
    target = int(target)
    if n_ctx and target + max_tokens + PROMPT_MARGIN > n_ctx:
        clamped = max(16, int(n_ctx) - int(max_tokens) - PROMPT_MARGIN)
        return clamped, f"clamped to {clamped} prompt tokens (target {target}): the model context is {n_ctx} tokens and the output budget {max_tokens}"
    return target, None



# Original filler text: an invented harbour workshop's log. Its content does not matter
# (only its token count does); it reads like prose so tokenizers treat it like prose.
_LOG = (
    "The night crew replaced two worn pulleys on the north crane and logged the spare parts used.",
    "A delivery of oak planks arrived wet, so the foreman stacked them under the east awning to dry.",
    "Apprentices practised splicing rope for an hour before the tide turned and the boats came in.",
    "The paint shop mixed a new batch of grey primer and labelled each tin with the date and the batch number.",
    "Inspectors measured the hull of the ferry in dock three and found the plating within tolerance.",
    "Someone left the compressor running over lunch; the gauge now reads a little high and needs a look.",
    "The canteen switched to the winter menu, which means soup every day and fewer complaints about the cold.",
    "Two welders finished the railing on the upper walkway and asked for more rods before the weekend.",
    "A gull nested on the roof of the sail loft again, and the crew agreed to leave it alone until spring.",
    "The harbour master asked for a list of every vessel expected next week, with lengths and drafts.",
)
_INSTRUCTION = "\n\nContinue this workshop log with many new entries in the same style. Write at length."


def filler_text(n_chars: int) -> str:
    """Deterministic log entries until ``n_chars`` characters."""
    parts, i, size = [], 0, 0
    while size < n_chars:
        line = f"Entry {i + 1}: {_LOG[(i * 7) % len(_LOG)]} "
        parts.append(line)
        size += len(line)
        i += 1
    return "".join(parts)


class NonceSource:
    """Eight-digit nonces, never repeated in a process: same length (so the same token
    count in digit-splitting tokenizers), different first digits (so no prefix cache)."""

    _lock = threading.Lock()
    _used: set = set()

    def __init__(self, seed: int | None = None):
        self._rng = random.Random(seed) if seed is not None else random.SystemRandom()

    def next(self) -> str:
        with self._lock:
            while True:
                v = f"{self._rng.randrange(10**7, 10**8)}"
                if v not in self._used:
                    self._used.add(v)
                    return v


class PromptBuilder:
    """Builds prompts of an exact server-reported token count.

    ``content(nonce, k)`` = nonce line + the first ``k`` filler units + instruction. The
    units are the server tokenizer's own pieces where ``/tokenize`` gives them (so ``k``
    maps to tokens one to one), else words. :meth:`calibrate` searches ``k``.
    """

    def __init__(self, provider, model: str, server: dict, *, nonces: NonceSource | None = None, temperature: float = 0.0, seed: int | None = 42):
        self.provider = provider
        self.model = model
        self.server = server
        self.nonces = nonces or NonceSource()
        self.temperature = temperature
        self.seed = seed
        self.units: list[str] = []
        self.method = "tokenize" if server.get("tokenize") else "usage"
        self.overhead: int | None = None
        self.probes = 0

    def content(self, nonce: str, k: int) -> str:
        k = max(0, min(int(k), len(self.units)))
        return f"Request {nonce}.\n" + "".join(self.units[:k]).strip() + _INSTRUCTION

    def messages(self, nonce: str, k: int) -> list[dict]:
        return [{"role": "user", "content": self.content(nonce, k)}]

    # -- token counting ------------------------------------------------------------
    def _tokenize(self, text: str, pieces: bool = False):
        body = {"content": text}
        if pieces:
            body["with_pieces"] = True
        data = get_json(self.provider, "POST", "/tokenize", body, timeout=30)
        if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
            return None
        return data["tokens"]

    def _units(self, target: int) -> None:
        text = filler_text(max(2000, target * 6))
        if self.method == "tokenize":
            toks = self._tokenize(text, pieces=True)
            if toks and all(isinstance(t, dict) and isinstance(t.get("piece"), str) for t in toks):
                self.units = [t["piece"] for t in toks]
                return
        self.units = re.findall(r"\s*\S+", text)

    def _probe(self, k: int, max_tokens: int = 1) -> int | None:
        """Prompt tokens the server reports for ``content(k)`` (one short request);
        None when it reports no usage."""
        self.probes += 1
        extra = request_extra(self.server, prompt_tokens=len(self.units), max_tokens=max_tokens)
        res = self.provider.chat(self.model, self.messages(self.nonces.next(), k), stream=True, max_tokens=max_tokens, temperature=self.temperature, seed=self.seed, extra=extra)
        return None if res.prompt_tokens is None else int(res.prompt_tokens)

    def count(self, k: int) -> int | None:
        """Server-reported prompt tokens for ``k`` units (tokenize + template overhead,
        or a probe request); None when the server reports no usage."""
        if self.method == "tokenize":
            toks = self._tokenize(self.content("0" * 8, k))
            if toks is not None:
                return self.overhead + len(toks)
            self.method = "usage"
        return self._probe(k)

    def calibrate(self, target: int) -> dict:
        """Find ``k`` whose prompt the server counts as ``target`` tokens (secant search
        on a monotone count). Returns {"k", "prompt_tokens", "method", ...}."""
        self._units(target)
        if self.method == "tokenize" and self.overhead is None:
            # The chat template's tokens: one short real request minus its tokenized content.
            probe_k = min(8, len(self.units))
            reported = self._probe(probe_k)
            toks = self._tokenize(self.content("0" * 8, probe_k))
            if toks is None or reported is None:
                self.method = "usage"
            else:
                self.overhead = reported - len(toks)
        budget = 12 if self.method == "tokenize" else 5
        base = self.count(0)
        if base is None:
            return self._uncalibrated(target)
        if base >= target:
            return self._result(0, base, target, note=f"the fixed prompt parts alone are {base} tokens, more than the target {target}")
        per_unit = 1.0 if self.method == "tokenize" else 1.3
        k = int((target - base) / per_unit)
        k_lo, c_lo = 0, base
        best = (0, base)
        for _ in range(budget):
            k = max(0, min(k, len(self.units)))
            c = self.count(k)
            if c is None:
                return self._uncalibrated(target)
            if abs(c - target) < abs(best[1] - target) or (abs(c - target) == abs(best[1] - target) and c <= target):
                best = (k, c)
            if c == target:
                break
            if k != k_lo and c != c_lo:
                per_unit = max(0.05, (c - c_lo) / (k - k_lo))
            k_lo, c_lo = k, c
            step = (target - c) / per_unit
            nk = k + (int(round(step)) or (1 if target > c else -1))
            if nk == k or nk < 0 or nk > len(self.units):
                break
            k = nk
        return self._result(*best, target)

    def _uncalibrated(self, target: int) -> dict:
        """No usage reports: size the prompt by an estimate and say so. Truncation cannot
        be detected then (each request's flags say the server gave no usage)."""
        self.method = "estimate"
        per_unit = 1.0 if self.server.get("tokenize") else 1.3
        k = max(0, int((target - 40) / per_unit))
        return self._result(k, target, target, note=f"not calibrated: the server reports no prompt usage; sized by an estimate of {per_unit} tokens per unit")

    def _result(self, k: int, counted: int, target: int, note: str | None = None) -> dict:
        out = {"k": k, "prompt_tokens": counted, "target": target, "method": self.method, "template_overhead": self.overhead, "probe_requests": self.probes, "error_tokens": counted - target}
        if note:
            out["note"] = note
        return out



RATE_PROBE_TOKENS = 512  # rough prompt size of the calibration request that prices a scenario


def rate_probe_messages(nonce: str, approx_tokens: int = RATE_PROBE_TOKENS) -> list[dict]:
    """An uncalibrated prompt of roughly ``approx_tokens`` tokens (about four characters
    a token; the server's usage says the real count) for the one calibration request
    that measures prefill and decode rates before anything else has."""
    return [{"role": "user", "content": f"Request {nonce}.\n" + filler_text(max(16, int(approx_tokens)) * 4).strip() + _INSTRUCTION}]
