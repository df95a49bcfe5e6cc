"""coding: practical Python functions, graded by hidden tests run in the sandbox.

Tasks: tasks/coding.yaml. One turn (benchloop/drivers/chat.py), judged by
benchloop/checkers/coding.py.
"""
from benchloop.checkers import coding as checker
from benchloop.drivers import chat as driver

BENCHLOOP_SUITE = "coding"


def test_coding(task, conversation, record):
    ex = driver.run(task, conversation)  # ask the model once
    verdict = checker.check(task, ex.answer) if ex.error is None else None  # judge (pure)
    record(ex, verdict)  # keep the receipt; fails the test with the reason
