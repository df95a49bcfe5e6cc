"""How much does BenchLoop itself cost? Three figures, measured in one run, as ratios.

1. Share of a run's wall time not spent waiting on the model, on the embedded SmolLM2
   (target < 2%). The pytest session's wall time (``run.json`` ``wall_s``) less the
   model's load (``engine.load_ms``: loading weights is the model's time, not ours) is
   the denominator; what is left after the time every task spent inside
   ``provider.chat`` (``model_wait_ms``) is BenchLoop's, plus the machine probe's own
   duration (it overlaps the load, so the load's subtraction would otherwise hide it).
   ``model_wait_ms`` includes the client's own reading of the stream: that parsing is
   the measurement itself and counts as waiting. ``timings_ms`` in the artifact splits
   BenchLoop's part into start-up, collection, per-task and finish. The process around
   the session (interpreter, pytest start-up, the report) is printed beside it, not
   folded into the target.
   One untimed run comes first: it fills the OS file cache with the model and lets
   Python write its bytecode, as any second run on a user's machine would find them.
2. Cold start of ``benchloop --version`` (target < 0.2 s), beside ``python -c pass``.
3. Cold start the plugin adds to an unrelated ``pytest`` run (target < 20 ms):
   paired, interleaved runs of a one-test project with and without the plugin, with
   other plugins' autoloading off so their noise (hypothesis alone is ~0.5 s here)
   does not swamp a 20 ms signal; the same pair with every installed plugin loaded is
   shown too, and the time spent inside BenchLoop's own code (cProfile) beside both.

Usage: python benchmarks/overhead.py [--suites reasonmath] [--profile core] [--repeat 21]
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

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd, cwd=None, env=None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def bench_env(home: str) -> dict:
    env = dict(os.environ, BENCHLOOP_HOME=home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure what an installed package finds: bytecode
    return env


def one_run(suites: str, profile: str, env: dict) -> dict:
    cmd = [sys.executable, "-m", "benchloop", "run", "--provider", "llamacpp", "--model", "smollm2-135m", "--suites", suites, "--profile", profile, "--json"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    process_s = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"benchmark run failed: {p.stderr[-500:]}")
    run_dir = Path(p.stdout.strip().splitlines()[-1])
    run = json.loads((run_dir / "run.json").read_text())
    return split(run, process_s)


def split(run: dict, process_s: float | None = None) -> dict:
    """The overhead figures of one artifact (pure: tested on a made-up run)."""
    n = len(run["tasks"])
    wall = run["wall_s"]
    load = ((run.get("engine") or {}).get("load_ms") or 0) / 1000
    wait = sum((t.get("model_wait_ms") or 0) for t in run["tasks"]) / 1000
    tm = {k: v / 1000 for k, v in (run.get("timings_ms") or {}).items()}
    measured = wall - load
    # The machine probe runs during the model load, so subtracting the load would hide
    # it: its own duration is charged to BenchLoop, as if it had run alone.
    probe = tm.get("machine_probe", 0.0)
    overhead = max(0.0, measured - wait) + probe
    out = {
        "tasks": n,
        "session_wall_s": round(wall, 3),
        "engine_load_s": round(load, 3),
        "model_wait_s": round(wait, 3),
        "machine_probe_s": round(probe, 3),
        "overhead_s": round(overhead, 3),
        "overhead_share_pct": round(100 * overhead / measured, 2) if measured > 0 else None,
    }
    if {"started", "collected", "last_task_done", "assembled"} <= tm.keys():
        task_phase = tm["last_task_done"] - tm["collected"]
        out["phases_s"] = {
            "start_up_excluding_model_load": round(tm["started"] - load, 3),
            "collection": round(tm["collected"] - tm["started"], 3),
            "per_task_outside_model": round((task_phase - wait) / max(n, 1), 4),
            "finish": round(tm["assembled"] - tm["last_task_done"], 3),
        }
    if process_s is not None:
        out["process_wall_s"] = round(process_s, 3)
        out["process_outside_session_s"] = round(process_s - wall, 3)
    return out


def run_overhead(suites: str, profile: str, trials: int = 2) -> dict:
    with tempfile.TemporaryDirectory() as home:
        env = bench_env(home)
        one_run(suites, profile, env)  # warm-up: file cache, bytecode
        runs = [one_run(suites, profile, env) for _ in range(trials)]
    runs = [r for r in runs if r["overhead_share_pct"] is not None]
    if not runs:
        raise SystemExit("no timed run had a session longer than its model load; nothing to report")
    best = min(runs, key=lambda r: r["overhead_share_pct"])
    worst = max(runs, key=lambda r: r["overhead_share_pct"])
    return {"median_share_pct": round(statistics.median(r["overhead_share_pct"] for r in runs), 2), "best": best, "worst": worst}


def _profile_own_ms(project: str, env: dict) -> float:
    """ms spent inside BenchLoop's own functions (import, hooks) during one pytest run."""
    code = (
        "import cProfile, pstats, pytest, io\n"
        "pr = cProfile.Profile(); pr.enable()\n"
        "pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'benchloop_pytest.plugin', 'test_x.py'])\n"
        "pr.disable(); st = pstats.Stats(pr, stream=io.StringIO())\n"
        "own = [v[3] for k, v in st.stats.items() if ('benchloop_pytest' in k[0]) and k[2] in ('<module>', 'pytest_addoption', 'pytest_configure', 'pytest_generate_tests', 'pytest_runtest_makereport')]\n"
        "print('OWN', sum(own))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("OWN ")]
    return round(1000 * float(line[-1].split()[1]), 2) if line else float("nan")


def cold_starts(repeat: int) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    py = [timed([sys.executable, "-c", "pass"], env=env) for _ in range(repeat)]
    ver = [timed([sys.executable, "-m", "benchloop", "--version"], env=env) for _ in range(repeat)]
    from shutil import which

    exe = [timed(["benchloop", "--version"], env=env) for _ in range(repeat)] if which("benchloop") else None
    med = statistics.median
    res = {"python_pass_s": round(med(py), 4), "benchloop_version_module_s": round(med(ver), 4), "benchloop_version_exe_s": None if exe is None else round(med(exe), 4)}
    with tempfile.TemporaryDirectory() as d:
        Path(d, "test_x.py").write_text("def test_x():\n    assert True\n")
        Path(d, "pytest.ini").write_text("[pytest]\n")
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_x.py"]
        isolated = dict(env, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        pairs = {"isolated": ([], []), "all_plugins": ([], [])}
        for _ in range(repeat):  # interleaved so drift hits both arms equally
            a, b = pairs["isolated"]
            a.append(timed(base + ["-p", "benchloop_pytest.plugin"], cwd=d, env=isolated))
            b.append(timed(base, cwd=d, env=isolated))
            a, b = pairs["all_plugins"]
            a.append(timed(base, cwd=d, env=env))
            b.append(timed(base + ["-p", "no:benchloop"], cwd=d, env=env))
        for name, (with_p, without_p) in pairs.items():
            diffs = sorted(x - y for x, y in zip(with_p, without_p))
            q = len(diffs) // 4
            res[f"pytest_{name}_without_plugin_s"] = round(med(without_p), 4)
            res[f"plugin_added_{name}_ms"] = round(1000 * med(diffs), 1)
            res[f"plugin_added_{name}_iqr_ms"] = [round(1000 * diffs[q], 1), round(1000 * diffs[-q - 1], 1)]
        res["plugin_own_code_ms"] = _profile_own_ms(d, isolated)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suites", default="reasonmath")
    ap.add_argument("--profile", default="core")
    ap.add_argument("--trials", type=int, default=2, help="timed runs after the warm-up")
    ap.add_argument("--repeat", type=int, default=21)
    a = ap.parse_args()
    res = {"run": run_overhead(a.suites, a.profile, a.trials), "cold_start": cold_starts(a.repeat), "cpus": os.cpu_count(), "load_avg_after": os.getloadavg()}
    r, c = res["run"], res["cold_start"]
    print(json.dumps(res, indent=1))
    w = r["worst"]
    print(
        f"BenchLoop's share of the session's wall time, model load excluded ({w['tasks']} tasks): median {r['median_share_pct']:.2f}%, worst {w['overhead_share_pct']:.2f}% (target < 2%); "
        f"the process around the session (interpreter, pytest start-up, report) adds {w['process_outside_session_s']:.2f} s of {w['process_wall_s']:.1f} s"
    )
    print(f"benchloop --version: {c['benchloop_version_exe_s'] or c['benchloop_version_module_s']:.3f} s (python -c pass: {c['python_pass_s']:.3f} s; target < 0.2 s)")
    print(
        f"plugin inside an unrelated pytest run: {c['plugin_added_isolated_ms']:+.1f} ms median paired difference with autoload off "
        f"(IQR {c['plugin_added_isolated_iqr_ms']}), {c['plugin_added_all_plugins_ms']:+.1f} ms with every plugin loaded "
        f"(IQR {c['plugin_added_all_plugins_iqr_ms']}), {c['plugin_own_code_ms']:.1f} ms in BenchLoop's own code (target < 20 ms)"
    )


if __name__ == "__main__":
    main()
