"""toolcall: choosing the right function and arguments among several offered, knowing
when not to call, and using a tool's result in the next call.

Tasks: tasks/toolcall.yaml. Checker (with the multi-turn loop): benchloop/checkers/toolcall.py.
"""
BENCHLOOP_SUITE = "toolcall"


def test_toolcall(task, provider, harness, recorder):
    recorder.run(task, provider, harness)
