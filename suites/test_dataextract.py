"""dataextract: messy text to one JSON object, scored field by field and by type.

Tasks: tasks/dataextract.yaml. Checker: benchloop/checkers/dataextract.py.
"""
BENCHLOOP_SUITE = "dataextract"


def test_dataextract(task, provider, harness, recorder):
    recorder.run(task, provider, harness)
