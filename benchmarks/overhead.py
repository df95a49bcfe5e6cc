"""How much does BenchLoop itself cost? Three figures, measured in one run, as ratios.

1. Share of a run's wall time not spent waiting on the model, on the embedded SmolLM2
   (target < 2%): sum of the time each task spent inside provider.chat vs the pytest
   session's wall time (engine start excluded: that is the model loading).
2. Cold start of ``benchloop --version`` (target < 0.2 s), beside ``python -c pass``.
3. Cold start the plugin adds to an unrelated ``pytest`` run (target < 20 ms):
   median of interleaved runs with and without ``-p no:benchloop``.

Usage: python benchmarks/overhead.py [--suites reasonmath] [--profile quick] [--repeat 15]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd, cwd=None, env=None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def run_overhead(suites: str, profile: str) -> dict:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, BENCHLOOP_HOME=home)
        cmd = [sys.executable, "-m", "benchloop", "run", "--provider", "llamacpp", "--model", "smollm2-135m", "--suites", suites, "--profile", profile, "--json"]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if p.returncode != 0:
            raise SystemExit(f"benchmark run failed: {p.stderr[-500:]}")
        run_dir = Path(p.stdout.strip().splitlines()[-1])
        run = json.loads((run_dir / "run.json").read_text())
    wall_s = run["wall_s"]
    load_s = (run.get("engine") or {}).get("load_ms", 0) / 1000
    wait_s = sum((t.get("model_wait_ms") or 0) for t in run["tasks"]) / 1000
    measured = wall_s - load_s
    overhead = max(0.0, measured - wait_s)
    return {"tasks": len(run["tasks"]), "session_wall_s": round(wall_s, 3), "engine_load_s": round(load_s, 3), "model_wait_s": round(wait_s, 3), "overhead_s": round(overhead, 3), "overhead_share_pct": round(100 * overhead / measured, 2)}


def cold_starts(repeat: int) -> dict:
    py = [timed([sys.executable, "-c", "pass"]) for _ in range(repeat)]
    ver = [timed([sys.executable, "-m", "benchloop", "--version"]) for _ in range(repeat)]
    exe = None
    from shutil import which

    if which("benchloop"):
        exe = [timed(["benchloop", "--version"]) for _ in range(repeat)]
    with tempfile.TemporaryDirectory() as d:
        Path(d, "test_x.py").write_text("def test_x():\n    assert True\n")
        Path(d, "pytest.ini").write_text("[pytest]\n")
        with_p, without_p = [], []
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_x.py"]
        for _ in range(repeat):  # interleaved so drift hits both equally
            with_p.append(timed(base, cwd=d))
            without_p.append(timed(base + ["-p", "no:benchloop"], cwd=d))
    imp = subprocess.run([sys.executable, "-X", "importtime", "-c", "import benchloop_pytest.plugin"], capture_output=True, text=True).stderr
    own_us = sum(int(line.split("|")[0].split(":")[1]) for line in imp.splitlines() if "benchloop" in line and "|" in line)
    med = statistics.median
    return {
        "python_pass_s": round(med(py), 4),
        "benchloop_version_module_s": round(med(ver), 4),
        "benchloop_version_exe_s": None if exe is None else round(med(exe), 4),
        "pytest_with_plugin_s": round(med(with_p), 4),
        "pytest_without_plugin_s": round(med(without_p), 4),
        "plugin_added_ms": round(1000 * (med(with_p) - med(without_p)), 1),
        "plugin_import_self_ms": round(own_us / 1000, 2),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suites", default="reasonmath")
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--repeat", type=int, default=15)
    a = ap.parse_args()
    res = {"run": run_overhead(a.suites, a.profile), "cold_start": cold_starts(a.repeat)}
    r, c = res["run"], res["cold_start"]
    print(json.dumps(res, indent=1))
    print(f"overhead share of run wall time: {r['overhead_share_pct']:.2f}% (target < 2%)")
    print(f"benchloop --version: {c['benchloop_version_exe_s'] or c['benchloop_version_module_s']:.3f} s (python -c pass: {c['python_pass_s']:.3f} s; target < 0.2 s)")
    print(f"plugin inside an unrelated pytest run: {c['plugin_added_ms']:+.1f} ms median difference, {c['plugin_import_self_ms']:.2f} ms own import (target < 20 ms)")


if __name__ == "__main__":
    main()
