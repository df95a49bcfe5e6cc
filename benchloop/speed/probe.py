"""What there is to measure against: the server (kind, context size, slots, which extra
request fields it takes), the machine's memory bandwidth, and the decode roofline they
give with the model's size.
"""
from __future__ import annotations

import ctypes
import os
import threading
import time

from benchloop.speed.metrics import positive

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
    bw, b = positive(bandwidth_gb_s), positive(bytes_per_token)
    if not bw or not b:
        return None, None
    limit = bw * 1e9 / b
    d = positive(decode_tok_s)
    return round(limit, 2), (round(100.0 * d / limit, 2) if d else None)


def model_bytes(meta: dict) -> tuple[float | None, str]:
    """Bytes read per generated token: --model-bytes, else the model file's size."""
    settings = meta.get("settings") or {}
    if positive(settings.get("model_bytes")):
        return float(settings["model_bytes"]), "--model-bytes"
    model = meta.get("model") or {}
    if positive(model.get("size_bytes")):
        return float(model["size_bytes"]), "model file size (dense model: every weight read once per token)"
    path = (meta.get("engine") or {}).get("model_path")
    if path:
        try:
            return float(os.path.getsize(path)), "GGUF file size (dense model: every weight read once per token)"
        except OSError:
            pass
    return None, "unknown: the model file is not known; pass --model-bytes"



_SERVERS: dict = {}
_SERVERS_LOCK = threading.Lock()


def get_json(provider, method: str, path: str, body=None, timeout: float = 10.0):
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
        show = get_json(provider, "POST", "/api/show", {"model": model})
        if isinstance(show, dict):
            mi = show.get("model_info") or {}
            for k, v in mi.items():
                if str(k).endswith(".context_length") and isinstance(v, int) and v > 0:
                    info["n_ctx"] = v
    else:
        props = get_json(provider, "GET", "/props")
        if isinstance(props, dict) and isinstance(props.get("default_generation_settings"), dict):
            info["kind"] = "llama.cpp"
            n_ctx = props["default_generation_settings"].get("n_ctx")
            info["n_ctx"] = n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None
            slots = props.get("total_slots")
            info["slots"] = slots if isinstance(slots, int) and slots > 0 else None
        else:
            if getattr(provider, "name", "") == "llamacpp":
                info["kind"] = "llama.cpp"
            models = get_json(provider, "GET", "/v1/models")
            for m in (models.get("data") or []) if isinstance(models, dict) else []:
                if isinstance(m, dict) and m.get("id") == model and isinstance(m.get("max_model_len"), int):
                    info["n_ctx"] = m["max_model_len"]  # vLLM
        tok = get_json(provider, "POST", "/tokenize", {"content": "speed probe"})
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


