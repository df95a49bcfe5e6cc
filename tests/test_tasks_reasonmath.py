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
