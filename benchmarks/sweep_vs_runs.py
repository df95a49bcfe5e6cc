"""A sweep against the same cells run one `benchloop run` at a time (issue 13).

The done-when: a 2 models x 2 harnesses sweep on one scripted endpoint finishes in the
time of the four runs done one after another, or less. Cells on one endpoint run one
after another inside a sweep too, so what this measures is the sweep's own cost (its
checks before any cell, sweep.json, the analysis) against four separate launches.
Prints the ratio of each round; no target is asserted anywhere.

    python benchmarks/sweep_vs_runs.py [--rounds 3] [--delay 0.05]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--delay", type=float, default=0.05, help="seconds before each scripted reply (the model's time)")
    args = ap.parse_args(argv)
    from receipts_helpers import Answers

    from benchloop.testing.scripted import ScriptedEndpoint

    ep = ScriptedEndpoint(Answers(delay_s=args.delay, by_model={"ref": lambda t: True, "wrong": lambda t: False}), models=("ref", "wrong")).start()

    def launch(cmd, home):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "benchloop", *cmd], capture_output=True, text=True, env=dict(os.environ, BENCHLOOP_HOME=home))
        if p.returncode != 0:
            raise SystemExit(p.stderr[-800:])
        return time.perf_counter() - t0

    common = ["--provider", "openai_compat", "--endpoint", ep.url, "--suites", "reasonmath", "--profile", "core"]
    ratios = []
    try:
        for r in range(args.rounds):
            runs = sum(launch(["run", "--model", m, "--harness", h, *common], tempfile.mkdtemp()) for m in ("ref", "wrong") for h in ("raw", "hermes"))
            sweep = launch(["sweep", "--model", "ref,wrong", "--harness", "raw,hermes", *common], tempfile.mkdtemp())
            ratios.append(sweep / runs)
            print(f"round {r + 1}: four runs one after another {runs:.2f} s; the sweep {sweep:.2f} s; sweep/runs {sweep / runs:.2f}")
    finally:
        ep.stop()
    ratios.sort()
    print(f"median sweep/runs {ratios[len(ratios) // 2]:.2f} (the done-when asks for <= 1.00)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
