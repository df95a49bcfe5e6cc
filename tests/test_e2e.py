"""End to end against the real embedded SmolLM2-135M (llama.cpp via xllamacpp).

No fakes here: the model, the HTTP server, the plugin and the CLI are all real.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e
VOLATILE = {"latency_ms", "ttft_ms", "ttfr_ms", "wall_ms", "server_timings", "response", "nodeid"}


def _env(home):
    env = dict(os.environ, BENCHLOOP_HOME=str(home), PYTHONUNBUFFERED="1")
    env.pop("BENCHLOOP_MODEL", None)
    return env


def test_cli_run_report_artifact_and_offline_rescore(tmp_path):
    jsonschema = pytest.importorskip("jsonschema", reason="install the dev extra: pip install -e '.[dev]'")
    home = tmp_path / "home"
    p = subprocess.run(
        [sys.executable, "-m", "benchloop", "run", "--provider", "llamacpp", "--model", "smollm2-135m", "--suites", "reasonmath", "--profile", "quick", "--max-tokens", "128", "--threads", "1"],
        capture_output=True, text=True, env=_env(home), timeout=600,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    lines = p.stdout.strip().splitlines()
    run_dir = Path(lines[-1])
    assert run_dir.parent == home / "runs"
    for word in ("Overall", "Quality", "Speed", "Reliability", "reasonmath"):
        assert word in p.stdout
    run = json.loads((run_dir / "run.json").read_text())
    jsonschema.validate(run, json.loads((ROOT / "docs" / "run.schema.json").read_text()))
    assert run["status"] == "complete" and run["provider"] == "llamacpp"
    assert run["model"]["quantization"] == "Q4_1" and run["model"]["digest"].startswith("sha256:b179c952")
    assert run["engine"]["threads"] == 1 and run["settings"]["threads"] == 1
    n = run["scores"]["suites"]["reasonmath"]["n"]
    assert n == len(run["tasks"]) == len((run_dir / "tasks.jsonl").read_text().splitlines()) >= 5
    for t in run["tasks"]:
        assert t["token_source"] == "server" and t["completion_tokens"] > 0 and t["output"]
        assert t["latency_ms"] > 0 and 0 < t["ttft_ms"] <= t["latency_ms"]
    assert run["scores"]["errors"] == {"count": 0, "rate": 0.0}  # every task answered (scoring-2: reliability is the pass rate)
    rescore = subprocess.run([sys.executable, "-m", "benchloop", "score", str(run_dir), "--json"], capture_output=True, text=True, env=_env(home))
    assert rescore.returncode == 0, rescore.stdout
    assert json.loads(rescore.stdout)["scores"] == run["scores"]
    show = subprocess.run([sys.executable, "-m", "benchloop", "show", run["run_id"], "--json"], capture_output=True, text=True, env=_env(home))
    assert json.loads(show.stdout) == run
    listing = subprocess.run([sys.executable, "-m", "benchloop", "runs", "--json"], capture_output=True, text=True, env=_env(home))
    assert [r["run_id"] for r in json.loads(listing.stdout)] == [run["run_id"]]


def _pytest_suites(tmp_path, name, *extra):
    runs = tmp_path / name
    xml = tmp_path / f"{name}.xml"
    p = subprocess.run(
        # three suites (one turn, tool rounds, the agent loop) keep two real-model runs inside CI's budget
        [sys.executable, "-m", "pytest", "suites/test_reasonmath.py", "suites/test_toolcall.py", "suites/test_agent.py", "--benchloop-provider=llamacpp", "--benchloop-model=smollm2-135m", "--benchloop-profile=quick",
         "--benchloop-max-tokens=48", f"--benchloop-runs-dir={runs}", f"--junitxml={xml}", "-p", "no:cacheprovider", "-q", *extra],
        capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path / "home"), timeout=900,
    )
    assert p.returncode in (0, 1), p.stdout[-3000:] + p.stderr[-2000:]
    (run_dir,) = [d for d in runs.iterdir() if d.is_dir()]
    return json.loads((run_dir / "run.json").read_text()), ET.parse(xml).getroot()


def test_plain_pytest_with_xdist_matches_serial_and_writes_junit(tmp_path):
    serial, _ = _pytest_suites(tmp_path, "serial")
    par, junit = _pytest_suites(tmp_path, "par", "-n", "2")
    cases = list(junit.iter("testcase"))
    assert len(cases) == len(par["tasks"]) == len(serial["tasks"]) > 0
    assert {c.get("name").split("[")[1].rstrip("]") for c in cases} == {t["task_id"] for t in par["tasks"]}
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == sum(1 for t in par["tasks"] if not t["passed"])
    assert par["status"] == serial["status"] == "complete"
    assert par["manifest_hash"] == serial["manifest_hash"]
    assert [(t["suite"], t["task_id"], t["prompt"]) for t in par["tasks"]] == [(t["suite"], t["task_id"], t["prompt"]) for t in serial["tasks"]]
    assert par["engine"]["parallel"] == 2 and serial["engine"]["parallel"] == 1


def test_known_model_is_fetched_and_verified(tmp_path, monkeypatch):
    from benchloop.engine import KNOWN_MODELS, _sha256, fetch_known_model

    monkeypatch.setenv("BENCHLOOP_MODELS_DIR", str(tmp_path / "models"))
    path = fetch_known_model("smollm2-135m", quiet=True)
    assert path.parent == tmp_path / "models"
    assert _sha256(path) == KNOWN_MODELS["smollm2-135m"]["sha256"]
