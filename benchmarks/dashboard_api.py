"""How fast the dashboard lists runs when the store is big (issue 14: 100,000 runs).

Creates N synthetic run artifacts (complete runs with a small ``run.json``, one in 500 a
killed run with only ``meta.json`` + ``tasks.jsonl``; shaped like ``benchloop run`` writes
them, scores from the real scorer) in a temporary directory or ``--reuse DIR``, builds the
SQLite run index from scratch, times its refresh with nothing changed, then serves the
dashboard with real uvicorn on a loopback port and times the API over real HTTP: every
runs-list query (first page, filters, filter + sort, deepest page by offset both ways, a
middle page, a deep page by cursor), the facets, one run (a different run each request,
so the artifact cache does not hide the read), and the leaderboard (steady state, and
right after a complete run changed, which regroups every row).

Target (issue 14): with 100,000 runs every runs-list median and the no-change refresh
≤ 20 ms. The other numbers are printed for reference.

    python benchmarks/dashboard_api.py [--runs 1000] [--requests 200] [--reuse DIR] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

TARGET_MS = 20.0
MODELS = ["qwen3:8b", "llama3.1:8b", "gemma3:4b", "mistral:7b", "phi4:14b", "smollm2-135m"]
HARNESSES = ["raw", "hermes", "qwen", "pi"]
HARDWARE = ["NVIDIA GeForce RTX 4090", "Apple M3 Max", "AMD Ryzen 9 7950X"]
SLIM_TASK = ("suite", "task_id", "score", "passed", "error", "latency_ms", "ttft_ms", "output", "reason")
KILLED_EVERY = 500
GEN_MARKER = ".benchgen.json"  # a dot-file: never mistaken for a run


def _templates() -> list[dict]:
    """48 scored runs to clone: the scorer runs 48 times, not N times."""
    from benchloop.dashboard.demo import synthetic_run

    out = []
    for k in range(48):
        run = synthetic_run("x", seed=k, pass_rate=0.3 + (k % 7) / 10, suites={"reasonmath": 4, "toolcall": 4}, decode_tok_s=20.0 + k * 3 if k % 2 else None)
        run["tasks"] = [{f: t.get(f) for f in SLIM_TASK} for t in run["tasks"]]
        run.pop("manifest", None)
        out.append(run)
    return out


def _write_chunk(args) -> int:
    root, lo, hi = args
    root = Path(root)
    templates = _templates()
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(lo, hi):
        rid = f"2026{1 + i % 12:02d}{1 + i % 28:02d}-{i:06d}-{MODELS[i % 6].replace(':', '-')}-{i:05x}"
        tpl = templates[i % len(templates)]
        started = base + timedelta(seconds=37 * i)
        run = dict(
            tpl, run_id=rid, model=dict(tpl["model"], name=MODELS[i % 6]), harness=HARNESSES[(i // 6) % 4], profile=["quick", "core", "full"][i % 3],
            machine=dict(tpl["machine"], hardware=HARDWARE[(i // 24) % 3]), manifest_hash="%064x" % (i % 3),
            started_at=started.isoformat(timespec="milliseconds"), finished_at=(started + timedelta(minutes=3)).isoformat(timespec="milliseconds"),
        )
        d = root / rid
        d.mkdir(exist_ok=True)
        if i % KILLED_EVERY == KILLED_EVERY - 1:  # killed: meta.json and a task log, no run.json
            (d / "meta.json").write_text(json.dumps({k: v for k, v in run.items() if k not in ("tasks", "scores", "status", "speed")}))
            (d / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in run["tasks"][:3]))
        else:
            (d / "run.json").write_text(json.dumps(run))
    return hi - lo


def make_runs(root: Path, n: int) -> float:
    """N run directories, written by one process per CPU (file creation is the cost)."""
    t0 = time.perf_counter()
    step = max(1000, n // (4 * (os.cpu_count() or 1)))
    chunks = [(str(root), lo, min(n, lo + step)) for lo in range(0, n, step)]
    if len(chunks) == 1:
        _write_chunk(chunks[0])
    else:
        with ProcessPoolExecutor() as ex:
            list(ex.map(_write_chunk, chunks))
    (root / GEN_MARKER).write_text(json.dumps({"runs": n}))
    return time.perf_counter() - t0


def stats(samples: list[float]) -> dict:
    samples = sorted(samples)
    n = len(samples)
    return {"median_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (n - 1))], 2), "max_ms": round(samples[-1], 2), "n": n}


def timed(session, url, n: int, before=None) -> dict:
    """``url`` is a string, or a function of the request number giving one; ``before``
    runs before each request, outside the timing."""
    samples = []
    for i in range(n):
        if before is not None:
            before()
        target = url(i) if callable(url) else url
        t0 = time.perf_counter()
        r = session.get(target, timeout=120)
        samples.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return stats(samples)


def timed_call(fn, n: int) -> dict:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return stats(samples)


def list_queries(n: int) -> dict[str, str]:
    """Every runs-list query the benchmark times (name -> query string)."""
    deep = max(0, n - 50)
    return {
        "runs_list": "",
        "runs_list_filter_model": "model=qwen3:8b",
        "runs_list_filter_status": "status=incomplete",
        "runs_list_filter_profile_hardware": "profile=core&hardware=Apple M3 Max",
        "runs_list_filtered_sorted": "model=qwen3:8b&harness=raw&sort=overall&order=desc",
        "runs_list_sorted_model_asc": "sort=model&order=asc",
        "runs_list_deep_page": f"offset={deep}&limit=50&sort=quality",
        "runs_list_deep_page_asc_nulls": f"offset={deep}&limit=50&sort=decode_tok_s&order=asc",
        "runs_list_middle_page": f"offset={n // 2}&limit=50&sort=started_at",
        "runs_list_filtered_deep_page": f"model=qwen3:8b&harness=raw&sort=overall&offset={max(0, n // 24 - 50)}",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--reuse", metavar="DIR", help="generate the runs here once and reuse them on later calls (the index is rebuilt each time)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import requests

    from benchloop.dashboard.app import create_app
    from benchloop.dashboard.demo import ServedApp
    from benchloop.dashboard.index import INDEX_NAME, RunIndex

    tmp = None if args.reuse else Path(tempfile.mkdtemp(prefix="benchloop-dash-bench-"))
    runs = Path(args.reuse) if args.reuse else tmp / "runs"
    out: dict = {"runs": args.runs}
    try:
        marker = runs / GEN_MARKER
        if args.reuse and marker.exists() and json.loads(marker.read_text()).get("runs") == args.runs:
            out["create_runs_s"] = None
        else:
            if runs.exists():
                shutil.rmtree(runs)
            runs.mkdir(parents=True)
            out["create_runs_s"] = round(make_runs(runs, args.runs), 2)
        for suffix in ("", "-journal", "-wal"):
            Path(str(runs / INDEX_NAME) + suffix).unlink(missing_ok=True)

        idx = RunIndex(runs)  # the server's settings: hot runs re-checked each second
        t0 = time.perf_counter()
        idx.refresh()
        out["index_build_s"] = round(time.perf_counter() - t0, 2)
        assert idx.query()["total"] == args.runs
        time.sleep(2.1)  # past the settle time of the last write
        idx.refresh()
        out["refresh_no_change"] = timed_call(idx.refresh, args.requests)
        idx.min_interval = 0.0  # every refresh also re-checks the runs being written
        out["refresh_no_change_hot_checked"] = timed_call(idx.refresh, args.requests)
        t0 = time.perf_counter()
        idx.refresh(force=True)
        out["full_sweep_no_change_s"] = round(time.perf_counter() - t0, 3)
        idx.close()

        app = create_app(runs, probe_defaults=False)  # default refresh interval, as served
        queries = list_queries(args.runs)
        with ServedApp(app) as srv, requests.Session() as s:
            s.trust_env = False
            s.get(srv.url + "/api/runs", timeout=300).raise_for_status()  # warm
            first = s.get(srv.url + "/api/runs", timeout=60).json()
            assert first["total"] == args.runs and first["next_cursor"] == first["items"][-1]["run_id"]
            for key, q in queries.items():
                out[key] = timed(s, f"{srv.url}/api/runs?{q}", args.requests)
            before_last = s.get(f"{srv.url}/api/runs?sort=quality&limit=50&offset={max(0, args.runs - 100)}", timeout=60).json()["next_cursor"]
            out["runs_list_deep_page_by_cursor"] = timed(s, f"{srv.url}/api/runs?sort=quality&limit=50&cursor={before_last}", args.requests)
            out["facets"] = timed(s, srv.url + "/api/runs/facets", args.requests)
            ids = [item["run_id"] for item in s.get(srv.url + "/api/runs?limit=100", timeout=60).json()["items"]]
            out["run_detail"] = timed(s, lambda i: f"{srv.url}/api/runs/{ids[i % len(ids)]}", args.requests)
            out["leaderboard_first"] = timed(s, srv.url + "/api/leaderboard", 1)
            out["leaderboard"] = timed(s, srv.url + "/api/leaderboard", max(20, args.requests // 5))

            def complete_run_changed():  # what the index does when a finished run lands
                app.state.index.generation += 1
                app.state.index.board_generation += 1

            out["leaderboard_after_change"] = timed(s, srv.url + "/api/leaderboard", max(5, min(20, args.requests // 10)), before=complete_run_changed)
            out["page"] = timed(s, srv.url + "/", max(20, args.requests // 5))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    targeted = [*queries, "runs_list_deep_page_by_cursor", "refresh_no_change", "refresh_no_change_hot_checked"]
    missed = [k for k in targeted if out[k]["median_ms"] > TARGET_MS]
    out["target_ms"] = TARGET_MS
    out["meets_target"] = not missed
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        made = f"created in {out['create_runs_s']} s" if out["create_runs_s"] is not None else f"reused from {runs}"
        print(f"{args.runs} runs ({made}); index build from scratch {out['index_build_s']} s; full sweep with nothing changed (background, every 27 s) {out['full_sweep_no_change_s']} s")
        for key in (*targeted, "facets", "run_detail", "leaderboard_first", "leaderboard", "leaderboard_after_change", "page"):
            r = out[key]
            mark = " *" if key in targeted else ""
            print(f"{key:<34} median {r['median_ms']:>8.2f} ms   p95 {r['p95_ms']:>8.2f} ms   max {r['max_ms']:>8.2f} ms   (n={r['n']}){mark}")
        print(f"* runs-list queries and the no-change refresh {'meet' if not missed else 'MISS'} the {TARGET_MS:.0f} ms median target" + (f": {', '.join(missed)}" if missed else ""))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
