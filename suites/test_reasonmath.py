"""reasonmath: practical word problems, answered on a final ``ANSWER:`` line.

Tasks: tasks/reasonmath.yaml. Checker: benchloop/checkers/reasonmath.py.
"""
BENCHLOOP_SUITE = "reasonmath"


def test_reasonmath(task, provider, harness, recorder):
    recorder.run(task, provider, harness)
