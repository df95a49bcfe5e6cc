"""speed: TTFR, TTFT, decode and prefill per scenario, the server's own timings beside
them, % of the memory-bandwidth roofline, and an opt-in concurrency sweep.

Tasks: tasks/speed.yaml. Measurement loop: benchloop/speed.py (``run``).

No pytest-timeout backstop here: a scenario is ``--trials`` + warm-up + a few probe
requests, each bounded by the provider's own deadlines, and on a slow CPU the long
scenario alone can rightly take longer than the per-task backstop the CLI sets.
"""
import pytest

BENCHLOOP_SUITE = "speed"
pytestmark = pytest.mark.timeout(0)


def test_speed(task, provider, harness, recorder):
    rec = recorder.run(task, provider, harness)
    if rec.get("skipped"):
        pytest.skip(rec.get("reason") or "skipped")
