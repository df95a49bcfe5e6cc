"""``benchloop compare``: paired significance that says no when there is no gap and yes
when there is one, and refuses to call runs of different benchmarks comparable."""
from __future__ import annotations

import copy
import json

import pytest

from receipts_helpers import Answers, bench, cli, load_json, run_args

from benchloop.compare import NOT_COMPARABLE, NOT_SIGNIFICANT, SIGNIFICANT, compare_runs, to_csv, to_markdown
from benchloop.stats import binom_two_sided, mcnemar, paired_bootstrap

TWENTY = [f"rm-{i:03d}" for i in range(1, 21)]


# ------------------------------------------------------------------ pure statistics
def test_exact_mcnemar_matches_hand_computed_binomials():
    assert mcnemar(8, 0)["p"] == pytest.approx(2 / 2**8, abs=1e-6)  # all 8 discordant one way
    assert mcnemar(3, 3)["p"] == 1.0
    assert mcnemar(0, 0)["p"] == 1.0  # no discordant pairs: no evidence at all
    # P(X <= 1) for X ~ Bin(10, .5) = 11/1024, two-sided 22/1024
    assert binom_two_sided(1, 10) == pytest.approx(22 / 1024)
    assert binom_two_sided(9, 10) == binom_two_sided(1, 10)
    big = mcnemar(60, 30)
    assert big["test"] == "mcnemar-chi2" and 0.001 < big["p"] < 0.01


def test_paired_bootstrap_is_deterministic_and_sees_only_real_gaps():
    same = [(100.0, 100.0)] * 12 + [(0.0, 0.0)] * 8
    assert paired_bootstrap([same]) == {"test": "paired-sign-flip", "diff": 0.0, "ci95": [0.0, 0.0], "p": 1.0, "n": 20}
    noisy = [(50.0, 52.0), (60.0, 57.0), (70.0, 71.0), (40.0, 39.0), (80.0, 82.0), (30.0, 29.0)]
    r1, r2 = paired_bootstrap([noisy]), paired_bootstrap([noisy])
    assert r1 == r2 and r1["p"] > 0.05 and r1["ci95"][0] < 0 < r1["ci95"][1]
    gap = [(100.0, 0.0)] * 8 + [(100.0, 100.0)] * 12
    g = paired_bootstrap([gap])
    assert g["diff"] == -40.0 and g["p"] < 0.05 and g["ci95"][1] < 0
    # a few tasks can never be significant, however far they moved together
    assert paired_bootstrap([[(0.0, 100.0)] * 2])["p"] == 0.5
    assert paired_bootstrap([[(0.0, 50.0)] * 5])["p"] == 0.0625  # 2 / 2**5, the smallest p with 5 tasks
    assert paired_bootstrap([[(0.0, 50.0)] * 6])["p"] < 0.05
    # exact (n <= 16) and sampled (n > 16) p-values agree on the same kind of data
    mixed = [(50.0, 60.0), (40.0, 45.0), (70.0, 65.0)] * 4
    exact, sampled = paired_bootstrap([mixed])["p"], paired_bootstrap([mixed * 2])["p"]
    assert 0.05 < exact < 1 and sampled < exact
    # stratified: a suite of 2 tasks weighs as much as a suite of 20
    strat = paired_bootstrap([[(0.0, 100.0)] * 2, [(50.0, 50.0)] * 20])
    assert strat["diff"] == 50.0


def _run(run_id, scores, manifest_hash="m1", status="complete", manifest=None):
    tasks = [{"suite": "reasonmath", "task_id": tid, "score": s, "passed": s == 100.0, "error": None} for tid, s in scores.items()]
    from benchloop.scoring import score_run

    run = {"run_id": run_id, "status": status, "manifest_hash": manifest_hash, "manifest": manifest or {"suites": {"reasonmath": {"task_ids": sorted(scores)}}}, "model": {"name": run_id}, "tasks": tasks}
    run["scores"] = score_run(run)
    return run


def test_different_manifests_are_shown_but_never_called_comparable():
    a = _run("a", {t: 100.0 for t in TWENTY})
    b = _run("b", {t: 0.0 for t in TWENTY}, manifest_hash="m2", manifest={"suites": {"reasonmath": {"task_ids": TWENTY, "checker": "reasonmath-2"}}})
    c = compare_runs([a, b])["comparisons"][0]
    assert c["comparable"] is False and c["verdict"] == NOT_COMPARABLE
    assert "NOT COMPARABLE" in c["banner"] and "checker" in c["banner"]
    rm = c["suites"]["reasonmath"]
    assert rm["verdict"].startswith(NOT_COMPARABLE) and rm["diff"] == -100.0 and rm["p"] < 0.05  # still shown, with its numbers
    assert len(c["tasks"]) == 20 and c["changed"] == 20
    md = to_markdown(compare_runs([a, b]))
    assert "NOT COMPARABLE" in md and "not comparable" in md

    # an unfinished run is compared on the tasks both finished, and says so
    unfinished = _run("u", {t: 100.0 for t in TWENTY[:5]}, status="incomplete")
    u = compare_runs([a, unfinished])["comparisons"][0]
    assert u["comparable"] and u["suites"]["reasonmath"]["n"] == 5 and any("incomplete" in n for n in u["notes"])


def _manifest(checker="reasonmath-2", harness="raw"):
    return {"scoring": "scoring-2", "speed_formula": "speed-1", "harness_format": harness, "suites": {"reasonmath": {"task_file_sha256": "f1", "checker": checker, "task_ids": TWENTY, "max_tokens": 512}, "toolcall": {"task_file_sha256": "t1", "checker": "toolcall-1", "task_ids": ["tc-001"], "max_tokens": 512}}}


def test_harness_ab_is_compared_per_suite_and_a_changed_checker_only_drops_its_suite():
    a = _run("raw", {t: 100.0 if int(t[-3:]) <= 18 else 0.0 for t in TWENTY}, manifest=_manifest())
    b = _run("hermes", {t: 100.0 if int(t[-3:]) % 2 == 0 else 0.0 for t in TWENTY}, manifest_hash="m2", manifest=_manifest(harness="hermes"))
    a["harness"], b["harness"] = "raw", "hermes"
    for run in (a, b):
        run["tasks"].append({"suite": "toolcall", "task_id": "tc-001", "score": 100.0, "passed": True, "error": None})
    c = compare_runs([a, b])["comparisons"][0]
    assert c["comparable"] and c["banner"] is None and c["verdict"] == SIGNIFICANT
    assert {"field": "harness", "a": "raw", "b": "hermes"} in c["context"]
    rm = c["suites"]["reasonmath"]
    assert rm["comparable"] and rm["diff"] == -40.0 and rm["p"] < 0.05
    # a newer checker for one suite: that suite is not compared, the other one still is
    b2 = copy.deepcopy(b)
    b2["manifest"] = _manifest(checker="reasonmath-3", harness="hermes")
    c2 = compare_runs([a, b2])["comparisons"][0]
    assert c2["suites"]["toolcall"]["comparable"] and not c2["suites"]["reasonmath"]["comparable"]
    assert c2["suites"]["reasonmath"]["verdict"].startswith(NOT_COMPARABLE) and "checker" in c2["banner"]
    assert c2["quality"]["suites"] == ["toolcall"]


def test_local_and_remote_are_never_ranked_together():
    a = _run("local", {t: 100.0 for t in TWENTY})
    b = _run("remote", {t: 100.0 for t in TWENTY})
    a["remote"], b["remote"] = False, True
    c = compare_runs([a, b])["comparisons"][0]
    assert c["scores"]["overall"]["diff"] is None and c["scores"]["speed"]["diff"] is None
    assert "never ranked together" in c["scores"]["overall"]["why_not"] and any("never ranked together" in n for n in c["notes"])
    assert c["suites"]["reasonmath"]["comparable"]  # quality still compares


def test_errors_are_not_wrong_answers_and_never_read_as_no_difference():
    a = _run("a", {t: 0.0 for t in TWENTY[:4]})
    b = copy.deepcopy(a)
    b["run_id"] = "b"
    b["tasks"][0]["error"] = "http error: HTTP 500"
    c = compare_runs([a, b])["comparisons"][0]
    t0 = c["tasks"][0]
    assert (t0["outcome_a"], t0["outcome_b"], t0["change"]) == ("wrong", "error", "error in B")
    assert c["changed"] == 1 and c["errors"] == {"a": 0, "b": 1}
    md = to_markdown(compare_runs([a, b]))
    assert "ERROR" in md and "No task differs" not in md
    from rich.console import Console

    console = Console(width=80, record=True, file=open("/dev/null", "w"))
    from benchloop.compare import print_console

    print_console(compare_runs([a, b]), console)
    text = console.export_text()
    assert "ERROR" in text and "no task differs" not in text and max(map(len, text.splitlines())) <= 80


def test_hostile_names_cannot_break_the_markdown_table():
    a = _run("a", {"rm-001": 100.0})
    b = copy.deepcopy(a)
    b["run_id"] = "b"
    b["model"]["name"] = "evil|model\x1b[31m\nrow"
    md = to_markdown(compare_runs([a, b]))
    assert "\x1b" not in md and "evil\\|model" in md and "\nrow" not in md


# ------------------------------------------------------------ end to end, real CLI
def test_same_model_at_temperature_0_is_not_significant_and_a_40_point_gap_is(scripted, tmp_path):
    home = tmp_path / "home"
    # model-a passes 18 of the 20 tasks, model-b 10 of them: 90% vs 50%, a 40-point gap
    answers = Answers(by_model={"model-a": lambda tid: int(tid[-3:]) <= 18, "model-b": lambda tid: int(tid[-3:]) % 2 == 0})
    ep = scripted(answers, models=("model-a", "model-b"))
    task_flags = [f"--task={t}" for t in TWENTY]
    for run_id, model in (("a1", "model-a"), ("a2", "model-a"), ("b1", "model-b")):
        res = bench(run_args(ep.url, "--run-id", run_id, "--temperature", "0", *task_flags, model=model), home)
        assert res.returncode in (0, 3), res.stderr  # complete (some tasks fail, by design)
        assert load_json(home / "runs" / run_id / "run.json")["status"] == "complete"

    same = cli("compare", "a1", "a2", "--format", "json", home=home)
    assert same.returncode == 0, same.stderr
    s = json.loads(same.stdout)["comparisons"][0]
    assert s["comparable"] and s["verdict"] == NOT_SIGNIFICANT and s["quality"]["p"] == 1.0
    assert s["suites"]["reasonmath"]["verdict"] == NOT_SIGNIFICANT and s["changed"] == 0

    gap = cli("compare", "a1", "b1", "--format", "json", home=home)
    g = json.loads(gap.stdout)["comparisons"][0]
    rm = g["suites"]["reasonmath"]
    assert g["comparable"] and g["verdict"] == SIGNIFICANT
    assert (rm["score_a"], rm["score_b"], rm["diff"]) == (90.0, 50.0, -40.0)
    assert rm["test"] == "mcnemar-exact" and rm["mcnemar"]["b"] == 9 and rm["mcnemar"]["c"] == 1 and rm["p"] < 0.05
    assert rm["verdict"] == SIGNIFICANT

    md = cli("compare", "a1", "b1", "--format", "md", home=home).stdout
    assert "significant at 95%" in md and "| reasonmath | 20 |" in md
    csv_text = cli("compare", "a1", "a2", "b1", "--format", "csv", home=home).stdout
    rows = [line.split(",") for line in csv_text.strip().splitlines()]
    assert rows[0][:4] == ["run_a", "run_b", "comparable", "level"]
    assert sum(1 for r in rows if r[3] == "task") == 40  # 20 tasks x 2 comparisons
    console = cli("compare", "a1", "b1", home=home).stdout
    assert "verdict: significant at 95%" in console
    assert to_csv(json.loads(gap.stdout)).count("\n") == 1 + 1 + 1 + 20

    one = cli("compare", "a1", home=home)
    assert one.returncode == 2 and "two runs" in one.stderr


def test_one_number_formatter():
    from benchloop import fmt

    assert fmt.num(None) == fmt.num(float("nan")) == fmt.num("x") == fmt.MISSING == "—"
    assert fmt.num(87.25) == "87.2" and fmt.num(3, digits=0) == "3"
    assert fmt.signed(2.5) == "+2.5" and fmt.signed(-0.04) == "-0.0" and fmt.signed(None) == "—"
    assert fmt.p_value(0.0004) == "<0.001" and fmt.p_value(0.04) == "0.040"
    assert fmt.metric("ttft_ms", 12.345) == "12.3" and fmt.metric("client_server_ratio", 0.98765) == "0.988"
    assert fmt.metric("decode_tok_s", 41.06) == "41.1" and fmt.unit_of("decode_sd") == "score"
