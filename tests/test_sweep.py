"""benchloop sweep: a set of ordinary runs, one answer, resumable, refused at once on bad input.

Through the real command (subprocesses and sockets): cells are pytest processes, and
killing a sweep is about process death. Two scripted "models" share the reasonmath
tasks' own reference and wrong replies (receipts_helpers.Answers)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from receipts_helpers import Answers, cli, env_for, load_json, wait_for_lines

from benchloop.artifact import read_tasks_jsonl

CORE = 26  # reasonmath tasks in the core profile: enough for p < 0.05 after Holm over 3 comparisons
QUICK = 6


def both_models(delay_s: float = 0.0) -> Answers:
    return Answers(delay_s=delay_s, by_model={"ref": lambda tid: True, "wrong": lambda tid: False})


def cell(result: dict, name: str) -> dict:
    return next(c for c in result["cells"] if c["name"] == name)


def test_two_models_two_harnesses_reference_wins_and_its_harnesses_tie(scripted, tmp_path):
    ep = scripted(both_models(), models=("ref", "wrong"))
    home = tmp_path / "home"
    t0 = time.perf_counter()
    p = cli("sweep", "--provider", "openai_compat", "--endpoint", ep.url, "--model", "ref,wrong", "--harness", "raw,hermes",
            "--suites", "reasonmath", "--profile", "core", "--run-id", "s1", home=home, timeout=240)
    wall = time.perf_counter() - t0
    assert p.returncode == 0, p.stdout + p.stderr
    directory = Path(p.stdout.strip().splitlines()[-1])
    assert directory == home / "runs" / ".sweeps" / "s1"
    doc = load_json(directory / "sweep.json")
    assert doc["axes"] == {"model": ["ref", "wrong"], "harness": ["raw", "hermes"]} and doc["status"] == "complete"
    res = doc["result"]
    assert (res["rows"], res["cols"], res["row_values"], res["col_values"]) == ("model", "harness", ["ref", "wrong"], ["raw", "hermes"])
    assert res["best"] in ("ref/raw", "ref/hermes") and res["comparisons"] == 3
    other_ref = "ref/hermes" if res["best"] == "ref/raw" else "ref/raw"
    assert cell(res, other_ref)["mark"] == "tied" and cell(res, other_ref)["p_holm"] >= 0.05
    for name in ("wrong/raw", "wrong/hermes"):  # the reference model wins under both harnesses
        c = cell(res, name)
        assert c["mark"] == "worse" and c["p_holm"] < 0.05 and c["quality"] == 0.0 and c["n"] == CORE
    assert cell(res, res["best"])["quality"] == 100.0 and cell(res, res["best"])["quality_ci95"][1] == 100.0
    # the printed 2x2 matrix and the sentence
    out = p.stdout
    assert "model \\ harness" in out and "★ best" in out and "≈ tied" in out and out.count("worse") >= 2
    assert f"Pick {res['best']}" in out and "Holm" in out and "tok/s" in out
    # each cell is an ordinary run with its own artifact, and its own JUnit file naming the cell
    for c in doc["cells"]:
        run = load_json(home / "runs" / c["run_id"] / "run.json")
        assert run["status"] == "complete" and len(run["tasks"]) == CORE and run["harness"] == c["axes"]["harness"]
        xml = (directory / c["junitxml"]).read_text()
        assert f'<testsuite name="{c["name"]}"' in xml and xml.count("<testcase") == CORE
        assert "junit_suite_name=" + c["name"] in c["command"] and "pytest" in c["command"]
    inv = doc["invocations"][-1]
    print(f"\nsweep of 4 cells on one endpoint: {wall:.1f} s wall; the cells one after another: {inv['cells_one_after_another_s']:.1f} s")
    # the same answer, transposed, in every format
    md = cli("sweep", "show", "s1", "--format", "md", "--rows", "harness", "--cols", "model", home=home)
    assert md.returncode == 0 and "| harness \\ model | ref | wrong |" in md.stdout and "| raw |" in md.stdout, md.stdout + md.stderr
    from benchloop.sweep_stats import to_csv, to_json

    csv_text = to_csv(res)
    assert csv_text.count("\n") == 5 and csv_text.startswith("cell,row,col,run_id")
    assert json.loads(to_json(res))["sentence"] == res["sentence"]


def test_killed_sweep_resumes_every_task_of_every_cell_exactly_once(scripted, tmp_path):
    """Each model on its own endpoint (a matrix file): the two endpoints run at the same
    time. The sweep is killed (SIGKILL) once its first cells have records; --resume
    continues those runs and starts the rest, and no task runs twice."""
    ref = scripted(Answers(lambda tid: True, delay_s=0.25), models=("ref",))
    wrong = scripted(Answers(lambda tid: False, delay_s=0.25), models=("wrong",))
    home = tmp_path / "home"
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(
        "suites: reasonmath\nprofile: quick\nprovider: openai_compat\n"
        f"axes:\n  model:\n    - ref: {{endpoint: '{ref.url}'}}\n    - wrong: {{endpoint: '{wrong.url}'}}\n  harness: [raw, hermes]\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "benchloop", "sweep", str(matrix), "--run-id", "k"], env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_lines(home / "runs" / "k-ref-raw" / "tasks.jsonl", 2, proc, timeout=120)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    directory = home / "runs" / ".sweeps" / "k"
    killed = load_json(directory / "sweep.json")
    assert killed["status"] == "running" and killed["cells"][0]["run_id"] == "k-ref-raw"
    before = {c["run_id"]: read_tasks_jsonl(home / "runs" / c["run_id"] / "tasks.jsonl") for c in killed["cells"] if c["run_id"]}
    assert 2 <= len(before["k-ref-raw"]) < QUICK
    for ep in (ref, wrong):
        ep.responder.delay_s = 0.0

    p = cli("sweep", "--resume", "k", home=home, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = load_json(directory / "sweep.json")
    assert doc["status"] == "complete" and len(doc["invocations"]) == 1  # the killed invocation never got to record itself
    for c in doc["cells"]:
        run_dir = home / "runs" / c["run_id"]
        run = load_json(run_dir / "run.json")
        keys = [(t["suite"], t["task_id"]) for t in run["tasks"]]
        lines = [(r["suite"], r["task_id"]) for r in read_tasks_jsonl(run_dir / "tasks.jsonl")]
        assert run["status"] == "complete" and len(keys) == len(set(keys)) == QUICK, c["name"]
        assert sorted(lines) == sorted(keys), f"{c['name']}: a task ran twice or went missing"
        kept = before.get(c["run_id"]) or []
        assert [r["task_id"] for r in read_tasks_jsonl(run_dir / "tasks.jsonl")][: len(kept)] == [r["task_id"] for r in kept]
    first = doc["cells"][0]
    assert [a["action"] for a in first["attempts"]] == ["resume"] and first["run_id"] == "k-ref-raw"
    res = doc["result"]
    assert res["best"].startswith("ref/") and cell(res, "wrong/raw")["quality"] == 0.0  # 6 tasks: too few for p < 0.05 after Holm
    inv = doc["invocations"][-1]
    print(f"\nresume on two endpoints at once: {inv['wall_s']:.1f} s wall; the cells one after another: {inv['cells_one_after_another_s']:.1f} s")


def test_bad_input_is_refused_before_any_cell_with_every_problem_listed(scripted, tmp_path):
    ep = scripted(both_models(), models=("ref", "wrong"))
    home = tmp_path / "home"
    p = cli("sweep", "--provider", "openai_compat", "--endpoint", f"{ep.url},http://127.0.0.1:9", "--model", "ref,ghost",
            "--harness", "raw,nosuch", "--suites", "reasonmath,nosuite", home=home)
    assert p.returncode == 2, p.stdout + p.stderr
    err = p.stderr
    assert "problems" in err and "unknown harness 'nosuch'" in err and "unknown suite 'nosuite'" in err
    assert f"model 'ghost' is not served at {ep.url}" in err and "cannot reach http://127.0.0.1:9" in err
    assert err.count("unknown harness") == 1  # one bad value is one problem, however many cells it is in
    assert not (home / "runs").exists()
    assert not [r for r in ep.received if r["path"].endswith("/chat/completions")]
    matrix = tmp_path / "m.yaml"
    matrix.write_text("api_key: secret\naxes:\n  model: [ref]\n  colour: [red, blue]\n  harness: [raw, {hermes: {bogus: 1}}]\n")
    p = cli("sweep", str(matrix), "--endpoint", ep.url, "--provider", "openai_compat", home=home)
    assert p.returncode == 2 and "keys never go in files" in p.stderr and "'bogus' is not a setting" in p.stderr, p.stderr
    assert not (home / "runs").exists()


def test_matrix_settings_per_value_names_and_commands(tmp_path, monkeypatch):
    """A value's own settings reach only its cells; cell names use the axes that vary;
    --print-commands gives one plain pytest command per cell for a CI matrix."""
    from benchloop.sweep import expand, plan_from_matrix

    plan = plan_from_matrix("profile: quick\naxes:\n  model:\n    - a: {provider: ollama, endpoint: 'http://desk:11434'}\n    - ./m/b.gguf: {provider: llamacpp}\n  harness: [raw, pi]\n")
    cells = expand(plan)
    assert [c["name"] for c in cells] == ["a/raw", "a/pi", "b.gguf/raw", "b.gguf/pi"]
    assert cells[0]["values"] == {"profile": "quick", "model": "a", "provider": "ollama", "endpoint": "http://desk:11434", "harness": "raw"}
    assert cells[3]["values"]["provider"] == "llamacpp" and "endpoint" not in cells[3]["values"]
    home = tmp_path / "home"
    p = cli("sweep", "--print-commands", "--provider", "llamacpp", "--model", "smollm2-135m", "--harness", "raw,qwen", "--run-id", "ci", "--suites", "reasonmath", home=home)
    if p.returncode == 2 and "xllamacpp" in p.stderr:
        return  # an install without the embedded engine refuses the sweep, which is right
    lines = p.stdout.strip().splitlines()
    assert p.returncode == 0 and len(lines) == 2, p.stdout + p.stderr
    assert "-m pytest" in lines[0] and "junit_suite_name=raw" in lines[0] and "--benchloop-harness=qwen" in lines[1]
    assert "--benchloop-run-id=ci-qwen" in lines[1] and not (home / "runs").exists()


def test_holm_and_ties_on_synthetic_runs():
    from benchloop.sweep_stats import analyze, holm

    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    man = {"suites": {"reasonmath": {"task_file_sha256": "x", "checker": "1"}}}

    def run(scores):
        tasks = [{"suite": "reasonmath", "task_id": f"rm-{i:03d}", "score": s, "passed": s == 100} for i, s in enumerate(scores)]
        q = sum(scores) / len(scores)
        return {"status": "complete", "manifest": man, "tasks": tasks, "scores": {"quality": q, "overall": q, "suites": {"reasonmath": {"ci95": [0, 100]}}}}

    doc = {"sweep_id": "t", "axes": {"model": ["a", "b", "c"]},
           "cells": [{"name": n, "axes": {"model": n}, "status": "complete", "run_id": n} for n in "abc"]}
    runs = {"a": run([100] * 10), "b": run([100] * 7 + [0] * 3), "c": run([0] * 10)}
    res = analyze(doc, runs)
    marks = {c["name"]: c["mark"] for c in res["cells"]}
    assert marks == {"a": "best", "b": "tied", "c": "worse"}  # b: p = 0.25 before correction
    assert "Pick a" in res["sentence"] and "b is statistically tied" in res["sentence"]


def test_sweep_json_keeps_no_key_written_into_an_endpoint_axis():
    """An endpoint axis holds the URLs as typed: sweep.json's axes and each cell's axes
    keep scheme, host and path only, as its values already did."""
    from benchloop import sweep as sw
    from benchloop.sweep_run import new_sweep

    plan = sw.plan_from_flags({"model": "m", "provider": "openai_compat", "harness": "raw",
                               "endpoint": "http://u:sk-userinfo-secret-1@h1:1,http://h2:2/v1?api-key=sk-query-secret-2"})
    doc = new_sweep(plan, sw.expand(plan), sweep_id="s", rows=None, cols=None)
    text = json.dumps(doc)
    assert "sk-userinfo-secret-1" not in text and "sk-query-secret-2" not in text
    assert doc["axes"]["endpoint"] == ["http://h1:1", "http://h2:2/v1"] and doc["cells"][1]["axes"]["endpoint"] == "http://h2:2/v1"


def test_matrix_prints_model_names_as_text_not_markup():
    """A model name is data: "[/q4]" in it would raise as a rich closing tag, "[q4]" would vanish."""
    import io

    from rich.console import Console

    from benchloop.sweep_stats import analyze, print_matrix

    man = {"suites": {"reasonmath": {"task_file_sha256": "x", "checker": "1"}}}
    tasks = [{"suite": "reasonmath", "task_id": "rm-001", "score": 100.0, "passed": True}]
    run = {"status": "complete", "manifest": man, "tasks": tasks, "scores": {"quality": 100.0, "overall": 100.0, "suites": {"reasonmath": {"ci95": [0, 100]}}}}
    names = ["repo/m:[q4]", "repo/m:[/q8]"]
    doc = {"sweep_id": "t", "axes": {"model": names},
           "cells": [{"name": n, "axes": {"model": n}, "status": "complete", "run_id": "r"} for n in names]}
    buf = io.StringIO()
    print_matrix(analyze(doc, {n: run for n in names}), Console(file=buf, width=200))
    out = buf.getvalue()
    assert "repo/m:[q4]" in out and "repo/m:[/q8]" in out


def test_cells_on_one_endpoint_run_one_after_another_and_endpoints_side_by_side(tmp_path):
    """The scheduler alone, with a stand-in for the cell process: one endpoint's cells
    never overlap (nor do embedded cells, whatever their model), two endpoints overlap."""
    import threading

    from benchloop.options import resolve
    from benchloop.sweep import expand, group_key, plan_from_matrix
    from benchloop.sweep_run import new_sweep, run_cells

    assert group_key(resolve({"model": "m", "endpoint": "http://127.0.0.1:8080/v1"})) == group_key(resolve({"model": "m", "endpoint": "http://127.0.0.1:8080"}))
    assert group_key(resolve({"model": "a.gguf", "provider": "llamacpp"})) == group_key(resolve({"model": "b.gguf", "provider": "llamacpp"})) == "embedded"
    plan = plan_from_matrix("axes:\n  endpoint: ['http://a:1', 'http://b:1', 'embedded']\n  harness: [raw, hermes]\n")
    cells = expand(plan)
    for c in cells:
        c["group"] = "embedded" if c["axes"]["endpoint"] == "embedded" else c["axes"]["endpoint"]
    doc = new_sweep(plan, cells, sweep_id="t", rows=None, cols=None)
    spans, lock = {}, threading.Lock()

    def launch(cell, resume_dir):
        t0 = time.monotonic()
        time.sleep(0.3)
        run_dir = tmp_path / "runs" / cell["run_id"]
        run_dir.mkdir(parents=True)
        (run_dir / "run.json").write_text('{"status": "complete"}')
        with lock:
            spans[cell["name"]] = (cell["group"], t0, time.monotonic())
        return 0

    doc = run_cells(doc, tmp_path / "sweep", str(tmp_path / "runs"), launch)
    assert doc["status"] == "complete" and doc["invocations"][-1]["groups"] == 3
    overlaps = lambda a, b: a[1] < b[2] and b[1] < a[2]  # noqa: E731
    pairs = [(spans[x], spans[y]) for x in spans for y in spans if x < y]
    assert not [p for p in pairs if p[0][0] == p[1][0] and overlaps(*p)]
    assert [p for p in pairs if p[0][0] != p[1][0] and overlaps(*p)]


def test_a_flag_no_cell_uses_is_refused_one_some_cells_use_is_not(scripted, tmp_path):
    from benchloop.sweep import check, expand, plan_from_flags

    ep = scripted(both_models(), models=("ref", "wrong"))
    flags = {"model": "ref,wrong", "provider": "openai_compat", "endpoint": ep.url, "threads": 2, "suites": "reasonmath"}
    plan = plan_from_flags({k: v for k, v in flags.items() if k != "suites"})
    plan["settings"]["suites"] = "reasonmath"
    assert any("--threads sets the embedded engine" in p for p in check(plan, expand(plan)))
    plan = plan_from_flags({"model": "ref", "provider": "openai_compat,llamacpp", "endpoint": ep.url, "threads": 2})
    assert not any("--threads" in p for p in check(plan, expand(plan)))
