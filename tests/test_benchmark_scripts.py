"""The arithmetic of benchmarks/overhead.py, on made-up artifacts (the script itself
runs the real model and is not part of CI)."""
import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("overhead", Path(__file__).resolve().parents[1] / "benchmarks" / "overhead.py")
overhead = importlib.util.module_from_spec(spec)
spec.loader.exec_module(overhead)


def made_up_run(wait_ms=(900.0, 1100.0, 1000.0)):
    return {
        "wall_s": 4.0,
        "engine": {"load_ms": 700.0},
        "tasks": [{"model_wait_ms": w} for w in wait_ms],
        "timings_ms": {"started": 760.0, "collected": 800.0, "first_task_done": 1800.0, "last_task_done": 3850.0, "assembled": 4000.0, "engine_load": 700.0, "machine_probe": 20.0},
    }


def test_split_charges_benchloop_only_for_time_outside_model_and_load():
    r = overhead.split(made_up_run(), process_s=4.5)
    # 4.0 s session - 0.7 s load = 3.3 s measured; 3.0 s waiting on the model -> 0.3 s ours,
    # plus the 0.02 s machine probe that ran hidden inside the load
    assert r["overhead_s"] == pytest.approx(0.32) and r["overhead_share_pct"] == pytest.approx(100 * 0.32 / 3.3, abs=0.01)
    ph = r["phases_s"]
    assert ph["start_up_excluding_model_load"] == pytest.approx(0.06)
    assert ph["collection"] == pytest.approx(0.04)
    assert ph["per_task_outside_model"] == pytest.approx((3.05 - 3.0) / 3, abs=1e-4)
    assert ph["finish"] == pytest.approx(0.15)
    assert r["process_outside_session_s"] == pytest.approx(0.5)


def test_split_never_reports_negative_overhead_or_invents_phases():
    run = made_up_run(wait_ms=(2000.0, 2000.0))  # waits longer than the session: clock skew
    del run["timings_ms"]
    r = overhead.split(run)
    assert r["overhead_s"] == 0 and r["overhead_share_pct"] == 0
    assert "phases_s" not in r and "process_wall_s" not in r
