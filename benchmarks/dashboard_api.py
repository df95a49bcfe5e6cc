"""How fast the dashboard lists runs when the store is big.

Creates N synthetic run artifacts (default 1,000; shaped like ``benchloop run`` writes
them, ~20 tasks each) in a temporary directory, builds the SQLite run index from scratch,
then serves the dashboard with real uvicorn on a loopback port and times the API over
real HTTP: the runs list (first page, filtered + sorted, deep page), one run (a different
run each request, so the artifact cache does not hide the read), and the leaderboard
(steady state, and right after a complete run changed, which regroups every row).
Target (issue 12): every one of those medians under 50 ms with 1,000 runs; the page
itself is printed for reference.

    python benchmarks/dashboard_api.py [--runs 1000] [--requests 200] [--json]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGETED = ("runs_list", "runs_list_filtered_sorted", "runs_list_deep_page", "run_detail", "leaderboard", "leaderboard_after_change")


def make_runs(root: Path, n: int) -> float:
    from benchloop.dashboard.demo import synthetic_run, write_run

    models = ["qwen3:8b", "llama3.1:8b", "gemma3:4b", "mistral:7b", "phi4:14b", "smollm2-135m"]
    harnesses = ["raw", "hermes", "qwen", "pi"]
    hardware = ["NVIDIA GeForce RTX 4090", "Apple M3 Max", "AMD Ryzen 9 7950X"]
    t0 = time.perf_counter()
    for i in range(n):
        rid = f"2026{1 + i % 12:02d}{1 + i % 28:02d}-{i:06d}-{models[i % 6].replace(':', '-')}-{i:04x}"
        run = synthetic_run(
            rid,
            model=models[i % 6],
            harness=harnesses[(i // 6) % 4],
            hardware=hardware[(i // 24) % 3],
            profile=["quick", "core", "full"][i % 3],
            seed=i,
            pass_rate=0.3 + (i % 7) / 10,
            suites={"reasonmath": 10, "toolcall": 10},
            manifest_hash=("%064x" % (i % 3)),
            decode_tok_s=20.0 + (i % 50) * 3 if i % 2 else None,
        )
        write_run(root, run)
    return time.perf_counter() - t0


def timed(session, url, n: int, before=None) -> dict:
    """``url`` is a string, or a function of the request number giving one; ``before``
    runs before each request, outside the timing."""
    samples = []
    for i in range(n):
        if before is not None:
            before()
        target = url(i) if callable(url) else url
        t0 = time.perf_counter()
        r = session.get(target, timeout=30)
        samples.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (n - 1))], 2), "max_ms": round(samples[-1], 2), "n": n}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import requests

    from benchloop.dashboard.app import create_app
    from benchloop.dashboard.demo import ServedApp
    from benchloop.dashboard.index import RunIndex

    tmp = Path(tempfile.mkdtemp(prefix="benchloop-dash-bench-"))
    out: dict = {"runs": args.runs}
    try:
        runs = tmp / "runs"
        runs.mkdir()
        out["create_runs_s"] = round(make_runs(runs, args.runs), 2)
        out["store_mb"] = round(sum(p.stat().st_size for p in runs.rglob("*") if p.is_file()) / 1e6, 1)

        idx = RunIndex(runs, min_interval=0.0)
        t0 = time.perf_counter()
        idx.refresh()
        out["index_build_s"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        idx.refresh(force=True)
        out["index_rescan_unchanged_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        idx.close()
        (runs / ".index.sqlite").unlink()
        idx = RunIndex(runs, min_interval=0.0)
        t0 = time.perf_counter()
        idx.query()
        out["index_rebuild_after_delete_s"] = round(time.perf_counter() - t0, 3)
        idx.close()

        app = create_app(runs, probe_defaults=False)  # default refresh interval, as served
        with ServedApp(app) as srv, requests.Session() as s:
            s.trust_env = False
            s.get(srv.url + "/api/runs", timeout=30).raise_for_status()  # warm
            assert s.get(srv.url + "/api/runs", timeout=30).json()["total"] == args.runs
            out["runs_list"] = timed(s, srv.url + "/api/runs", args.requests)
            out["runs_list_filtered_sorted"] = timed(s, srv.url + "/api/runs?model=qwen3:8b&harness=raw&sort=overall&order=desc", args.requests)
            out["runs_list_deep_page"] = timed(s, srv.url + f"/api/runs?offset={max(0, args.runs - 50)}&limit=50&sort=quality", args.requests)
            ids = [item["run_id"] for item in s.get(srv.url + "/api/runs?limit=100", timeout=30).json()["items"]]
            out["run_detail"] = timed(s, lambda i: f"{srv.url}/api/runs/{ids[i % len(ids)]}", args.requests)
            out["leaderboard"] = timed(s, srv.url + "/api/leaderboard", max(20, args.requests // 5))

            def complete_run_changed():  # what the index does when a finished run lands
                app.state.index.generation += 1
                app.state.index.board_generation += 1

            out["leaderboard_after_change"] = timed(s, srv.url + "/api/leaderboard", max(20, args.requests // 10), before=complete_run_changed)
            out["page"] = timed(s, srv.url + "/", max(20, args.requests // 5))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    target = 50.0
    out["target_ms"] = target
    out["meets_target"] = all(out[k]["median_ms"] < target for k in TARGETED)
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(f"{args.runs} runs, {out['store_mb']} MB of artifacts (created in {out['create_runs_s']} s)")
        print(f"index build from scratch: {out['index_build_s']} s; rescan with nothing changed: {out['index_rescan_unchanged_ms']} ms; rebuild after the index file was deleted: {out['index_rebuild_after_delete_s']} s")
        for key in (*TARGETED, "page"):
            r = out[key]
            print(f"{key:<26} median {r['median_ms']:>7.2f} ms   p95 {r['p95_ms']:>7.2f} ms   max {r['max_ms']:>7.2f} ms   (n={r['n']})")
        missed = [k for k in TARGETED if out[k]["median_ms"] >= target]
        print(f"API medians {'meet' if out['meets_target'] else 'MISS'} the {target:.0f} ms target" + (f": {', '.join(missed)}" if missed else ""))
    return 0 if out["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
