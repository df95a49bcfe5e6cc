"""Does BenchLoop's speed suite agree with llama.cpp's own accounting, and with itself?

Against the embedded SmolLM2-135M (benchloop.engine.Engine) it runs the speed scenarios
of tasks/speed.yaml twice, through the same code a run uses (the speed driver and checker,
via benchloop.drivers.run_task), and prints, per scenario:

- client decode tok/s vs llama.cpp's ``timings.predicted_per_second`` on the *same*
  requests, as a ratio (target: within 2%);
- decode as % of the memory-bandwidth roofline (probe + GGUF size);
- the second run's median decode tok/s vs the first's (target: within 10%).

The machine's load average is printed beside them: on a shared box, other processes'
load moves decode speed from one request to the next; the client/server ratio is
immune to that (both clocks time the same tokens), run-to-run agreement is not.

Trials are the suite's own adaptive ones (3 to ``--trials``, stopping at ±2%); each
line says how many ran and why they stopped. ``benchmarks/speed_adaptive.py`` compares
that plan with the fixed one.

    python benchmarks/speed_agreement.py [--trials 5] [--scenarios short,medium,long] [--ctx 8192] [--threads N] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def one_pass(ctx, tasks) -> list[dict]:
    from benchloop.drivers import run_task

    recs = []
    for t in tasks:
        t0 = time.perf_counter()
        rec = run_task(t, ctx)
        rec["pass_s"] = round(time.perf_counter() - t0, 1)
        recs.append(rec)
        sp = rec.get("speed") or {}
        print(f"  {t['id']} {sp.get('scenario')}: decode {sp.get('decode_tok_s')} tok/s, server {sp.get('server_decode_tok_s')}, TTFT {sp.get('ttft_ms')} ms, prompt {sp.get('prompt_tokens')} tok, valid {sp.get('valid')}, {sp.get('trials')} trials ({sp.get('stop')}), {rec['pass_s']} s, load {os.getloadavg()[0]:.1f}", flush=True)
    return recs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--scenarios", default="short,medium,long")
    ap.add_argument("--ctx", type=int, default=8192, help="engine context per slot (the long scenario is clamped to it)")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores); 1 avoids spin-wait stalls on an oversubscribed box")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args(argv)

    from benchloop import speed
    from benchloop.engine import Engine
    from benchloop.harnesses.raw import RawHarness
    from benchloop.providers import make_provider
    from benchloop.drivers.conversation import Conversation
    from benchloop.tasks import load_suite

    wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    tasks = [t for t in load_suite("speed")["tasks"] if t.get("kind") == "scenario" and t.get("scenario") in wanted]
    if not tasks:
        print(f"no scenario among {wanted}", file=sys.stderr)
        return 2
    eng = Engine("smollm2-135m", parallel=1, ctx_per_slot=args.ctx, threads=args.threads).start()
    print(f"engine up in {eng.load_ms:.0f} ms ({eng.path.name}, {eng.threads} threads); load average {os.getloadavg()}", flush=True)
    meta = {"model": dict(eng.facts), "engine": {"model_path": str(eng.path), "load_ms": eng.load_ms}, "remote": False, "machine": {"gpus": []}}
    try:
        ctx = Conversation(provider=make_provider("llamacpp", eng.url), harness=RawHarness(), model="smollm2-135m", settings={"trials": args.trials, "remote": False})
        passes = []
        for i in range(2):
            print(f"pass {i + 1}:", flush=True)
            recs = one_pass(ctx, tasks)
            passes.append({"records": recs, "speed": speed.aggregate(recs, meta)})
    finally:
        eng.stop()

    rows = []
    ok_ratio, ok_repeat = True, True
    for t in tasks:
        a = next(r for r in passes[0]["records"] if r["task_id"] == t["id"])["speed"]
        b = next(r for r in passes[1]["records"] if r["task_id"] == t["id"])["speed"]
        ratios = [q["client_server_ratio"] for p in (a, b) for q in p["requests"] if q.get("client_server_ratio")]
        worst = max((abs(x - 1) for x in ratios), default=None)
        repeat = (b["decode_tok_s"] / a["decode_tok_s"]) if a.get("decode_tok_s") and b.get("decode_tok_s") else None
        roof = passes[0]["speed"]["scenarios"][t["scenario"]].get("roofline_pct")
        row = {
            "scenario": t["scenario"],
            "prompt_tokens": a.get("prompt_tokens"),
            "max_tokens": a.get("max_tokens"),
            "decode_tok_s_run1": a.get("decode_tok_s"),
            "decode_tok_s_run2": b.get("decode_tok_s"),
            "server_decode_tok_s_run1": a.get("server_decode_tok_s"),
            "client_server_ratio_median": round(statistics.median(ratios), 4) if ratios else None,
            "client_server_ratio_worst_dev": round(worst, 4) if worst is not None else None,
            "requests_within_2pct": f"{sum(1 for x in ratios if abs(x - 1) <= 0.02)}/{len(ratios)}",
            "run2_over_run1": round(repeat, 4) if repeat else None,
            "roofline_pct": roof,
            "ttft_ms_run1": a.get("ttft_ms"),
            "prefill_tok_s_run1": a.get("prefill_tok_s"),
            "notes": a.get("notes"),
        }
        ok_ratio &= bool(ratios) and abs(statistics.median(ratios) - 1) <= 0.02
        ok_repeat &= repeat is not None and abs(repeat - 1) <= 0.10
        rows.append(row)
    roof = passes[0]["speed"]["roofline"]
    print()
    print(f"roofline: {roof.get('bandwidth_gb_s')} GB/s ({roof.get('bandwidth_method')}), {roof.get('bytes_per_token')} bytes/token -> {passes[0]['speed'].get('roofline_tok_s')} tok/s")
    print(f"{'scenario':<8} {'prompt':>6} {'gen':>4} {'decode1':>8} {'decode2':>8} {'server1':>8} {'cli/srv':>8} {'worst':>7} {'<=2%':>6} {'run2/1':>7} {'roof%':>6} {'TTFT ms':>8} {'prefill':>8}")
    f = lambda v, d=1: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
    for r in rows:
        print(f"{r['scenario']:<8} {r['prompt_tokens']:>6} {r['max_tokens']:>4} {f(r['decode_tok_s_run1']):>8} {f(r['decode_tok_s_run2']):>8} {f(r['server_decode_tok_s_run1']):>8} {f(r['client_server_ratio_median'], 4):>8} {f(r['client_server_ratio_worst_dev'], 4):>7} {r['requests_within_2pct']:>6} {f(r['run2_over_run1'], 3):>7} {f(r['roofline_pct']):>6} {f(r['ttft_ms_run1']):>8} {f(r['prefill_tok_s_run1']):>8}")
        for n in r["notes"] or []:
            print(f"         note: {n}")
    print(f"client/server within 2% (median per scenario): {'yes' if ok_ratio else 'NO'}; second run within 10%: {'yes' if ok_repeat else 'NO'}; load average now {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "roofline": roof, "speed": [p["speed"] for p in passes]}, fh, indent=1)
    return 0 if (ok_ratio and ok_repeat) else 1


if __name__ == "__main__":
    sys.exit(main())
