"""The dashboard's API does what its OpenAPI document says (issue 12, "The API says what
it does").

schemathesis (every check, every phase: examples, coverage, fuzzing, stateful) runs
against the real server over real HTTP, with the page token, and must find nothing.
The routes that reach model endpoints (chat, model discovery, checking and starting
benchmarks) are left out: they talk to models, not to the run store. The run is
deterministic (``--generation-deterministic``) and small (``-n 10`` per operation), so
CI sees the same requests every time; it takes ~20 s.

A failure prints schemathesis' own report: each finding with a ``curl`` line that
reproduces it.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from benchloop.artifact import valid_run_id
from benchloop.dashboard.app import create_app
from benchloop.dashboard.context import RUN_ID_MAX, RUN_ID_PATTERN
from benchloop.dashboard.demo import ServedApp, synthetic_run, write_run

# (method, path) of the operations that reach model endpoints
REACH_MODELS = {("POST", "/api/chat"), ("GET", "/api/models"), ("POST", "/api/jobs"), ("POST", "/api/jobs/check")}
EXAMPLE_RUN = "20260101-000000-qwen3-8b-raw"  # the run id the schema gives as its example


@pytest.fixture
def served(tmp_path, bl_home):
    runs = tmp_path / "runs"
    runs.mkdir()
    models = ["qwen3:8b", "llama3.1:8b", "gemma3:4b"]
    ids = [EXAMPLE_RUN] + [f"20260101-0000{i:02d}-seed-{i:02d}" for i in range(1, 5)]
    for i, rid in enumerate(ids):
        write_run(runs, synthetic_run(rid, model=models[i % 3], harness=["raw", "hermes"][i % 2], seed=i, pass_rate=0.5))
    (runs / "20260102-000000-torn").mkdir()
    (runs / "20260102-000000-torn" / "run.json").write_text('{"run_id": ')
    srv = ServedApp(create_app(runs, probe_defaults=False, refresh_interval=0.0)).start()
    try:
        yield srv
    finally:
        srv.stop()


def test_schemathesis_finds_nothing(served, tmp_path):
    pytest.importorskip("schemathesis", reason="pip install -e '.[dev]'")
    doc = requests.get(served.url + "/openapi.json", timeout=30).json()
    found = {(method.upper(), path): op["operationId"] for path, ops in doc["paths"].items() for method, op in ops.items() if (method.upper(), path) in REACH_MODELS}
    assert {("POST", "/api/chat"), ("GET", "/api/models"), ("POST", "/api/jobs")} <= set(found), "a model-reaching route moved: update REACH_MODELS"
    skipped = list(found.values())
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", served.url + "/openapi.json",
        "--header", f"X-BenchLoop-Token: {served.app.state.csrf_token}",
        "--checks", "all", "--generation-deterministic", "--max-examples", "10", "--workers", "1",
        "--request-timeout", "20", "--no-color",
    ]
    for op_id in skipped:
        cmd += ["--exclude-operation-id", op_id]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-12000:]
    tested = re.search(r"Tested: (\d+)", out)
    assert tested and int(tested.group(1)) == sum(len(ops) for ops in doc["paths"].values()) - len(skipped), out[-3000:]
    assert re.search(r"\d+ generated, \d+ passed", out), out[-3000:]


def test_run_id_pattern_is_valid_run_id():
    """The schema's pattern and ``valid_run_id`` accept the same ids (so a 422 from the
    schema never refuses a run the store can hold, and nothing else gets through)."""
    from hypothesis import given, settings, strategies as st

    pattern = re.compile(RUN_ID_PATTERN)

    def schema_ok(s: str) -> bool:  # JSON Schema '$' is the end of the text, not before a final newline
        return bool(pattern.fullmatch(s)) and len(s) <= RUN_ID_MAX

    for s in ("a", "9", "a.", "a.b.", "a.-_", "20260101-000000-qwen3-8b-raw", "x" * 128):
        assert schema_ok(s) and valid_run_id(s), s
    for s in ("", ".a", "_a", "-a", "a..b", "a..", "..", "a/b", "a b", "x" * 129, "é"):
        assert not schema_ok(s) and not valid_run_id(s), s

    @settings(max_examples=200, derandomize=True, database=None, deadline=None)
    @given(st.text(alphabet="ab9._-/ \n", max_size=12) | st.from_regex(RUN_ID_PATTERN, fullmatch=True))
    def agree(s):
        if "\n" in s:  # valid_run_id's '$' lets one final newline through; the schema does not
            assert not schema_ok(s)
        else:
            assert schema_ok(s) == valid_run_id(s)

    agree()


def test_405_names_every_method_of_the_path(served):
    token = {"X-BenchLoop-Token": served.app.state.csrf_token}
    r = requests.put(served.url + "/api/runs/" + EXAMPLE_RUN, headers=token, timeout=30)
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "DELETE"}
    r = requests.options(served.url + "/api/runs/" + EXAMPLE_RUN, timeout=30)
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "DELETE"}
    r = requests.delete(served.url + "/api/jobs", headers=token, timeout=30)
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    # a concrete path before a templated one, as OpenAPI matches them
    r = requests.options(served.url + "/api/runs/facets", timeout=30)
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = requests.post(served.url + "/static/app.js", headers=token, timeout=30)
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"


def test_the_schema_declares_the_guard_and_its_refusals(served):
    doc = requests.get(served.url + "/openapi.json", timeout=30).json()
    assert doc["components"]["securitySchemes"]["pageToken"] == {"type": "apiKey", "in": "header", "name": "X-BenchLoop-Token", "description": doc["components"]["securitySchemes"]["pageToken"]["description"]}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert "421" in op["responses"], (method, path)
            if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                assert op["security"] == [{"pageToken": []}] and "403" in op["responses"], (method, path)
            else:
                assert "security" not in op, (method, path)
    runs = {p["name"]: p["schema"] for p in doc["paths"]["/api/runs"]["get"]["parameters"]}
    assert runs["offset"]["maximum"] >= 10**6 and "enum" in runs["sort"]
    assert {"404", "409"} <= set(doc["paths"]["/api/runs/{run_id}"]["delete"]["responses"])
    # without the token a state-changing request is the declared 403
    assert requests.delete(served.url + "/api/runs/" + EXAMPLE_RUN, timeout=30).status_code == 403
