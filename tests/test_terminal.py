"""What a person sees in a terminal: the progress display moves (serial and parallel) in a
real pseudo-terminal, tables read at 80 columns and piped, bad input stops before a run
directory exists, an interrupted run says how to finish it, and the dashboard's port and
service templates fail or serve in one clear way."""
from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from benchloop.tasks import load_suite
from benchloop.testing.scripted import Reply, ScriptedEndpoint

TASKS = load_suite("reasonmath")["tasks"]
BY_PROMPT = {t["prompt"]: t["reference"] for t in TASKS}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _env(home) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHLOOP_", "PYTEST_"))}
    env["BENCHLOOP_HOME"] = str(home)
    return env


def answer(delay: float = 0.0):
    def respond(req):
        users = [m for m in req["messages"] if m.get("role") == "user"]
        return Reply(content=BY_PROMPT.get(users[-1]["content"] if users else "", "?"), first_delay_s=delay)

    return respond


def in_pty(args: list[str], env: dict, cols: int = 100, timeout: float = 300) -> tuple[int, str]:
    """Run ``args`` with stdout and stderr on a pseudo-terminal ``cols`` wide; (exit, text)."""
    import pty

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=dict(env, TERM="xterm-256color", COLUMNS=str(cols)), close_fds=True)
    os.close(slave)
    seen = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=30)
    os.close(master)
    return p.returncode, seen.decode("utf-8", "replace")


def counts(text: str, total: int) -> list[int]:
    return [int(m) for m in re.findall(rf"(\d+)/{total}\b", ANSI.sub("", text))]


def run_cmd(url: str, *more: str) -> list[str]:
    return [sys.executable, "-m", "benchloop", "run", "--provider", "openai_compat", "--endpoint", url, "--model", "scripted-model", "--suites", "reasonmath", *more]


@pytest.mark.parametrize("parallel", [[], ["-n", "2"]], ids=["serial", "parallel"])
def test_progress_moves_in_a_100_column_pty_with_task_and_eta(tmp_path, parallel):
    n = sum(1 for t in TASKS if "quick" in (t.get("profiles") or []))
    with ScriptedEndpoint(answer(0.3)) as ep:
        code, text = in_pty(run_cmd(ep.url, "--profile", "quick", *parallel), _env(tmp_path))
    assert code == 0, text[-2000:]
    seen = counts(text, n)
    intermediate = sorted({c for c in seen if 0 < c < n})
    assert len(intermediate) >= 2, (seen, ANSI.sub("", text)[-1500:])
    plain = ANSI.sub("", text)
    assert "ETA" in plain and re.search(r"reasonmath/rm-\d{3}", plain)  # the task running now
    assert max(len(line) for line in plain.replace("\r", "\n").splitlines() if "ETA" in line) <= 100


def test_unknown_names_stop_before_any_run_directory(tmp_path):
    for flag, value, fragment in (("--harness", "hermez", "unknown harness 'hermez'"), ("--profile", "quik", "unknown profile"), ("--provider", "olama", "unknown provider"), ("--suites", "nosuch", "unknown suite")):
        p = subprocess.run([sys.executable, "-m", "benchloop", "run", "--model", "m", flag, value], capture_output=True, text=True, env=_env(tmp_path), timeout=60)
        assert p.returncode == 2 and p.stderr.startswith("benchloop: ") and fragment in p.stderr and p.stderr.count("\n") == 1, p.stderr
        assert not (tmp_path / "runs").exists()


def test_flags_that_would_be_ignored_are_refused(tmp_path):
    for args, fragment in ((["--gpu-memory-gb", "24"], "pass --gpu NAME"), (["--threads", "4"], "drop --threads"), (["--trials", "3"], "only changes the speed suite")):
        p = subprocess.run([sys.executable, "-m", "benchloop", "run", "--model", "m", "--suites", "reasonmath", *args], capture_output=True, text=True, env=_env(tmp_path), timeout=60)
        assert p.returncode == 2 and fragment in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_missing_ollama_is_one_line_in_the_commands_own_flags(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    p = subprocess.run([sys.executable, "-m", "benchloop", "run", "--model", "qwen3:8b", "--endpoint", f"http://127.0.0.1:{port}", "--suites", "reasonmath"], capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    line = p.stderr.strip()
    assert line.startswith("benchloop: no Ollama at") and "ERROR" not in line and "--benchloop-" not in line
    assert "start it (ollama serve), or try the embedded model: --provider llamacpp --model smollm2-135m" in line


def test_ctrl_c_and_sigterm_say_how_to_resume(tmp_path):
    for sig in (signal.SIGINT, signal.SIGTERM):
        home = tmp_path / sig.name
        with ScriptedEndpoint(answer(0.4)) as ep:
            p = subprocess.Popen(run_cmd(ep.url, "--run-id", "cut"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(home))
            tasks = home / "runs" / "cut" / "tasks.jsonl"
            end = time.monotonic() + 60
            while time.monotonic() < end and not (tasks.exists() and tasks.read_bytes().count(b"\n") >= 1):
                time.sleep(0.05)
            p.send_signal(sig)
            out, err = p.communicate(timeout=60)
        assert p.returncode == 130, (sig, out[-500:], err[-1000:])
        assert "benchloop run --resume cut" in err, err


def test_runs_never_cuts_an_id_at_80_or_100_columns_or_piped(tmp_path):
    runs = tmp_path / "runs"
    ids = ["20261202-031415-qwen3-8b-instruct-q4-k-m-hermes-a1b2c3", "20261202-031416-llama-3.1-8b-raw-d4e5f6"]
    for rid in ids:
        (runs / rid).mkdir(parents=True)
        (runs / rid / "run.json").write_text(json.dumps({"run_id": rid, "status": "complete", "model": {"name": "a-rather-long-model-name:8b-instruct-q4_K_M"}, "harness": "hermes", "scores": {"overall": 61.2, "quality": 70.1, "speed": 40.3, "reliability": 100.0, "suites": {"reasonmath": {}, "toolcall": {}}}, "tasks": []}))
    for cols in (80, 100):
        code, text = in_pty([sys.executable, "-m", "benchloop", "runs"], _env(tmp_path), cols=cols, timeout=60)
        plain = ANSI.sub("", text)
        assert code == 0 and all(rid in plain for rid in ids) and "…" not in plain, plain
        assert max(len(line) for line in plain.replace("\r", "").splitlines()) <= cols
    piped = subprocess.run([sys.executable, "-m", "benchloop", "runs"], capture_output=True, text=True, env=_env(tmp_path), timeout=60).stdout
    assert all(rid in piped for rid in ids) and "…" not in piped and max(map(len, piped.splitlines())) <= 80


def test_speed_table_fits_80_columns_and_shows_generated_tokens():
    from rich.console import Console

    from benchloop.report import print_speed

    scen = {"prompt_tokens": 8192, "max_tokens": 256, "completion_tokens_measured": 119, "ttft_ms": 11970.25, "ttfr_ms": 11970.3, "ttft_p90_ms": 12001.1, "decode_tok_s": 1197.42, "server_decode_tok_s": 1201.9, "client_server_ratio": 0.9963, "prefill_tok_s": 684.4, "valid": True, "valid_trials": 5, "flags": [], "metrics": {"decode_tok_s": {"sd": 3.21}}}
    console = Console(width=80, record=True, file=open(os.devnull, "w"))
    print_speed({"scenarios": {"long-prompt-8k": scen}, "flags": [], "notes": []}, console)
    text = console.export_text()
    assert "…" not in text and "1197.4" in text and "11970.2" in text and "long-prompt-8k" in text
    assert " 119 " in text + " " and " 256 " not in text + " "  # generated, not the budget
    assert max(map(len, text.splitlines())) <= 80


def test_speed_report_prints_server_error_text_as_text():
    """A flag carries the server's error text; "[/INST]" in it is data, not rich markup
    (read as a closing tag it raised and the whole report was lost)."""
    from rich.console import Console

    from benchloop.report import print_speed

    scen = {"prompt_tokens": 10, "valid": False, "flags": ["error: [/INST] x"]}
    console = Console(width=100, record=True, file=open(os.devnull, "w"))
    print_speed({"scenarios": {"[bold]short": scen}, "flags": ["error: HTTP 500 [/INST] [red]bad"], "notes": [], "roofline": {"note": "[/b]"}}, console)
    text = console.export_text()
    assert "HTTP 500 [/INST] [red]bad" in text and "[bold]short" in text and "[/b]" in text


def test_busy_dashboard_port_is_one_line_naming_port(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = subprocess.run([sys.executable, "-m", "benchloop", "dashboard", "--port", str(port), "--runs-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == "" and "Errno" not in p.stderr, (p.stdout, p.stderr)
    assert p.stderr.count("\n") == 1 and f"port {port}" in p.stderr and "--port" in p.stderr


def test_service_templates_parse_on_their_platforms(tmp_path):
    import plistlib

    out = tmp_path / "task.xml"
    p = subprocess.run([sys.executable, "-m", "benchloop", "dashboard", "--service-template", "windows-task", "--output", str(out)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    data = out.read_bytes()
    assert data[:2] == b"\xff\xfe" and 'encoding="UTF-16"' in data.decode("utf-16")
    root = ET.fromstring(data)  # expat reads the BOM and the declared encoding
    ns = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"
    assert root.tag == ns + "Task" and root.find(f"{ns}Actions/{ns}Exec/{ns}Command").text
    piped = subprocess.run([sys.executable, "-m", "benchloop", "dashboard", "--service-template", "windows-task"], capture_output=True, timeout=60).stdout
    assert piped == data or ET.fromstring(piped).tag == root.tag
    plist = subprocess.run([sys.executable, "-m", "benchloop", "dashboard", "--service-template", "launchd"], capture_output=True, timeout=60).stdout
    assert plistlib.loads(plist)["Label"] == "dev.benchloop.dashboard"
    unit = subprocess.run([sys.executable, "-m", "benchloop", "dashboard", "--service-template", "systemd"], capture_output=True, text=True, timeout=60).stdout
    assert "[Service]" in unit and "ExecStart=" in unit
