"""The benchloop command, end to end against the scripted endpoint (fast paths and errors)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchloop.tasks import load_suite

TASKS = load_suite("reasonmath")["tasks"]
BY_PROMPT = {t["prompt"]: t["reference"] for t in TASKS}


def bl(*args, home, timeout=300):
    env = dict(os.environ, BENCHLOOP_HOME=str(home))
    for k in ("BENCHLOOP_MODEL", "BENCHLOOP_ENDPOINT", "BENCHLOOP_PROVIDER"):
        env.pop(k, None)
    return subprocess.run([sys.executable, "-m", "benchloop", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_version_is_fast_and_both_names_exist(tmp_path):
    t0 = time.perf_counter()
    p = bl("--version", home=tmp_path)
    assert p.returncode == 0 and p.stdout.startswith("benchloop ")
    assert time.perf_counter() - t0 < 10  # smoke only; benchmarks/overhead.py measures it
    from importlib.metadata import entry_points

    names = {e.name for e in entry_points(group="console_scripts") if e.value.startswith("benchloop.cli")}
    assert {"benchloop", "bench-loop"} <= names


def test_run_prints_report_and_run_dir_last(tmp_path, scripted):
    ep = scripted(lambda req: BY_PROMPT.get(req["messages"][-1]["content"], "?"))
    p = bl("run", "--provider", "openai_compat", "--endpoint", ep.url + "/v1", "--model", "scripted-model", "--suites", "reasonmath", "--profile", "quick", home=tmp_path)
    assert p.returncode == 0, p.stderr
    run_dir = Path(p.stdout.strip().splitlines()[-1])
    assert run_dir.is_dir() and run_dir.parent == tmp_path / "runs"
    assert "Overall" in p.stdout and "reasonmath" in p.stdout and "100.0" in p.stdout
    run = json.loads((run_dir / "run.json").read_text())
    assert run["scores"]["quality"] == 100.0 and run["endpoint"] == ep.url + "/v1"
    md = bl("show", run["run_id"], "--format", "md", home=tmp_path)
    assert md.returncode == 0 and "| reasonmath | 100.0 |" in md.stdout
    csv_out = bl("show", run["run_id"], "--format", "csv", home=tmp_path)
    assert csv_out.stdout.count("\n") == len(run["tasks"]) + 1
    listing = bl("runs", home=tmp_path)
    assert run["run_id"] in listing.stdout


def test_failing_scores_still_exit_zero(tmp_path, scripted):
    ep = scripted(lambda req: "")
    p = bl("run", "--provider", "openai_compat", "--endpoint", ep.url, "--model", "scripted-model", "--suites", "reasonmath", "--task", "rm-001", home=tmp_path)
    assert p.returncode == 0
    run = json.loads((Path(p.stdout.strip().splitlines()[-1]) / "run.json").read_text())
    assert run["scores"]["quality"] == 0.0 and run["status"] == "complete"


def _one_error_line(p):
    lines = [line for line in p.stderr.strip().splitlines() if line.strip()]
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_unreachable_endpoint_one_line(tmp_path):
    t0 = time.perf_counter()
    p = bl("run", "--provider", "openai_compat", "--endpoint", "http://127.0.0.1:9", "--model", "m", "--suites", "reasonmath", home=tmp_path)
    line = _one_error_line(p)
    assert "cannot reach http://127.0.0.1:9" in line and "start the server" in line
    assert line.startswith("benchloop: ") and "--endpoint" in line and "--benchloop-" not in line
    assert time.perf_counter() - t0 < 30
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_model_lists_what_the_endpoint_has(tmp_path, scripted):
    ep = scripted(lambda req: "x", models=("llama3:8b", "qwen3:8b"))
    p = bl("run", "--provider", "ollama", "--endpoint", ep.url, "--model", "mistral", "--suites", "reasonmath", home=tmp_path)
    line = _one_error_line(p)
    assert "'mistral' is not served" in line and "llama3:8b, qwen3:8b" in line


def test_bad_flags_and_values(tmp_path):
    assert bl("run", "--bogus", home=tmp_path).returncode == 2
    line = _one_error_line(bl("run", "--model", "m", "--suites", "nosuch", home=tmp_path))
    assert "unknown suite 'nosuch'" in line and "reasonmath" in line
    line = _one_error_line(bl("run", "--model", "m", "--endpoint", "localhost:11434", home=tmp_path))
    assert "must start with http" in line
    line = _one_error_line(bl("run", home=tmp_path))
    assert "--model is required" in line
    line = _one_error_line(bl("show", "no-such-run", home=tmp_path))
    assert "no run 'no-such-run'" in line
    line = _one_error_line(bl("show", "../etc", home=tmp_path))
    assert "not a run id" in line


def test_suites_lists_counts_profiles_and_harnesses(tmp_path):
    p = bl("suites", "--json", home=tmp_path)
    data = json.loads(p.stdout)
    rm = next(s for s in data["suites"] if s["suite"] == "reasonmath")
    assert rm["tasks"] == len(TASKS) and 0 < rm["quick"] < rm["core"] <= rm["full"]
    assert "raw" in data["harnesses"] and data["profiles"] == ["quick", "core", "full"]


def _foreign_plugin(tmp_path) -> dict:
    """An installed third-party pytest plugin (a dist-info with a pytest11 entry point on
    PYTHONPATH) that leaves a mark when pytest loads it and sabotages every test."""
    site = tmp_path / "site"
    (site / "foreign_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "foreign_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: foreign-plugin\nVersion: 1.0\n")
    (site / "foreign_plugin-1.0.dist-info" / "entry_points.txt").write_text("[pytest11]\nforeign = foreign_plugin\n")
    mark = tmp_path / "loaded"
    (site / "foreign_plugin.py").write_text(
        "import os, pathlib\n"
        f"pathlib.Path({str(mark)!r}).touch()\n"
        "def pytest_addoption(parser):\n"
        "    parser.addoption('--foreign-option', action='store_true')\n"
        "def pytest_runtest_call(item):\n"
        "    raise RuntimeError('sabotaged by a foreign plugin')\n"
    )
    # the user's own pytest setup names the plugin's option: fine for their runs, not ours
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), "PYTEST_ADDOPTS": "--foreign-option"}
    return {"env": env, "mark": mark}


def test_run_loads_only_the_plugins_it_needs(tmp_path, scripted):
    foreign = _foreign_plugin(tmp_path)
    probe = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", str(tmp_path / "none")], env=dict(os.environ, **foreign["env"]), capture_output=True, text=True, cwd=tmp_path)
    assert foreign["mark"].exists(), probe.stdout + probe.stderr  # plain pytest does load it
    foreign["mark"].unlink()
    ep = scripted(lambda req: BY_PROMPT.get(req["messages"][-1]["content"], "?"))
    env = dict(os.environ, BENCHLOOP_HOME=str(tmp_path / "home"), **foreign["env"])
    p = subprocess.run(
        [sys.executable, "-m", "benchloop", "run", "--provider", "openai_compat", "--endpoint", ep.url, "--model", "scripted-model", "--suites", "reasonmath", "--profile", "quick", "-n", "2", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    run = json.loads((Path(p.stdout.strip().splitlines()[-1]) / "run.json").read_text())
    assert not foreign["mark"].exists()
    assert run["scores"]["quality"] == 100.0 and all(t["error"] is None for t in run["tasks"])


def test_plugin_isolation_is_undone_after_the_run(monkeypatch):
    from benchloop.cli.run import only_our_plugins

    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    with only_our_plugins(["x.py", "-n", "2"]) as args:
        assert os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"
        assert args[:6] == ["-p", "benchloop_pytest.plugin", "-p", "pytest_timeout", "-p", "xdist.plugin"] and args[-3:] == ["x.py", "-n", "2"]
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in os.environ
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "yes")
    with only_our_plugins(["x.py"]) as args:
        assert "xdist.plugin" not in args
    assert os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "yes"


def test_progress_bar_reaches_a_real_terminal(tmp_path, scripted):
    """The bar is drawn from hooks outside pytest's capture, so in a serial run (no -n)
    a terminal sees every task finish, and stdout stays clean for the report."""
    import pty

    ep = scripted(lambda req: BY_PROMPT.get(req["messages"][-1]["content"], "?"))
    env = dict(os.environ, BENCHLOOP_HOME=str(tmp_path))
    for k in ("BENCHLOOP_MODEL", "BENCHLOOP_ENDPOINT", "BENCHLOOP_PROVIDER", "BENCHLOOP_PROGRESS"):
        env.pop(k, None)
    master, slave = pty.openpty()
    p = subprocess.Popen(
        [sys.executable, "-m", "benchloop", "run", "--provider", "openai_compat", "--endpoint", ep.url, "--model", "scripted-model", "--suites", "reasonmath", "--profile", "quick"],
        stdout=subprocess.PIPE, stderr=slave, env=env, text=True,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    out = p.communicate(timeout=300)[0]
    os.close(master)
    assert p.returncode == 0, seen[-2000:]
    n = sum(1 for t in TASKS if "quick" in (t.get("profiles") or []))
    text = seen.decode("utf-8", "replace")
    assert "benchmarking" in text and f"{n}/{n}" in text, text[-2000:]
    assert "benchmarking" not in out and Path(out.strip().splitlines()[-1]).is_dir()


def test_score_names_the_scoring_version_a_run_was_made_with(tmp_path):
    """A run scored before scoring-2 re-scores to other numbers by design: `score`
    says which version made it instead of calling the artifact edited."""
    from benchloop.scoring import SCORING_VERSION, score_run

    tasks = [{"suite": "reasonmath", "task_id": f"rm-{i:03d}", "score": 0.0, "passed": False, "error": None} for i in range(1, 4)]
    run = {"run_id": "old-run", "status": "complete", "tasks": tasks}
    old = score_run(run)
    old.update(reliability=100.0, overall=35.0, scoring_version="scoring-1")
    old.pop("errors")
    d = tmp_path / "runs" / "old-run"
    d.mkdir(parents=True)
    (d / "run.json").write_text(json.dumps(dict(run, scores=old)))
    p = subprocess.run([sys.executable, "-m", "benchloop", "score", str(d)], capture_output=True, text=True, env={**os.environ, "BENCHLOOP_HOME": str(tmp_path)})
    assert p.returncode == 1
    assert f"scored with scoring-1; this BenchLoop scores with {SCORING_VERSION}" in p.stdout
    same = dict(run, scores=score_run(run))
    (d / "run.json").write_text(json.dumps(same))
    p = subprocess.run([sys.executable, "-m", "benchloop", "score", str(d), "--json"], capture_output=True, text=True, env={**os.environ, "BENCHLOOP_HOME": str(tmp_path)})
    assert p.returncode == 0 and json.loads(p.stdout)["matches_stored"] is True


def test_harness_ab_compares_with_p_values_and_exits_zero(tmp_path, scripted):
    """One model under raw and hermes: the comparison the product is for."""
    ep = scripted(lambda req: BY_PROMPT.get(req["messages"][-1]["content"], "?"))
    for harness in ("raw", "hermes"):
        p = bl("run", "--provider", "openai_compat", "--endpoint", ep.url, "--model", "scripted-model", "--suites", "reasonmath", "--profile", "quick", "--harness", harness, "--run-id", harness, home=tmp_path)
        assert p.returncode == 0, p.stderr
    c = bl("compare", "raw", "hermes", home=tmp_path)
    assert c.returncode == 0, c.stderr
    assert "NOT COMPARABLE" not in c.stdout and "harness raw → hermes" in c.stdout and "reasonmath" in c.stdout and "1.000" in c.stdout
    data = json.loads(bl("compare", "raw", "hermes", "--format", "json", home=tmp_path).stdout)["comparisons"][0]
    assert data["comparable"] and data["suites"]["reasonmath"]["p"] is not None


def test_single_model_llamacpp_server_takes_any_name_and_the_key_goes_to_any_provider(tmp_path):
    """llama-server lists its one GGUF and answers to any model name; the run records the
    name the server reports. An --api-key goes to the endpoint whatever the provider."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _json(self, obj):
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path.startswith("/api/tags"):
                return self._json({"models": [{"name": "qwen3:8b"}]})
            self._json({"object": "list", "data": [{"id": "/models/Qwen3-8B-Q4_K_M.gguf", "object": "model", "owned_by": "llamacpp", "meta": {"n_params": 8190000000}}]})

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        from benchloop.options import resolve
        from benchloop_pytest.startup import open_model, preflight

        s = resolve({"provider": "openai_compat", "endpoint": url, "model": "any-name"}, env={})
        preflight(s)  # no refusal
        _ep, _engine, facts, _info = open_model(s, 0)
        assert facts["name"] == "any-name" and facts["served_name"] == "/models/Qwen3-8B-Q4_K_M.gguf" and facts["parameters"] == 8190000000
        seen.clear()
        preflight(resolve({"provider": "ollama", "endpoint": url, "model": "qwen3:8b", "api-key": "sk-for-ollama"}, env={}))
        assert seen and all(auth == "Bearer sk-for-ollama" for _p, auth in seen)
        seen.clear()
        preflight(resolve({"provider": "ollama", "endpoint": url, "model": "qwen3:8b"}, env={"OPENAI_API_KEY": "sk-not-for-ollama"}))
        assert all(auth is None for _p, auth in seen)
    finally:
        srv.shutdown()
