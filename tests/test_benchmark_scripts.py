"""benchmarks/overhead.py: its arithmetic on made-up times, and one tiny real run (2
requests, 1 pair) to show the script works end to end. No timed asserts: the numbers
depend on the machine; the script reports them, the tests only check their shape."""
import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("overhead", Path(__file__).resolve().parents[1] / "benchmarks" / "overhead.py")
overhead = importlib.util.module_from_spec(spec)
spec.loader.exec_module(overhead)


def test_outside_view_splits_start_up_finish_and_per_task_gaps():
    run = {"t0": 100.0, "end": 108.0, "wall_s": 8.0, "rss_mib": 30.0}
    # three requests 0.2 s apart, replies 0.15 s: 0.05 s of client time between them
    reqs = [{"received_at": 100.5}, {"received_at": 100.7}, {"received_at": 100.9}]
    v = overhead.outside_view(run, reqs, 0.15)
    assert v["start_up_s"] == pytest.approx(0.5)
    assert v["finish_s"] == pytest.approx(108.0 - 101.05)
    assert v["fixed_s"] == pytest.approx(0.5 + 6.95)
    assert v["per_task_s"] == pytest.approx(0.05)
    one = overhead.outside_view(run, reqs[:1], 0.15)
    assert one["per_task_s"] is None
    assert "start_up_s" not in overhead.outside_view(run, [], 0.15)


def test_added_share_is_of_benchloops_own_wall_time():
    assert overhead.added_share(10.0, 9.5) == pytest.approx(5.0)
    assert overhead.added_share(9.0, 9.5) < 0  # faster than the plain loop is reported as such


def test_summarize_takes_medians_per_arm_and_keeps_each_pairs_share():
    def run(w):
        return {"wall_s": w, "start_up_s": 0.1, "finish_s": 0.05, "fixed_s": 0.15, "per_task_s": 0.002, "rss_mib": 30.0, "requests": 40}

    s = overhead.summarize({"plain": [run(6.0), run(6.2), run(6.1)], "benchloop": [run(6.3), run(6.4), run(9.0)]}, 0.15)
    assert s["median"]["plain"]["wall_s"] == 6.1 and s["median"]["benchloop"]["wall_s"] == 6.4
    assert s["added_share_pct"] == pytest.approx(100 * 0.3 / 6.4)
    assert len(s["pair_shares_pct"]) == 3 and s["requests"] == 40
    assert "BenchLoop adds" in overhead.report(s | {"cpus": 2, "load_avg": [1.0, 1.0, 1.0]})


def test_import_groups_counts_top_level_imports_by_package():
    lines = [
        "import time: self [us] | cumulative | imported package",
        "import time:       647 |     601429 | pytest",
        "import time:       232 |     246924 |   _pytest._code",
        "import time:      8762 |     353497 | requests",
        "import time:       100 |       2000 | benchloop.options",
        "import time:       100 |       3000 | benchloop_pytest.plugin",
        "import time:       100 |       1000 | _pytest.python",
        "noise",
    ]
    g = overhead.import_groups(lines)
    assert g["pytest"] == pytest.approx(0.602429)
    assert g["requests"] == pytest.approx(0.353497)
    assert g["benchloop"] == pytest.approx(0.005)
    assert list(g)[0] == "pytest"


def test_tiny_run_reports_every_figure():
    res = overhead.main(["--tiny"])
    assert res["requests"] == 2 and res["pairs"] == 1
    for arm in ("plain", "benchloop", "terminal"):
        m = res["median"][arm]
        assert m["wall_s"] > 0 and m["rss_mib"] > 0 and m["start_up_s"] is not None and m["per_task_s"] is not None
