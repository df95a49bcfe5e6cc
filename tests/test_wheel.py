"""A built wheel, installed on its own, runs a real benchmark.

The wheel goes into a bare --target folder put first on PYTHONPATH (its dependencies
come from this environment: a fresh venv would spend minutes resolving them), and the
test checks that BenchLoop is imported from that folder, not from the checkout.

This caught a real packaging bug (the shipped tasks/ folder shadowing the task loader
module), so it stays: suites/, tasks/ and dashboard/ must travel inside the wheel.
"""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def test_wheel_in_fresh_venv_runs_a_benchmark(tmp_path):
    out = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)], capture_output=True, text=True, cwd=tmp_path)
    assert build.returncode == 0, build.stderr[-2000:]
    (whl,) = out.glob("benchloop_cli-*.whl")
    names = zipfile.ZipFile(whl).namelist()
    assert "benchloop/suites/test_reasonmath.py" in names
    assert "benchloop/task_data/reasonmath.yaml" in names
    assert "benchloop/tasks.py" in names
    assert any(n.startswith("benchloop/dashboard/") for n in names)
    target = tmp_path / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(whl)], capture_output=True, text=True)
    assert inst.returncode == 0, inst.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHLOOP_", "PYTHON"))}
    env["PYTHONPATH"] = str(target)
    env["BENCHLOOP_HOME"] = str(tmp_path / "home")
    for k in ("BENCHLOOP_MODELS_DIR", "BENCHLOOP_THREADS"):  # the shared model file; the worker's share of the cores
        if os.environ.get(k):
            env[k] = os.environ[k]
    where = subprocess.run([sys.executable, "-c", "import benchloop, benchloop.paths as p; print(benchloop.__file__); print(p.suites_dir()); print(p.tasks_dir())"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.stdout.count(str(target)) == 3, where.stdout + where.stderr
    run = subprocess.run([sys.executable, "-m", "benchloop", "run", "--provider", "llamacpp", "--model", "smollm2-135m", "--suites", "reasonmath", "--task", "rm-001", "--task", "rm-003"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    run_dir = Path(run.stdout.strip().splitlines()[-1])
    data = json.loads((run_dir / "run.json").read_text())
    assert data["status"] == "complete" and len(data["tasks"]) == 2
    # Installed from a wheel, pytest marks the whole dist (all of benchloop) for assertion
    # rewriting; the plugin takes the library back off so it loads from plain bytecode.
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "test_loaders.py").write_text(
        "import benchloop.stats\n\n"
        "def test_loaders():\n"
        "    assert 'site' in benchloop.stats.__file__\n"
        "    assert type(benchloop.stats.__loader__).__name__ != 'AssertionRewritingHook'\n"
        "    assert type(__loader__).__name__ == 'AssertionRewritingHook'  # the probe sees rewriting\n"
    )
    probe = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_loaders.py"], capture_output=True, text=True, env=env, cwd=tmp_path / "probe")
    assert probe.returncode == 0, probe.stdout[-2000:]
