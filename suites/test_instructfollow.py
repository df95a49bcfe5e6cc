"""instructfollow: verifiable formatting and content instructions, strict and loose.

Tasks: tasks/instructfollow.yaml. Checker: benchloop/checkers/instructfollow.py.
"""
BENCHLOOP_SUITE = "instructfollow"


def test_instructfollow(task, provider, harness, recorder):
    recorder.run(task, provider, harness)
