"""Synthetic run artifacts, shaped exactly like ``benchloop run`` writes them.

Why: the dashboard's tests, its latency benchmark (1,000 runs) and its screenshots need
many realistic runs without running a model thousands of times. Scores are computed by
the real scorer (``benchloop.scoring.score_run``) from the task records, so every number
the dashboard shows for a synthetic run is one the CLI would show for it too.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchloop.artifact import write_json_atomic
from benchloop.catalog import HARNESSES

SUITE_PREFIX = {"reasonmath": "rm", "toolcall": "tc", "coding": "cd", "dataextract": "de", "instructfollow": "if", "agent": "ag", "speed": "sp"}


def task_record(suite: str, n: int, *, passed: bool, output: str | None = None, error: str | None = None, latency_ms: float = 900.0, turns: list | None = None) -> dict:
    tid = f"{SUITE_PREFIX.get(suite, suite[:2])}-{n:03d}"
    score = 100.0 if passed and not error else 0.0
    out = output if output is not None else (f"Worked it out.\nANSWER: {n * 3}" if passed else f"I think it is {n}.\nANSWER: {n}")
    return {
        "suite": suite,
        "task_id": tid,
        "score": score,
        "passed": bool(passed and not error),
        "error": error,
        "error_kind": "connect" if error else None,
        "reason": "" if passed else f"expected {n * 3}, got {n}",
        "latency_ms": round(latency_ms, 3),
        "ttft_ms": round(latency_ms * 0.1, 3),
        "ttfr_ms": round(latency_ms * 0.09, 3),
        "prompt_tokens": 60 + n,
        "completion_tokens": 40 + n,
        "reasoning_tokens": None,
        "token_source": "server",
        "finish_reason": "stop",
        "output": out,
        "reasoning": "",
        "tool_calls": [],
        "checks": [{"name": "answer", "passed": bool(passed), "expected": str(n * 3), "got": str(n * 3 if passed else n)}],
        "prompt": [{"role": "system", "content": "Solve it; end with ANSWER: <value>."}, {"role": "user", "content": f"Task {tid}: what is {n} times 3?"}],
        "max_tokens": 256,
        "request": {"model": "m", "messages": [], "max_tokens": 256},
        "response": {"events": [], "malformed_chunks": 0},
        "server_timings": None,
        "turns": turns or [],
        "wall_ms": round(latency_ms + 2, 3),
    }


def synthetic_run(
    run_id: str,
    *,
    model: str = "qwen3:8b",
    harness: str = "raw",
    provider: str = "ollama",
    hardware: str = "NVIDIA GeForce RTX 4090",
    profile: str = "quick",
    suites: dict | None = None,
    pass_rate: float = 0.7,
    seed: int = 0,
    manifest_hash: str = "a" * 64,
    started_at: datetime | None = None,
    status: str = "complete",
    decode_tok_s: float | None = None,
    tasks: list | None = None,
    concurrency: list[int] | None = None,
    remote: bool = False,
    quantization: str = "Q4_K_M",
) -> dict:
    """A complete run.json dict. ``suites`` maps suite name -> number of tasks;
    ``decode_tok_s`` adds a speed block (and a speed suite) so the speed plots have data;
    ``concurrency`` (levels) adds a concurrency sweep to it, else the sweep task is skipped."""
    from benchloop.scoring import score_run

    rng = random.Random(seed)
    suites = suites or {"reasonmath": 10}
    started = started_at or datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=seed)
    recs = list(tasks or [])
    if not tasks:
        for suite, n in suites.items():
            for i in range(1, n + 1):
                recs.append(task_record(suite, i, passed=rng.random() < pass_rate, latency_ms=rng.uniform(300, 3000)))
    run = {
        "schema_version": 1,
        "run_id": run_id,
        "status": status,
        "started_at": started.isoformat(timespec="milliseconds"),
        "finished_at": (started + timedelta(minutes=3)).isoformat(timespec="milliseconds"),
        "benchloop_version": "0.1.0",
        "model": {"name": model, "quantization": quantization, "parameters": "8B", "family": "qwen3"},
        "provider": provider,
        "endpoint": "http://127.0.0.1:11434",
        "harness": harness,
        "remote": remote,
        "profile": profile,
        "sampling": {"temperature": 0.0, "seed": 42, "max_tokens": None},
        "settings": {"model": model, "provider": provider, "harness": harness, "profile": profile},
        "engine": None,
        "machine": {"cpu": "AMD Ryzen 9 7950X", "cores": 32, "ram_gb": 64.0, "os": "Linux", "gpus": [{"name": hardware, "memory_gb": 24.0, "vendor": "nvidia"}], "hardware": hardware, "hardware_source": "detected", "role": "host", "machine_id": "0" * 24},
        "manifest_hash": manifest_hash,
        "manifest": {"scoring": "scoring-1", "suites": {s: {"task_file_sha256": "0" * 64} for s in suites}},
        "missing_tasks": [],
        "wall_s": 180.0,
        "tasks": sorted(recs, key=lambda t: (t["suite"], t["task_id"])),
    }
    if decode_tok_s is not None:
        run["tasks"].append(task_record("speed", 1, passed=True))
        sweep = task_record("speed", 2, passed=True, output="")
        sweep.update(score=0.0, skipped=not concurrency, reason="" if concurrency else "skipped: pass --concurrency (e.g. --concurrency 1,2,4) to run the concurrency sweep")
        run["tasks"].append(sweep)
        run["speed"] = {
            "decode_tok_s": decode_tok_s,
            "ttft_ms": round(4000.0 / decode_tok_s, 1),
            "scenarios": {
                "short-chat": {"prompt_tokens": 64, "decode_tok_s": decode_tok_s * 1.05, "prefill_tok_s": decode_tok_s * 20, "ttft_ms": 90.0},
                "medium-prompt": {"prompt_tokens": 1024, "decode_tok_s": decode_tok_s * 0.95, "prefill_tok_s": decode_tok_s * 28, "ttft_ms": 300.0},
                "long-prompt": {"prompt_tokens": 4096, "decode_tok_s": decode_tok_s * 0.85, "prefill_tok_s": decode_tok_s * 32, "ttft_ms": 850.0},
                "long-output": {"prompt_tokens": 256, "decode_tok_s": decode_tok_s * 0.97, "prefill_tok_s": decode_tok_s * 18, "ttft_ms": 95.0},
            },
            "concurrency": {"skipped": not concurrency, "levels": [
                {"concurrency": c, "aggregate_tok_s": round(decode_tok_s * c * (0.92 ** (c - 1)), 2), "per_stream_tok_s": round(decode_tok_s * (0.92 ** (c - 1)), 2), "ttft_p90_ms": round(90.0 * c ** 1.3, 1)} for c in (concurrency or [])
            ]},
        }
    run["scores"] = score_run(run)
    return run


def write_run(runs_dir: str | Path, run: dict, *, tasks_jsonl: bool = True) -> Path:
    d = Path(runs_dir) / run["run_id"]
    d.mkdir(parents=True, exist_ok=True)
    if tasks_jsonl:
        with open(d / "tasks.jsonl", "w", encoding="utf-8") as f:
            for t in run.get("tasks") or []:
                f.write(json.dumps(t, sort_keys=True) + "\n")
    write_json_atomic(d / "run.json", run)
    return d


# pass rate per demo cell (model/harness); a cell not named here passes 60 %
DEMO_RATES = {"qwen3:8b/raw": 0.85, "qwen3:8b/hermes": 0.8, "qwen3:8b/qwen": 0.9, "qwen3:8b/pi": 0.5,
              "llama3.1:8b/raw": 0.55, "llama3.1:8b/hermes": 0.45, "llama3.1:8b/qwen": 0.35, "llama3.1:8b/pi": 0.4}


def synthetic_sweep(
    runs_dir: str | Path,
    sweep_id: str = "sweep-20260201-070000-d3m0ab",
    *,
    models: tuple = ("qwen3:8b", "llama3.1:8b"),
    harnesses: tuple = tuple(HARNESSES),
    pass_rates: dict | None = None,
    unfinished: dict | None = None,
    suites: dict | None = None,
    created_at: datetime | None = None,
) -> dict:
    """A sweep of synthetic runs (models × harnesses on one Ollama), with the
    ``sweep.json`` ``benchloop sweep`` writes, its answer computed by the real
    :func:`benchloop.sweep_stats.analyze`. ``pass_rates`` maps a cell name
    (``model/harness``) to its pass rate; ``unfinished`` maps a cell name to
    ``pending``, ``running`` (a run with half its tasks) or ``failed`` (no run)."""
    from benchloop import sweep as sw
    from benchloop import sweep_run as sr
    from benchloop.sweep_stats import analyze

    suites = suites or {"reasonmath": 20, "toolcall": 12}
    unfinished = unfinished or {}
    plan = {"axes": {"model": list(models), "harness": list(harnesses)}, "per_value": {},
            "settings": {"provider": "ollama", "endpoint": "http://127.0.0.1:11434", "profile": "quick", "suites": ",".join(suites)}}
    cells = sw.expand(plan)
    for c in cells:
        c["group"] = "http://127.0.0.1:11434"
    doc = sr.new_sweep(plan, cells, sweep_id=sweep_id, rows=None, cols=None)
    created = created_at or datetime(2026, 2, 1, 7, tzinfo=timezone.utc)
    doc["created_at"] = created.isoformat(timespec="milliseconds")
    for i, cell in enumerate(doc["cells"]):
        state = unfinished.get(cell["name"])
        if state in ("pending", "failed"):
            cell["status"] = state
            continue
        cell["run_id"] = sr.cell_run_id(sweep_id, cell)
        rate = (pass_rates or DEMO_RATES).get(cell["name"], 0.6)
        rng = random.Random(i)
        # task j passes below the cell's rate on one fixed ordering: a better cell passes a superset (clean paired tests)
        recs = [task_record(s, n, passed=((37 * j) % 100) / 100 < rate, latency_ms=rng.uniform(300, 2500)) for j, (s, n) in enumerate((s, n) for s, k in suites.items() for n in range(1, k + 1))]
        if state == "running":
            recs = recs[: len(recs) // 2]
        run = synthetic_run(cell["run_id"], model=cell["axes"]["model"], harness=cell["axes"]["harness"], tasks=recs, suites=suites, seed=i,
                            started_at=created + timedelta(minutes=4 * i), decode_tok_s=round(60.0 - 9 * models.index(cell["axes"]["model"]) + 3 * harnesses.index(cell["axes"]["harness"]), 1),
                            status="incomplete" if state == "running" else "complete")
        write_run(runs_dir, run)
        cell["status"] = state or "complete"
        cell["wall_s"] = 180.0
        cell["attempts"] = [{"at": run["started_at"], "action": "run", "run_id": cell["run_id"], "exit_code": 1, "wall_s": 180.0}]
    doc["status"] = "running" if any(unfinished.get(c["name"]) in ("pending", "running") for c in doc["cells"]) else "complete" if not unfinished else "incomplete"
    doc["result"] = analyze(doc, sr.load_cell_runs(doc, str(runs_dir)))
    sr.write_sweep(doc, sr.sweep_dir(runs_dir, sweep_id))
    return doc


class ServedApp:
    """An ASGI app served by real uvicorn on a free loopback port, in a thread.

    Tests and the latency benchmark talk to it over real HTTP, so the middleware, the
    Host/Origin checks and SSE streaming are exercised exactly as a browser meets them."""

    def __init__(self, app, host: str = "127.0.0.1"):
        self.app = app
        self.host = host
        self.server = None
        self.thread = None
        self.url = ""

    def start(self, timeout: float = 20.0) -> "ServedApp":
        import socket
        import threading
        import time

        import uvicorn

        # proto=IPPROTO_TCP matters: asyncio only turns Nagle off (TCP_NODELAY) on
        # sockets that say they are TCP, and without it every small keep-alive response
        # waits ~40 ms for a delayed ACK, as uvicorn's own binding does not.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name="dashboard-test-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.02)
        self._sock = sock
        self.url = f"http://{self.host}:{port}"
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(timeout=15)
            self.server = None
        try:
            self._sock.close()
        except Exception:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
