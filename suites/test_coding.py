"""coding: practical Python functions, graded by hidden tests run in the sandbox.

Tasks: tasks/coding.yaml. Checker: benchloop/checkers/coding.py (sandbox: benchloop/sandbox.py).
"""
BENCHLOOP_SUITE = "coding"


def test_coding(task, provider, harness, recorder):
    recorder.run(task, provider, harness)
