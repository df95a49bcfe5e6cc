"""Task files: validation errors name file, task and field; reasonmath gives no free points."""
import pytest

from benchloop.checkers import reasonmath
from benchloop.tasks import TaskFileError, load_suite, select

SUITE = load_suite("reasonmath")
TASKS = SUITE["tasks"]
CONSTANTS = ["", "ANSWER: 0", "ANSWER: 1", "ANSWER: 42", "ANSWER: yes", "I don't know.", "ANSWER: 100"]


def test_enough_original_tasks_with_fixed_width_ids():
    assert len(TASKS) >= 20
    assert all(len(t["id"]) == 6 and t["id"].startswith("rm-") for t in TASKS)


@pytest.mark.parametrize("task", TASKS, ids=[t["id"] for t in TASKS])
def test_reference_passes_wrong_fails(task):
    assert reasonmath.check(task, {"content": task["reference"]})["score"] == 100
    assert reasonmath.check(task, {"content": task["wrong"]})["score"] < 100


@pytest.mark.parametrize("task", TASKS, ids=[t["id"] for t in TASKS])
def test_empty_echo_constant_score_zero(task):
    assert reasonmath.check(task, {"content": task["prompt"]})["score"] == 0
    assert reasonmath.check(task, {"content": task["system"] + "\n" + task["prompt"]})["score"] == 0
    for c in CONSTANTS:
        assert reasonmath.check(task, {"content": c})["score"] == 0, c


def test_reasoning_is_never_the_answer():
    t = TASKS[0]
    verdict = reasonmath.check(t, {"content": "I am not sure.", "reasoning": t["reference"]})
    assert verdict["score"] == 0


def test_hedged_answer_fails_and_last_answer_line_counts():
    t = next(x for x in TASKS if x["check"]["type"] == "number")
    want = t["check"]["value"]
    assert reasonmath.check(t, {"content": f"ANSWER: {want} or {want + 7}"})["score"] == 0
    assert reasonmath.check(t, {"content": f"ANSWER: {want + 7}\nwait, recheck\nANSWER: {want}"})["score"] == 100


def test_money_needs_the_cent():
    t = next(x for x in TASKS if x["id"] == "rm-001")
    assert reasonmath.check(t, {"content": "ANSWER: $43.20"})["passed"]
    assert reasonmath.check(t, {"content": "**ANSWER:** 43.2 dollars"})["passed"]
    assert not reasonmath.check(t, {"content": "ANSWER: 43.21"})["passed"]


def test_profiles_select_subsets():
    quick = select(TASKS, profile="quick")
    core = select(TASKS, profile="core")
    assert 0 < len(quick) < len(core) <= len(TASKS)
    assert {t["id"] for t in quick} <= {t["id"] for t in core}
    assert [t["id"] for t in select(TASKS, only=["rm-003"])] == ["rm-003"]


def _write(tmp_path, text):
    (tmp_path / "reasonmath.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("suite: reasonmath\ntasks: [\n", "not valid YAML"),
        ("suite: reasonmath\ntasks: []\n", "field 'tasks'"),
        ("suite: reasonmath\ntasks:\n - {id: rm-1, prompt: x, check: {type: number, value: 1}, reference: a, wrong: b}\n", "field 'id'"),
        ("suite: reasonmath\ntasks:\n - {id: rm-001, prompt: x, check: {type: number, value: 1}, reference: a, wrong: b}\n - {id: rm-001, prompt: y, check: {type: number, value: 1}, reference: a, wrong: b}\n", "duplicate"),
        ("suite: reasonmath\ntasks:\n - {id: rm-001, prompt: x, check: {type: number, value: 1}, wrong: b}\n", "task rm-001: field 'reference'"),
        ("suite: reasonmath\ntasks:\n - {id: rm-002, prompt: x, check: {type: guess, value: 1}, reference: a, wrong: b}\n", "task rm-002: field 'check'"),
    ],
)
def test_invalid_files_fail_with_file_task_and_field(tmp_path, text, fragment):
    with pytest.raises(TaskFileError) as ei:
        load_suite("reasonmath", _write(tmp_path, text))
    msg = str(ei.value)
    assert "reasonmath.yaml" in msg and fragment in msg and "\n" not in msg


def test_suite_overview_counts_profiles_and_keeps_a_broken_file_as_a_row(tmp_path):
    import shutil

    from benchloop.paths import tasks_dir
    from benchloop.tasks import suite_overview

    shutil.copy(tasks_dir() / "reasonmath.yaml", tmp_path / "reasonmath.yaml")
    (tmp_path / "coding.yaml").write_text("suite: coding\ntasks: [\n")
    broken, good = suite_overview(tmp_path)
    assert broken["suite"] == "coding" and "not valid YAML" in broken["error"] and "task_ids" not in broken
    tasks = load_suite("reasonmath")["tasks"]
    assert good["task_ids"] == [t["id"] for t in tasks] and good["full"] == len(tasks)
    assert good["quick"] == len(select(tasks, profile="quick")) < good["core"] == len(select(tasks, profile="core")) <= good["full"]
    assert good["checker"].startswith("reasonmath-")


# --------------------------------------------------------------------------- no free points (issue 11)

import time  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from benchloop.checkers.answers import final_answer  # noqa: E402

IDS = [t["id"] for t in TASKS]
# Off-diagonal exceptions of the cross-task matrix: {(task, other task's reference): reason}.
# None: every task's answer value is distinct within its kind.
MATRIX_EXCEPTIONS: dict = {}


def score(task, content):
    return reasonmath.check(task, {"content": content}).score


def _answer(text):
    return final_answer(text)


def _every_value_listing():
    vals = [_answer(t["reference"]) for t in TASKS] + [_answer(t["wrong"]) for t in TASKS]
    return "ANSWER: " + "; ".join(vals)


def _universal_reply():
    """One text sent to every task: all the references' working and a last line with
    every value, every option, many numbers and clock times."""
    body = "\n".join(t["reference"].replace("ANSWER:", "so") for t in TASKS)
    options = sorted({o for t in TASKS for o in t["check"].get("options", [])})
    numbers = ", ".join(str(i) for i in range(0, 2500, 1)) + ", " + ", ".join(f"{i / 4:.2f}" for i in range(0, 10000, 7))
    times = ", ".join(f"{h:02d}:{m:02d}" for h in range(24) for m in range(0, 60, 1))
    return f"{body}\nANSWER: {', '.join(options)}; {times}; {numbers}"


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_no_other_tasks_reference_scores(task):
    """A reply that fits another task answers none of this one."""
    for other in TASKS:
        if other is task or (task["id"], other["id"]) in MATRIX_EXCEPTIONS:
            continue
        assert score(task, other["reference"]) == 0, other["id"]


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_hedges_negations_and_listings_score_zero(task):
    ans, wrong = _answer(task["reference"]), _answer(task["wrong"])
    kind = task["check"]["type"]
    hedges = [
        f"ANSWER: {ans} or {wrong}",
        f"ANSWER: either {wrong} or {ans}",
        f"ANSWER: {ans} (or possibly {wrong})",
        f"ANSWER: {wrong} / {ans}",
        f"ANSWER: {ans}, {wrong}",
    ]
    if kind in ("number", "money", "time"):
        hedges += [f"ANSWER: between {wrong} and {ans}", f"ANSWER: at least {ans}", f"ANSWER: {ans} or more"]
    negations = [f"ANSWER: not {ans}", f"ANSWER: It is not {wrong}; it is {ans}", f"ANSWER: {ans} is wrong"]
    listings = [_every_value_listing(), _universal_reply()]
    if kind == "choice":
        listings.append("ANSWER: " + ", ".join(task["check"]["options"]))
        listings.append("ANSWER: " + " or ".join(task["check"]["options"]))
    for text in hedges + negations + listings:
        v = reasonmath.check(task, {"content": text})
        assert v.score == 0 and not v.passed, (text[:120], v.reason)


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_reference_answer_after_reasoning_markup_still_counts(task):
    ans, wrong = _answer(task["reference"]), _answer(task["wrong"])
    assert score(task, f"thinking... ANSWER: {wrong}\n</think>\nANSWER: {ans}") == 100  # a lone closer
    assert score(task, f"<think>ANSWER: {ans}</think>\nANSWER: {wrong}") == 0  # the think block is not the answer
    assert score(task, f"**Final answer:** {ans}") == 100
    assert score(task, f"ANSWER: **{ans}**") == 100


@pytest.mark.parametrize("hostile", ["1e309", "9" * 400, "-1e309", "nan", "inf", "NaN dollars", "$" + "9" * 400, "1" + "0" * 40 + " kg", "99:99", "1/0"])
@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_hostile_numbers_are_wrong_answers_not_crashes(task, hostile):
    v = reasonmath.check(task, {"content": f"ANSWER: {hostile}"})
    assert v.score == 0 and not v.passed


def test_validate_refuses_two_way_choices_and_unknown_units():
    base = {"id": "rm-999", "prompt": "x", "reference": "a", "wrong": "b"}
    assert reasonmath.validate({**base, "check": {"type": "choice", "value": "A", "options": ["A", "B"]}})
    assert reasonmath.validate({**base, "check": {"type": "choice", "value": "Z", "options": ["A", "B", "C"]}})
    assert reasonmath.validate({**base, "check": {"type": "number", "value": 3, "unit": "furlongs"}})
    assert reasonmath.validate({**base, "check": {"type": "number", "value": 3.5, "integer": True}})
    assert reasonmath.validate({**base, "check": {"type": "time", "value": "25:99"}})
    assert reasonmath.validate({**base, "check": {"type": "pairs", "value": {"a": "x"}}})
    assert reasonmath.validate({**base, "check": {"type": "choice", "value": "A", "options": ["A", "B", "C"]}}) is None
    assert all(t["check"]["type"] != "choice" or len(t["check"]["options"]) >= 3 for t in TASKS)


def test_verdict_is_typed_and_versioned():
    from benchloop.record import Verdict

    v = reasonmath.check(TASKS[0], {"content": TASKS[0]["reference"]})
    assert isinstance(v, Verdict) and v.detail["answer"] == "$43.20"
    assert reasonmath.CHECKER_VERSION == "reasonmath-3"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000), st.sampled_from(TASKS))
def test_any_text_never_raises_and_is_fast(text, task):
    for content in (text, "ANSWER: " + text, text + "\nANSWER: " + text[:200]):
        t0 = time.thread_time()
        v = reasonmath.check(task, {"content": content})
        assert time.thread_time() - t0 < 0.05
        assert 0 <= v.score <= 100


@pytest.mark.parametrize("junk", [None, 12, ["ANSWER: 1"], {"a": 1}, b"ANSWER: 43.20"])
def test_non_text_content_scores_zero(junk):
    assert reasonmath.check(TASKS[0], {"content": junk}).score == 0
    assert reasonmath.check(TASKS[0], junk).score == 0


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_pathological_long_answers_are_quick(task):
    for content in ("ANSWER: " + "9," * 50_000, "ANSWER: " + "not " * 20_000 + "1", "ANSWER: " + "a=" * 20_000, "ANSWER: " + ("12:30 " * 10_000)):
        t0 = time.thread_time()
        assert reasonmath.check(task, {"content": content}).score == 0
        assert time.thread_time() - t0 < 0.5
