"""toolcall: choosing the right function and arguments among several offered, knowing
when not to call, and using a tool's result in the next call.

Tasks: tasks/toolcall.yaml. Tool rounds with scripted results
(benchloop/drivers/toolround.py), judged by benchloop/checkers/toolcall.py.
"""
from benchloop.checkers import toolcall as checker
from benchloop.drivers import toolround as driver

BENCHLOOP_SUITE = "toolcall"


def test_toolcall(task, conversation, record):
    ex = driver.run(task, conversation)  # turn by turn, BenchLoop playing the tools
    verdict = checker.check(task, ex.answer) if ex.error is None else None  # judge every turn (pure)
    record(ex, verdict)
