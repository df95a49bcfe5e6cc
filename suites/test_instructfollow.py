"""instructfollow: verifiable formatting and content instructions, strict and loose.

Tasks: tasks/instructfollow.yaml. One turn (benchloop/drivers/chat.py), judged by
benchloop/checkers/instructfollow.py.
"""
from benchloop.checkers import instructfollow as checker
from benchloop.drivers import chat as driver

BENCHLOOP_SUITE = "instructfollow"


def test_instructfollow(task, conversation, record):
    ex = driver.run(task, conversation)  # ask the model once
    verdict = checker.check(task, ex.answer) if ex.error is None else None  # judge (pure)
    record(ex, verdict)  # keep the receipt; fails the test with the reason
