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
  ``--trials`` times; every metric gets median, p90, mean ± sd and a 95% interval.
- **Roofline**: decode is memory-bound, each token reads (about) every weight once, so
  ``bandwidth / bytes per token`` bounds decode tok/s. A short multi-threaded memcpy
  probe measures the bandwidth; the GGUF size (or ``--model-bytes``) is the bytes per
  token. Where either is unknown (remote endpoint, GPU, unknown file) the report says so.

The suite score per scenario is the documented speed score of its decode rate
(``scoring.speed_score_local``), or for a remote endpoint ``speed_score_remote`` of its
TTFT and content tok/s. The run's speed score comes from :func:`aggregate` (``run["speed"]``).
"""
from __future__ import annotations

import copy
import ctypes
import math
import os
import random
import statistics
import threading
import time

from benchloop.stats import summarize

CHECKER_VERSION = "speed-1"
SCENARIOS = ("short", "medium", "long")
KINDS = ("scenario", "sweep")
PROMPT_MARGIN = 16  # tokens kept free between prompt + output and the context size
MAX_LEVEL = 64  # largest concurrency level accepted
MAX_PROMPT_TOKENS = 131072
SAMPLE_CHARS = 400  # generated text kept per scenario, to eyeball what was measured
REQUEST_CHARS = 2000  # prompt text kept in the record's request copy

# Metrics summarized per scenario (units in the names).
METRICS = (
    "ttfr_ms",
    "ttft_ms",
    "decode_tok_s",
    "content_tok_s",
    "prefill_tok_s",
    "latency_ms",
    "server_decode_tok_s",
    "server_prefill_tok_s",
    "client_server_ratio",
    "prompt_tokens",
    "completion_tokens",
)
# Flags that make a request unusable for the statistics.
INVALID_FLAGS = ("error", "truncated", "cached", "too_short")


# --------------------------------------------------------------------------------------
# Pure measurement math
# --------------------------------------------------------------------------------------


def _pos(x) -> float | None:
    """A positive finite float, else None (servers report 0.0 for "not measured")."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def server_rates(timings) -> dict:
    """The server's own decode/prefill rates from llama.cpp ``timings`` or Ollama
    ``eval_*``/``prompt_eval_*`` (durations in ns). Unknown shapes give Nones."""
    out = {"server_decode_tok_s": None, "server_prefill_tok_s": None, "server_prompt_n": None, "server_cache_n": None, "server_source": None}
    if not isinstance(timings, dict):
        return out
    if "predicted_per_second" in timings or "prompt_per_second" in timings:
        out.update(
            server_decode_tok_s=_pos(timings.get("predicted_per_second")),
            server_prefill_tok_s=_pos(timings.get("prompt_per_second")),
            server_prompt_n=timings.get("prompt_n"),
            server_cache_n=timings.get("cache_n"),
            server_source="llama.cpp timings",
        )
    elif "eval_count" in timings or "prompt_eval_count" in timings:
        ec, ed = _pos(timings.get("eval_count")), _pos(timings.get("eval_duration"))
        pc, pd = _pos(timings.get("prompt_eval_count")), _pos(timings.get("prompt_eval_duration"))
        out.update(
            server_decode_tok_s=(ec / (ed / 1e9)) if ec and ed else None,
            server_prefill_tok_s=(pc / (pd / 1e9)) if pc and pd else None,
            server_prompt_n=timings.get("prompt_eval_count"),
            server_source="ollama eval_count/eval_duration",
        )
    return out


def truncation_tolerance(expected: int) -> int:
    """Prompt-token slack before "fewer tokens than sent" counts as truncation: nonces
    and template seams may move a count by a token or two; truncation loses far more."""
    return max(2, int(round(0.01 * expected)))


def request_metrics(res, *, expected_prompt_tokens: int | None = None) -> dict:
    """One streamed request (a ``ChatResult``) -> its speed metrics and flags. Pure.

    See the module docstring for the decode formula. Prefill tok/s is the prompt tokens
    the server evaluated (reported minus cached) over TTFT: TTFT also holds the network
    round trip and the first sampling step, so it is a slight underestimate of the rate.
    """
    flags: list[str] = []
    notes: list[str] = []
    n = res.completion_tokens
    m = int(res.content_chunks or 0)
    if n is None:
        n = m
    n = int(n or 0)
    if res.token_source != "server":
        notes.append("no server usage: tokens counted from stream chunks (assumes one token per chunk)")
    span = None
    if res.t_first_token is not None and res.t_last_token is not None:
        span = res.t_last_token - res.t_first_token
    first_chunk_tokens = (n / m) if m else None
    decode = None
    if m >= 2 and n >= 2 and span and span > 0:
        decode = (n - first_chunk_tokens) / span
    else:
        flags.append(f"too_short: {m} token chunk(s), {n} token(s); decode needs at least two chunks")
    # Content tok/s: decode with the reasoning share taken out (a reasoning model's
    # thinking is not output the user reads). Server count where given, else by text.
    reasoning_tokens = res.reasoning_tokens
    share = 1.0
    if n and reasoning_tokens:
        share = max(0.0, (n - min(int(reasoning_tokens), n)) / n)
    elif res.reasoning:
        total = len(res.content or "") + len(res.reasoning or "")
        share = (len(res.content or "") / total) if total else 1.0
        if share < 1.0:
            notes.append("reasoning token count estimated from text length (server gave none)")
    content = decode * share if decode is not None else None
    prompt = res.prompt_tokens
    cached = int(res.cached_tokens or 0)
    srv = server_rates(res.server_timings)
    if srv["server_cache_n"]:
        cached = max(cached, int(srv["server_cache_n"] or 0))
    if cached > 0:
        flags.append(f"cached: the server reused {cached} cached prompt tokens")
    if expected_prompt_tokens and prompt is not None:
        tol = truncation_tolerance(expected_prompt_tokens)
        if prompt < expected_prompt_tokens - tol:
            flags.append(f"truncated: the server counted {prompt} prompt tokens, {expected_prompt_tokens} were sent")
        elif prompt > expected_prompt_tokens + tol:
            notes.append(f"prompt larger than calibrated: {prompt} tokens, {expected_prompt_tokens} expected")
    ttft = res.ttft_ms
    evaluated = (prompt - cached) if prompt is not None else None
    prefill = (evaluated / (ttft / 1000.0)) if evaluated and ttft and ttft > 0 else None
    ratio = (decode / srv["server_decode_tok_s"]) if decode and srv["server_decode_tok_s"] else None
    r = lambda x, d=3: None if x is None else round(float(x), d)  # noqa: E731
    out = {
        "ttfr_ms": r(res.ttfr_ms),
        "ttft_ms": r(ttft),
        "latency_ms": r(res.latency_ms),
        "decode_tok_s": r(decode),
        "content_tok_s": r(content),
        "prefill_tok_s": r(prefill),
        "prompt_tokens": prompt,
        "expected_prompt_tokens": expected_prompt_tokens,
        "cached_tokens": cached,
        "completion_tokens": n,
        "reasoning_tokens": reasoning_tokens,
        "token_chunks": m,
        "first_chunk_tokens": r(first_chunk_tokens),
        "decode_span_ms": r(span * 1000.0 if span is not None else None),
        "token_source": res.token_source,
        "finish_reason": res.finish_reason,
        "server_decode_tok_s": r(srv["server_decode_tok_s"]),
        "server_prefill_tok_s": r(srv["server_prefill_tok_s"]),
        "server_prompt_n": srv["server_prompt_n"],
        "server_source": srv["server_source"],
        "client_server_ratio": r(ratio, 4),
        "flags": flags,
        "notes": notes,
    }
    out["valid"] = is_valid(out)
    return out


def is_valid(m: dict) -> bool:
    return not any(str(f).split(":", 1)[0] in INVALID_FLAGS for f in m.get("flags") or [])


def error_metrics(exc, expected_prompt_tokens: int | None = None) -> dict:
    """A request that failed (provider error): no numbers, one invalidating flag."""
    kind = getattr(exc, "kind", type(exc).__name__)
    return {"error": str(exc)[:300], "error_kind": kind, "expected_prompt_tokens": expected_prompt_tokens, "flags": [f"error: {str(exc)[:200]}"], "notes": [], "valid": False}


def plan_prompt_tokens(target: int, n_ctx: int | None, max_tokens: int) -> tuple[int, str | None]:
    """The prompt size to use: the target, clamped so prompt + output fit the context."""
    target = int(target)
    if n_ctx and target + max_tokens + PROMPT_MARGIN > n_ctx:
        clamped = max(16, int(n_ctx) - int(max_tokens) - PROMPT_MARGIN)
        return clamped, f"clamped to {clamped} prompt tokens (target {target}): the model context is {n_ctx} tokens and the output budget {max_tokens}"
    return target, None


def summarize_requests(requests: list[dict]) -> dict:
    """median / p90 / mean ± sd / 95% CI per metric over the valid requests."""
    valid = [q for q in requests if q.get("valid")]
    return {k: summarize([q[k] for q in valid if q.get(k) is not None]) for k in METRICS}


def _median(metrics: dict, key: str):
    return (metrics.get(key) or {}).get("median")


def scenario_summary(task: dict, requests: list[dict], *, trials: int, setup_flags: list[str] | None = None) -> dict:
    """Per-scenario result (JSON-able): summaries, headline medians, validity and flags.

    Valid = no request was truncated, and at least half of the requests (rounded up)
    are valid (no error, no cache reuse, measurable decode). Invalid requests never
    enter the statistics.
    """
    metrics = summarize_requests(requests)
    n_valid = sum(1 for q in requests if q.get("valid"))
    need = max(1, math.ceil(trials / 2))
    flags: list[str] = list(setup_flags or [])
    notes: list[str] = []
    for q in requests:
        for f in q.get("flags") or []:
            if f not in flags:
                flags.append(f)
        for x in q.get("notes") or []:
            if x not in notes:
                notes.append(x)
    truncated = any(str(f).startswith("truncated") for f in flags)
    valid = (not truncated) and n_valid >= need
    if not valid and not truncated:
        flags.append(f"too_few_valid: {n_valid} of {len(requests)} requests valid, {need} needed")
    finish: dict[str, int] = {}
    for q in requests:
        fr = str(q.get("finish_reason"))
        finish[fr] = finish.get(fr, 0) + 1
    return {
        "task_id": task.get("id"),
        "scenario": task.get("scenario"),
        "kind": "scenario",
        "valid": valid,
        "trials": trials,
        "valid_trials": n_valid,
        "decode_tok_s": _median(metrics, "decode_tok_s"),
        "content_tok_s": _median(metrics, "content_tok_s"),
        "prefill_tok_s": _median(metrics, "prefill_tok_s"),
        "ttft_ms": _median(metrics, "ttft_ms"),
        "ttft_p90_ms": (metrics.get("ttft_ms") or {}).get("p90"),
        "ttfr_ms": _median(metrics, "ttfr_ms"),
        "latency_ms": _median(metrics, "latency_ms"),
        "server_decode_tok_s": _median(metrics, "server_decode_tok_s"),
        "server_prefill_tok_s": _median(metrics, "server_prefill_tok_s"),
        "client_server_ratio": _median(metrics, "client_server_ratio"),
        "prompt_tokens_measured": _median(metrics, "prompt_tokens"),
        "completion_tokens_measured": _median(metrics, "completion_tokens"),
        "metrics": metrics,
        "finish_reasons": finish,
        "flags": flags,
        "notes": notes,
    }


def scenario_verdict(summary: dict, *, remote: bool) -> dict:
    """Score and pass/fail of one scenario: the speed score of its decode rate (local) or
    of its TTFT and content tok/s (remote); an invalid measurement scores 0."""
    from benchloop.scoring import speed_score_local, speed_score_remote

    decode = summary.get("decode_tok_s")
    if not summary.get("valid") or not decode:
        why = "; ".join(summary.get("flags") or []) or "no valid measurement"
        return {"score": 0.0, "passed": False, "reason": f"invalid measurement: {why}"[:2000]}
    if remote:
        score = speed_score_remote(summary.get("ttft_ms"), summary.get("content_tok_s") or decode)
    else:
        score = speed_score_local(decode)
    f1 = lambda v: "—" if v is None else f"{v:.1f}"  # noqa: E731
    reason = (
        f"decode {f1(decode)} tok/s (median of {summary.get('valid_trials')}), TTFT {f1(summary.get('ttft_ms'))} ms, "
        f"prefill {f1(summary.get('prefill_tok_s'))} tok/s; server {f1(summary.get('server_decode_tok_s'))} tok/s"
    )
    return {"score": float(score), "passed": True, "reason": reason}


# --------------------------------------------------------------------------------------
# Roofline
# --------------------------------------------------------------------------------------

_BANDWIDTH: dict = {}
_BW_LOCK = threading.Lock()


def measure_bandwidth(size_mib: int = 128, reps: int = 5, threads: int | None = None, budget_s: float = 0.8) -> dict:
    """Memory bandwidth in GB/s (bytes read + written per second), best of ``reps``.

    ``ctypes.memmove`` releases the GIL, so ``threads`` copies run in parallel like
    llama.cpp's decode threads do. 128 MiB per buffer is beyond any L3 cache, and the
    source is filled (not calloc'ed zero pages, which read from cache). Under a second.
    """
    threads = max(1, min(int(threads or os.cpu_count() or 1), 16))
    n = (int(size_mib) << 20) // threads * threads
    t_start = time.perf_counter()
    src = bytearray(bytes(range(256))) * (n // 256)
    dst = bytearray(len(src))
    n = len(src)
    sa = ctypes.addressof((ctypes.c_char * n).from_buffer(src))
    da = ctypes.addressof((ctypes.c_char * n).from_buffer(dst))
    part = n // threads
    ctypes.memmove(da, sa, n)  # fault the destination pages in; not timed
    barrier = threading.Barrier(threads + 1)
    times: list[float] = []
    stop = [False]

    def worker(i: int):
        while True:
            barrier.wait()
            if stop[0]:
                return
            ctypes.memmove(da + i * part, sa + i * part, part)
            barrier.wait()

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    try:
        for _ in range(max(1, reps)):
            t0 = time.perf_counter()
            barrier.wait()  # go
            barrier.wait()  # all done
            times.append(time.perf_counter() - t0)
            if time.perf_counter() - t_start > budget_s:
                break
    finally:
        stop[0] = True
        barrier.wait()
        for t in pool:
            t.join(timeout=1)
    best = min(times)
    del src, dst
    return {
        "gb_s": round(2 * n / best / 1e9, 2),
        "method": f"memcpy of {n >> 20} MiB in {threads} thread(s), best of {len(times)}; bytes read + written",
        "threads": threads,
        "probe_ms": round((time.perf_counter() - t_start) * 1000, 1),
    }


def bandwidth_once() -> dict:
    """The probe runs once per process; every scenario record carries its result."""
    with _BW_LOCK:
        if "result" not in _BANDWIDTH:
            try:
                _BANDWIDTH["result"] = measure_bandwidth()
            except Exception as exc:  # a probe must never end a run
                _BANDWIDTH["result"] = {"gb_s": None, "method": f"probe failed: {type(exc).__name__}: {exc}"[:200]}
        return dict(_BANDWIDTH["result"])


def roofline(decode_tok_s, bandwidth_gb_s, bytes_per_token) -> tuple[float | None, float | None]:
    """(roofline tok/s, decode as % of it); Nones when any input is unknown."""
    bw, b = _pos(bandwidth_gb_s), _pos(bytes_per_token)
    if not bw or not b:
        return None, None
    limit = bw * 1e9 / b
    d = _pos(decode_tok_s)
    return round(limit, 2), (round(100.0 * d / limit, 2) if d else None)


def model_bytes(meta: dict) -> tuple[float | None, str]:
    """Bytes read per generated token: --model-bytes, else the model file's size."""
    settings = meta.get("settings") or {}
    if _pos(settings.get("model_bytes")):
        return float(settings["model_bytes"]), "--model-bytes"
    model = meta.get("model") or {}
    if _pos(model.get("size_bytes")):
        return float(model["size_bytes"]), "model file size (dense model: every weight read once per token)"
    path = (meta.get("engine") or {}).get("model_path")
    if path:
        try:
            return float(os.path.getsize(path)), "GGUF file size (dense model: every weight read once per token)"
        except OSError:
            pass
    return None, "unknown: the model file is not known; pass --model-bytes"


# --------------------------------------------------------------------------------------
# Talking to the server: what it is, calibration, one measured request
# --------------------------------------------------------------------------------------

_SERVERS: dict = {}
_SERVERS_LOCK = threading.Lock()


def _get_json(provider, method: str, path: str, body=None, timeout: float = 10.0):
    """A side request to the provider's own endpoint (auth header included where the
    provider has one); None on any failure: these probes are optional."""
    headers = {}
    if hasattr(provider, "_headers"):
        try:
            headers = provider._headers()
        except Exception:
            headers = {}
    try:
        if method == "GET":
            r = provider.session.get(provider.endpoint + path, headers=headers, timeout=(provider.connect_timeout, timeout))
        else:
            r = provider.session.post(provider.endpoint + path, json=body, headers=headers, timeout=(provider.connect_timeout, timeout))
        if r.status_code != 200:
            return None
        data = r.json()
        return data
    except Exception:  # probing must never end a run
        return None


def describe_server(provider, model: str) -> dict:
    """What the server is and what it takes: {"kind": "llama.cpp"|"ollama"|"openai",
    "tokenize": bool, "n_ctx": int|None (per request slot), "slots": int|None}.
    Cached per endpoint and model."""
    key = (getattr(provider, "name", "?"), getattr(provider, "endpoint", "?"), model)
    with _SERVERS_LOCK:
        if key in _SERVERS:
            return dict(_SERVERS[key])
    info = {"kind": "openai", "tokenize": False, "n_ctx": None, "slots": None}
    if getattr(provider, "name", "") == "ollama":
        info["kind"] = "ollama"
        show = _get_json(provider, "POST", "/api/show", {"model": model})
        if isinstance(show, dict):
            mi = show.get("model_info") or {}
            for k, v in mi.items():
                if str(k).endswith(".context_length") and isinstance(v, int) and v > 0:
                    info["n_ctx"] = v
    else:
        props = _get_json(provider, "GET", "/props")
        if isinstance(props, dict) and isinstance(props.get("default_generation_settings"), dict):
            info["kind"] = "llama.cpp"
            n_ctx = props["default_generation_settings"].get("n_ctx")
            info["n_ctx"] = n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None
            slots = props.get("total_slots")
            info["slots"] = slots if isinstance(slots, int) and slots > 0 else None
        else:
            if getattr(provider, "name", "") == "llamacpp":
                info["kind"] = "llama.cpp"
            models = _get_json(provider, "GET", "/v1/models")
            for m in (models.get("data") or []) if isinstance(models, dict) else []:
                if isinstance(m, dict) and m.get("id") == model and isinstance(m.get("max_model_len"), int):
                    info["n_ctx"] = m["max_model_len"]  # vLLM
        tok = _get_json(provider, "POST", "/tokenize", {"content": "speed probe"})
        info["tokenize"] = isinstance(tok, dict) and isinstance(tok.get("tokens"), list) and len(tok["tokens"]) > 0
    with _SERVERS_LOCK:
        _SERVERS[key] = dict(info)
    return info


def request_extra(server: dict, *, prompt_tokens: int, max_tokens: int) -> dict:
    """Extra body fields per server kind. llama.cpp: no prompt cache, no early stop (so
    every request decodes exactly ``max_tokens``). Ollama: a context that holds the
    prompt. Anything else (hosted APIs reject unknown fields): nothing."""
    if server.get("kind") == "llama.cpp":
        return {"cache_prompt": False, "ignore_eos": True}
    if server.get("kind") == "ollama":
        need = int(prompt_tokens) + int(max_tokens) + 64
        return {"options": {"num_ctx": -(-need // 256) * 256}}
    return {}


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
        data = _get_json(self.provider, "POST", "/tokenize", body, timeout=30)
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
        import re

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


def measure_request(provider, model: str, messages: list[dict], *, max_tokens: int, extra: dict | None, expected_prompt_tokens: int | None, temperature: float = 0.0, seed: int | None = 42) -> tuple[dict, object]:
    """One streamed request -> (metrics, ChatResult or None). Provider errors become an
    invalid request, never an exception: the other trials still count."""
    from benchloop.providers.base import ProviderError

    try:
        res = provider.chat(model, messages, stream=True, max_tokens=max_tokens, temperature=temperature, seed=seed, extra=extra)
    except ProviderError as exc:
        return error_metrics(exc, expected_prompt_tokens), None
    return request_metrics(res, expected_prompt_tokens=expected_prompt_tokens), res


def clone_provider(provider):
    """A provider for another thread: same endpoint and key, its own HTTP session
    (``requests.Session`` is not meant to be shared across threads)."""
    p = copy.copy(provider)
    p._session = None
    return p


# --------------------------------------------------------------------------------------
# The suite's loop (runner.run_task calls ``run``)
# --------------------------------------------------------------------------------------


def validate(task: dict):
    """Task-file check, run at collection."""
    kind = task.get("kind", "scenario")
    if kind not in KINDS:
        return ("kind", f"must be one of {', '.join(KINDS)}")
    if kind == "scenario" and task.get("scenario") not in SCENARIOS:
        return ("scenario", f"must be one of {', '.join(SCENARIOS)}")
    pt = task.get("prompt_tokens")
    if not isinstance(pt, int) or not (16 <= pt <= MAX_PROMPT_TOKENS):
        return ("prompt_tokens", f"must be an integer from 16 to {MAX_PROMPT_TOKENS}")
    mt = task.get("max_tokens")
    if not isinstance(mt, int) or not (2 <= mt <= 8192):
        return ("max_tokens", "must be an integer from 2 to 8192 (decode needs two tokens)")
    for f in ("warmup", "rounds"):
        if f in task and not (isinstance(task[f], int) and 0 <= task[f] <= 10):
            return (f, "must be an integer from 0 to 10")
    return None


def parse_levels(raw) -> list[int]:
    """``"1,2,4"`` -> [1, 2, 4]; raises ValueError naming the fix."""
    if raw in (None, ""):
        return []
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    levels = []
    for x in items:
        x = str(x).strip()
        if not x:
            continue
        if not x.isdigit() or not (1 <= int(x) <= MAX_LEVEL):
            raise ValueError(f"--concurrency {raw!r}: each level must be a whole number from 1 to {MAX_LEVEL}, e.g. 1,2,4,8")
        if int(x) not in levels:
            levels.append(int(x))
    return sorted(levels)


def _clip_request(body: dict | None) -> dict | None:
    """The request body kept in the record, the long prompt cut."""
    if not isinstance(body, dict):
        return None
    b = copy.deepcopy(body)
    for m in b.get("messages") or []:
        c = m.get("content")
        if isinstance(c, str) and len(c) > REQUEST_CHARS:
            m["content"] = c[:REQUEST_CHARS] + f"…[{len(c) - REQUEST_CHARS} more characters cut]"
    return b


def _workers_note() -> str | None:
    n = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if n and n.isdigit() and int(n) > 1:
        return f"measured while {n} pytest-xdist workers shared the server: the numbers include their contention"
    return None


def _setup(task: dict, ctx, max_tokens: int) -> tuple[dict, PromptBuilder, dict, list[str], list[str]]:
    """Server facts, a calibrated prompt builder, and the notes/flags found on the way.
    A usage-calibrated prompt that cannot reach its size is truncation seen early."""
    server = describe_server(ctx.provider, ctx.model)
    target, clamp_note = plan_prompt_tokens(task["prompt_tokens"], server.get("n_ctx"), max_tokens)
    notes = [clamp_note] if clamp_note else []
    flags: list[str] = []
    builder = PromptBuilder(ctx.provider, ctx.model, server, temperature=ctx.temperature, seed=ctx.seed)
    cal = builder.calibrate(target)
    if cal.get("note"):
        notes.append(cal["note"])
    if cal["error_tokens"]:
        notes.append(f"calibration reached {cal['prompt_tokens']} prompt tokens for a target of {target} ({cal['method']})")
    if cal["method"] == "usage" and cal["prompt_tokens"] < target - truncation_tolerance(target) and not cal.get("note"):
        flags.append(f"truncated: the server never counted more than {cal['prompt_tokens']} prompt tokens for a prompt sized for {target}")
    if server.get("kind") == "ollama":
        notes.append("Ollama cannot disable its prompt cache and reports no cached tokens; the nonce keeps reuse to the template's first tokens")
    note = _workers_note()
    if note:
        notes.append(note)
    return server, builder, cal, notes, flags


def run(task: dict, ctx, rec: dict) -> dict:
    """Measure one scenario (or the concurrency sweep) and fill ``rec`` in place."""
    if task.get("kind") == "sweep":
        return run_sweep(task, ctx, rec)
    trials = max(1, int((ctx.settings or {}).get("trials") or 5))
    remote = bool((ctx.settings or {}).get("remote"))
    max_tokens = ctx.max_tokens(task)
    t_model = 0.0
    server, builder, cal, notes, setup_flags = _setup(task, ctx, max_tokens)
    expected = cal["prompt_tokens"]
    extra = request_extra(server, prompt_tokens=expected, max_tokens=max_tokens)
    warm = []
    for _ in range(int(task.get("warmup", 1))):
        m, res = measure_request(ctx.provider, ctx.model, builder.messages(builder.nonces.next(), cal["k"]), max_tokens=max_tokens, extra=extra, expected_prompt_tokens=expected, temperature=ctx.temperature, seed=ctx.seed)
        t_model += (m.get("latency_ms") or 0) / 1000
        load_ns = ((res.server_timings or {}).get("load_duration") if res is not None else None) or 0
        warm.append({"valid": m["valid"], "latency_ms": m.get("latency_ms"), "prompt_tokens": m.get("prompt_tokens"), "load_ms": round(load_ns / 1e6, 3) if load_ns else None, "flags": m["flags"]})
    requests, last = [], None
    for _ in range(trials):
        m, res = measure_request(ctx.provider, ctx.model, builder.messages(builder.nonces.next(), cal["k"]), max_tokens=max_tokens, extra=extra, expected_prompt_tokens=expected, temperature=ctx.temperature, seed=ctx.seed)
        t_model += (m.get("latency_ms") or 0) / 1000
        requests.append(m)
        if res is not None:
            last = res
    summary = scenario_summary(task, requests, trials=trials, setup_flags=setup_flags)
    summary.update(
        target_prompt_tokens=task["prompt_tokens"],
        prompt_tokens=expected,
        max_tokens=max_tokens,
        clamped=expected < task["prompt_tokens"] and any("clamped" in n for n in notes),
        calibration=cal,
        server=server,
        request_extra=extra,
        warmup=warm,
        bandwidth=None if remote else bandwidth_once(),
        requests=requests,
        sample_output=((last.content or last.reasoning or "")[:SAMPLE_CHARS] if last is not None else ""),
    )
    summary["notes"] = notes + [n for n in summary["notes"] if n not in notes]
    verdict = scenario_verdict(summary, remote=remote)
    rec.update(
        score=verdict["score"],
        passed=verdict["passed"],
        reason=verdict["reason"],
        speed=summary,
        latency_ms=summary["latency_ms"],
        ttft_ms=summary["ttft_ms"],
        ttfr_ms=summary["ttfr_ms"],
        prompt_tokens=expected,
        completion_tokens=summary["completion_tokens_measured"],
        token_source=(requests[-1].get("token_source") if requests else None) or "none",
        finish_reason=None,  # speed runs to the token limit on purpose; see speed.finish_reasons
        output=summary["sample_output"],
        request=_clip_request(getattr(last, "request", None)),
        server_timings=getattr(last, "server_timings", None),
        checks=[{"name": "valid_measurement", "ok": summary["valid"], "detail": "; ".join(summary["flags"]) or "all requests valid"}],
        model_wait_ms=round(t_model * 1000, 3),
    )
    errors = [q for q in requests if q.get("error")]
    if errors and not any(q.get("valid") for q in requests):
        rec.update(error=errors[0]["error"], error_kind=errors[0].get("error_kind"))
    return rec


def run_sweep(task: dict, ctx, rec: dict) -> dict:
    """The opt-in concurrency sweep. Not requested: a non-error, skipped record that no
    score counts (``skipped: True``). Requested: per level, ``c`` threads each send
    ``rounds`` requests at once; aggregate tok/s = all generated tokens / the level's
    wall time, per-stream tok/s and TTFT p90 from the individual requests."""
    settings = ctx.settings or {}
    try:
        levels = parse_levels(settings.get("concurrency"))
    except ValueError as exc:
        rec.update(error=str(exc), error_kind="config", score=0.0, passed=False, reason=str(exc))
        return rec
    if not levels:
        rec.update(
            skipped=True,
            score=0.0,
            passed=True,
            reason="skipped: pass --concurrency (e.g. --concurrency 1,2,4) to run the concurrency sweep",
            speed={"task_id": task.get("id"), "kind": "sweep", "skipped": True, "levels": []},
        )
        return rec
    remote = bool(settings.get("remote"))
    max_tokens = ctx.max_tokens(task)
    rounds = max(1, int(task.get("rounds", 2)))
    server, builder, cal, notes, setup_flags = _setup(task, ctx, max_tokens)
    expected = cal["prompt_tokens"]
    extra = request_extra(server, prompt_tokens=expected, max_tokens=max_tokens)
    for _ in range(int(task.get("warmup", 1))):
        measure_request(ctx.provider, ctx.model, builder.messages(builder.nonces.next(), cal["k"]), max_tokens=max_tokens, extra=extra, expected_prompt_tokens=expected, temperature=ctx.temperature, seed=ctx.seed)
    out_levels = []
    for c in levels:
        results: list[dict] = []
        lock = threading.Lock()
        barrier = threading.Barrier(c)
        msgs = [[builder.messages(builder.nonces.next(), cal["k"]) for _ in range(rounds)] for _ in range(c)]

        def stream(i: int):
            p = clone_provider(ctx.provider)
            try:
                try:
                    barrier.wait(timeout=60)
                except threading.BrokenBarrierError:
                    pass
                for j in range(rounds):
                    t0 = time.perf_counter()
                    m, _res = measure_request(p, ctx.model, msgs[i][j], max_tokens=max_tokens, extra=extra, expected_prompt_tokens=expected, temperature=ctx.temperature, seed=ctx.seed)
                    m["t_start"], m["t_end"] = t0, time.perf_counter()
                    with lock:
                        results.append(m)
            finally:
                p.close()

        pool = [threading.Thread(target=stream, args=(i,), daemon=True) for i in range(c)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        out_levels.append(level_summary(c, results, rounds=rounds, slots=server.get("slots")))
    valid = bool(out_levels) and all(lv["valid"] for lv in out_levels) and not setup_flags
    base = out_levels[0]
    from benchloop.scoring import speed_score_local, speed_score_remote

    if valid:
        ps = base.get("per_stream_tok_s")
        score = speed_score_remote(base.get("ttft_p90_ms"), ps) if remote else speed_score_local(ps)
    else:
        score = 0.0
    flags = list(setup_flags) + [f for lv in out_levels for f in lv["flags"]]
    rec.update(
        score=float(score),
        passed=valid,
        reason=("; ".join(f"c={lv['concurrency']}: {_f(lv['aggregate_tok_s'])} tok/s total, {_f(lv['per_stream_tok_s'])} per stream, TTFT p90 {_f(lv['ttft_p90_ms'])} ms" for lv in out_levels) if valid else "invalid sweep: " + "; ".join(flags))[:2000],
        speed={"task_id": task.get("id"), "kind": "sweep", "skipped": False, "levels": out_levels, "prompt_tokens": expected, "max_tokens": max_tokens, "rounds": rounds, "calibration": cal, "server": server, "request_extra": extra, "notes": notes, "flags": flags, "valid": valid},
        prompt_tokens=expected,
        finish_reason=None,
        checks=[{"name": "valid_measurement", "ok": valid, "detail": "; ".join(flags) or "all requests valid"}],
    )
    return rec


def _f(v) -> str:
    return "—" if v is None else f"{v:.1f}"


def level_summary(c: int, results: list[dict], *, rounds: int, slots: int | None = None) -> dict:
    """One concurrency level from its requests (each with ``t_start``/``t_end``)."""
    valid = [q for q in results if q.get("valid")]
    flags = sorted({f for q in results for f in q.get("flags") or []})
    wall = (max(q["t_end"] for q in results) - min(q["t_start"] for q in results)) if results else 0.0
    tokens = sum(int(q.get("completion_tokens") or 0) for q in valid)
    decode = summarize([q["decode_tok_s"] for q in valid if q.get("decode_tok_s") is not None])
    ttft = summarize([q["ttft_ms"] for q in valid if q.get("ttft_ms") is not None])
    need = max(1, math.ceil(len(results) / 2))
    out = {
        "concurrency": c,
        "requests": len(results),
        "valid_requests": len(valid),
        "aggregate_tok_s": round(tokens / wall, 3) if wall > 0 and tokens else None,
        "per_stream_tok_s": decode["median"],
        "per_stream": decode,
        "ttft_p90_ms": ttft["p90"],
        "ttft_ms": ttft,
        "wall_ms": round(wall * 1000, 3),
        "rounds": rounds,
        "flags": flags,
        "valid": len(valid) >= need and not any(f.startswith("truncated") for f in flags),
    }
    if slots and c > slots:
        out["note"] = f"the server has {slots} slot(s): requests beyond that wait in its queue"
    return out


# --------------------------------------------------------------------------------------
# Run level (session end) and report rows
# --------------------------------------------------------------------------------------


def aggregate(records: list[dict], meta: dict) -> dict:
    """``run["speed"]`` from the speed records and the run's meta. Pure (the bandwidth
    was measured during the run and rides on the records).

    Headline numbers, over the valid fixed scenarios: decode / content / server decode
    tok/s and the client/server ratio are the median of the scenarios' medians; TTFT and
    TTFR come from the shortest prompt (a chat turn, what a person feels); prefill tok/s
    from the longest prompt (short prompts measure overhead, not prefill). Invalid
    scenarios (truncated, cached, failed) are listed with their flags and never counted.
    """
    scen = [r["speed"] for r in records if isinstance(r.get("speed"), dict) and r["speed"].get("kind") == "scenario"]
    scen.sort(key=lambda s: (s.get("prompt_tokens") or 0, str(s.get("task_id"))))
    sweep = next((r["speed"] for r in records if isinstance(r.get("speed"), dict) and r["speed"].get("kind") == "sweep"), None)
    notes: list[str] = []
    flags: list[str] = []
    for r in records:
        if r.get("error") and not isinstance(r.get("speed"), dict):
            flags.append(f"{r.get('task_id')}: {r['error']}"[:300])
    valid = [s for s in scen if s.get("valid") and s.get("decode_tok_s")]
    for s in scen:
        if not s.get("valid"):
            flags.append(f"{s.get('scenario')}: invalid, not scored ({'; '.join(s.get('flags') or []) or 'no valid request'})"[:500])
        for n in s.get("notes") or []:
            line = f"{s.get('scenario')}: {n}"
            if line not in notes:
                notes.append(line)

    def med(key):
        vals = [s[key] for s in valid if s.get(key) is not None]
        return round(statistics.median(vals), 3) if vals else None

    shortest = valid[0] if valid else None
    longest = valid[-1] if valid else None
    bw = next((s.get("bandwidth") for s in scen if isinstance(s.get("bandwidth"), dict) and s["bandwidth"].get("gb_s")), None)
    bpt, bpt_source = model_bytes(meta)
    remote = bool(meta.get("remote"))
    gpus = (meta.get("machine") or {}).get("gpus") or []
    roof_note = None
    if remote:
        bw, roof_note = None, "unknown: remote endpoint, its memory bandwidth cannot be measured from here"
    elif gpus:
        bw, roof_note = None, f"unknown: a GPU ({gpus[0].get('name')}) is present and the model may run on it; the probe measures CPU memory only"
    elif not bw:
        roof_note = "unknown: no bandwidth measurement"
    elif not bpt:
        roof_note = bpt_source
    decode = med("decode_tok_s")
    roof_tok_s, roof_pct = roofline(decode, (bw or {}).get("gb_s"), bpt)
    scenarios = {}
    for s in scen:
        _, pct = roofline(s.get("decode_tok_s"), (bw or {}).get("gb_s"), bpt)
        d = {k: v for k, v in s.items() if k not in ("requests", "bandwidth", "warmup", "sample_output")}
        d["roofline_pct"] = pct if s.get("valid") else None
        scenarios[s.get("scenario") or s.get("task_id")] = d
    if roof_pct is not None and roof_pct > 100:
        notes.append("decode is above the measured bandwidth roofline: the weights partly fit in CPU caches, or the probe underestimates the bandwidth")
    engine = meta.get("engine") or {}
    load_ms, load_source = engine.get("load_ms"), "embedded engine start to healthy" if engine.get("load_ms") is not None else None
    if load_ms is None:
        seen = [w.get("load_ms") for s in scen for w in (s.get("warmup") or []) if w.get("load_ms")]
        if seen:
            load_ms, load_source = max(seen), "server load_duration of a warm-up request"
        else:
            load_source = "not measured: the server had the model loaded already"
    concurrency = None
    if sweep is not None:
        concurrency = {"skipped": bool(sweep.get("skipped")), "levels": sweep.get("levels") or []}
        if sweep.get("skipped"):
            notes.append("concurrency sweep skipped: pass --concurrency 1,2,4 to run it")
    trials = max([s.get("trials") or 0 for s in scen] or [0]) or None
    return {
        "version": CHECKER_VERSION,
        "decode_tok_s": decode,
        "content_tok_s": med("content_tok_s"),
        "server_decode_tok_s": med("server_decode_tok_s"),
        "client_server_ratio": med("client_server_ratio"),
        "ttft_ms": shortest.get("ttft_ms") if shortest else None,
        "ttft_p90_ms": shortest.get("ttft_p90_ms") if shortest else None,
        "ttfr_ms": shortest.get("ttfr_ms") if shortest else None,
        "prefill_tok_s": longest.get("prefill_tok_s") if longest else None,
        "server_prefill_tok_s": longest.get("server_prefill_tok_s") if longest else None,
        "roofline_pct": roof_pct,
        "roofline_tok_s": roof_tok_s,
        "roofline": {
            "bandwidth_gb_s": (bw or {}).get("gb_s"),
            "bandwidth_method": (bw or {}).get("method"),
            "bytes_per_token": bpt,
            "bytes_source": bpt_source,
            "note": roof_note,
        },
        "headline": {
            "decode": [s.get("scenario") for s in valid],
            "ttft": shortest.get("scenario") if shortest else None,
            "prefill": longest.get("scenario") if longest else None,
        },
        "load_ms": load_ms,
        "load_source": load_source,
        "trials": trials,
        "scenarios": scenarios,
        "concurrency": concurrency,
        "valid": bool(valid),
        "flags": flags,
        "notes": notes,
    }


SCENARIO_COLUMNS = [
    ("scenario", "scenario"),
    ("prompt_tokens", "prompt tok"),
    ("max_tokens", "gen tok"),
    ("ttfr_ms", "TTFR ms"),
    ("ttft_ms", "TTFT ms"),
    ("ttft_p90_ms", "TTFT p90"),
    ("decode_tok_s", "decode tok/s"),
    ("decode_sd", "± sd"),
    ("server_decode_tok_s", "server tok/s"),
    ("client_server_ratio", "client/server"),
    ("prefill_tok_s", "prefill tok/s"),
    ("roofline_pct", "roofline %"),
    ("valid_trials", "n"),
    ("status", "status"),
]


def scenario_rows(speed: dict) -> list[dict]:
    """One plain row per scenario for tables (console, CSV)."""
    rows = []
    items = sorted((speed.get("scenarios") or {}).items(), key=lambda kv: (kv[1].get("prompt_tokens") or 0, kv[0]))
    for name, s in items:
        row = {k: s.get(k) for k, _ in SCENARIO_COLUMNS}
        row["scenario"] = name
        row["decode_sd"] = ((s.get("metrics") or {}).get("decode_tok_s") or {}).get("sd")
        row["status"] = "ok" if s.get("valid") else ("; ".join(f.split(":", 1)[0] for f in s.get("flags") or []) or "invalid")
        rows.append(row)
    return rows


def csv_rows(run: dict) -> list[list]:
    """Long-format speed rows (header first): one per scenario and metric."""
    sp = run.get("speed") or {}
    out = [["run_id", "speed_scenario", "metric", "median", "p90", "mean", "sd", "ci95_low", "ci95_high", "n", "valid"]]
    for name, s in (sp.get("scenarios") or {}).items():
        for metric, m in (s.get("metrics") or {}).items():
            ci = m.get("ci95") or [None, None]
            out.append([run.get("run_id"), name, metric, m.get("median"), m.get("p90"), m.get("mean"), m.get("sd"), ci[0], ci[1], m.get("n"), s.get("valid")])
        out.append([run.get("run_id"), name, "roofline_pct", s.get("roofline_pct"), None, None, None, None, None, None, s.get("valid")])
    for lv in ((sp.get("concurrency") or {}).get("levels") or []):
        for metric in ("aggregate_tok_s", "per_stream_tok_s", "ttft_p90_ms"):
            out.append([run.get("run_id"), f"concurrency-{lv.get('concurrency')}", metric, lv.get(metric), None, None, None, None, None, lv.get("valid_requests"), lv.get("valid")])
    return out
