"""dataextract: messy text to one JSON object, scored field by field and by type.

Tasks: tasks/dataextract.yaml. One turn (benchloop/drivers/chat.py), judged by
benchloop/checkers/dataextract.py.
"""
from benchloop.checkers import dataextract as checker
from benchloop.drivers import chat as driver

BENCHLOOP_SUITE = "dataextract"


def test_dataextract(task, conversation, record):
    ex = driver.run(task, conversation)  # ask the model once
    verdict = checker.check(task, ex.answer) if ex.error is None else None  # judge (pure)
    record(ex, verdict)  # keep the receipt; fails the test with the reason
