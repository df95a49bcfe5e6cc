"""reasonmath: practical word problems, answered on a final ``ANSWER:`` line.

Tasks: tasks/reasonmath.yaml. One turn (benchloop/drivers/chat.py), judged by
benchloop/checkers/reasonmath.py.
"""
from benchloop.checkers import reasonmath as checker
from benchloop.drivers import chat as driver

BENCHLOOP_SUITE = "reasonmath"


def test_reasonmath(task, conversation, record):
    ex = driver.run(task, conversation)  # ask the model once
    verdict = checker.check(task, ex.answer) if ex.error is None else None  # judge (pure)
    record(ex, verdict)  # keep the receipt; fails the test with the reason
