"""The scorer's formulas and intervals, as pure functions."""
import math

import pytest

from benchloop.scoring import score_run, speed_score_local, speed_score_remote, toks_score, ttft_score
from benchloop.stats import bootstrap_mean, summarize, wilson


def _tasks(suite, scores, errors=()):
    return [{"suite": suite, "task_id": f"x-{i:03d}", "score": s, "passed": s == 100, "error": ("boom" if i in errors else None)} for i, s in enumerate(scores)]


def test_local_speed_formula():
    assert speed_score_local(100) == pytest.approx(12.54 * math.log2(100) + 0.9, abs=0.01)
    assert speed_score_local(0.5) == 0
    assert speed_score_local(10_000) == 100
    assert speed_score_local(None) == 0


def test_remote_curves_are_monotonic_and_calibrated():
    assert ttft_score(150) == 100 and ttft_score(2000) == pytest.approx(40, abs=0.01)
    assert toks_score(20) == pytest.approx(40, abs=0.01) and toks_score(150) == pytest.approx(100, abs=0.01)
    xs = [50, 200, 400, 800, 1600, 3200, 6400]
    assert all(ttft_score(a) >= ttft_score(b) for a, b in zip(xs, xs[1:]))
    ys = [1, 5, 20, 40, 80, 150, 400]
    assert all(toks_score(a) <= toks_score(b) for a, b in zip(ys, ys[1:]))
    assert speed_score_remote(200, 150) == 100


def test_overall_without_speed():
    run = {"tasks": _tasks("reasonmath", [100, 0, 100, 100]) + _tasks("coding", [50, 50])}
    sc = score_run(run)
    assert sc["suites"]["reasonmath"]["score"] == 75 and sc["suites"]["coding"]["score"] == 50
    assert sc["quality"] == 62.5 and sc["reliability"] == 50  # 3 of 6 tasks passed
    assert sc["formula"] == "no_speed"
    assert sc["overall"] == pytest.approx(0.65 * 62.5 + 0.35 * 50, abs=0.01)
    assert sc["errors"] == {"count": 0, "rate": 0.0}


def test_local_and_remote_formulas_and_failed_speed_is_zero():
    base = _tasks("reasonmath", [100, 100, 0, 0], errors=(3,)) + [{"suite": "speed", "task_id": "sp-001", "score": 0, "passed": False, "error": None}]
    local = score_run({"tasks": base, "speed": {"decode_tok_s": 64.0}})
    assert local["formula"] == "local"
    assert local["speed"] == speed_score_local(64.0)
    assert local["reliability"] == 50.0  # pass rate of the quality tasks; the speed task has its own score
    assert local["errors"] == {"count": 1, "rate": 20.0}
    assert local["overall"] == pytest.approx(0.55 * 50 + 0.20 * local["speed"] + 0.25 * 50, abs=0.01)
    failed = score_run({"tasks": base, "speed": {}})
    assert failed["formula"] == "local" and failed["speed"] == 0
    remote = score_run({"tasks": base, "remote": True, "speed": {"decode_tok_s": 150, "ttft_ms": 200}})
    assert remote["formula"] == "remote" and remote["speed"] == 100
    assert remote["overall"] == pytest.approx(0.50 * 50 + 0.25 * 100 + 0.25 * 50, abs=0.01)


def test_a_model_that_answers_nothing_scores_zero_overall():
    """scoring-1 counted "no provider error" as reliable, so an empty model got 35."""
    empty = _tasks("reasonmath", [0] * 5) + _tasks("toolcall", [0] * 4)
    sc = score_run({"tasks": empty})
    assert sc["quality"] == 0 and sc["reliability"] == 0 and sc["overall"] == 0
    # with the speed suite, only a speed share that really streamed tokens counts
    silent = score_run({"tasks": empty + [{"suite": "speed", "task_id": "sp-001", "score": 0, "passed": False, "error": None}], "speed": {}})
    assert silent["overall"] == 0
    streamed = score_run({"tasks": empty + [{"suite": "speed", "task_id": "sp-001", "score": 100, "passed": True, "error": None}], "speed": {"decode_tok_s": 64.0}})
    assert streamed["overall"] == pytest.approx(0.20 * speed_score_local(64.0), abs=0.01)


def test_errors_are_a_figure_not_a_score():
    sc = score_run({"tasks": _tasks("reasonmath", [100, 100, 0, 0], errors=(2, 3))})
    assert sc["errors"] == {"count": 2, "rate": 50.0} and sc["suites"]["reasonmath"]["errors"] == 2
    assert sc["reliability"] == 50.0  # an error is a task that did not pass, nothing more


def test_remote_model_that_only_thinks_has_no_content_speed():
    base = _tasks("reasonmath", [100]) + [{"suite": "speed", "task_id": "sp-001", "score": 100, "passed": True, "error": None}]
    thinking = score_run({"tasks": base, "remote": True, "speed": {"decode_tok_s": 150, "content_tok_s": 0.0, "ttft_ms": 200}})
    answering = score_run({"tasks": base, "remote": True, "speed": {"decode_tok_s": 150, "content_tok_s": 150, "ttft_ms": 200}})
    assert thinking["speed"] == 0 and answering["speed"] == 100


def test_intervals():
    lo, hi = wilson(8, 10)
    assert 0 < lo < 80 < hi < 100
    assert wilson(0, 24)[0] == 0 and wilson(0, 24)[1] > 0
    vals = [10, 20, 90, 55, 70, 30]
    assert bootstrap_mean(vals) == bootstrap_mean(vals)  # deterministic
    lo, hi = bootstrap_mean(vals)
    assert lo < sum(vals) / len(vals) < hi
    sc = score_run({"tasks": _tasks("dataextract", [10, 20, 90, 55, 70, 30])})
    assert sc["suites"]["dataextract"]["interval"] == "bootstrap"
    assert score_run({"tasks": _tasks("reasonmath", [0, 100])})["suites"]["reasonmath"]["interval"] == "wilson"


def test_summarize():
    s = summarize([10, 12, 11, 13, 50])
    assert s["median"] == 12 and s["p90"] == 50 and s["n"] == 5
    assert s["ci95"][0] < s["mean"] < s["ci95"][1]
