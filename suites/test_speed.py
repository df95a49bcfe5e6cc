"""speed: TTFR, TTFT, decode and prefill per scenario, the server's own timings beside
them, % of the memory-bandwidth roofline, and an opt-in concurrency sweep.

Tasks: tasks/speed.yaml. Measuring loop: benchloop/drivers/speed.py. Verdict:
benchloop/checkers/speed.py. Run-level numbers (``run["speed"]``, the roofline):
benchloop/speed/report.py.

No pytest-timeout backstop here: a scenario is ``--trials`` + warm-up + a few probe
requests, each bounded by the provider's own deadlines, and on a slow CPU the long
scenario alone can rightly take longer than the per-task backstop the CLI sets.
"""
import pytest

from benchloop.checkers import speed as speed_checker
from benchloop.drivers import speed as speed_driver

BENCHLOOP_SUITE = "speed"
pytestmark = pytest.mark.timeout(0)


def test_speed(task, conversation, record):
    ex = speed_driver.run(task, conversation)
    verdict = speed_checker.check(task, ex.answer) if ex.error is None else None
    rec = record(ex, verdict)
    if rec.extra.get("skipped"):
        pytest.skip(rec.reason or "skipped")
