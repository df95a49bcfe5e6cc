"""Shared by the receipts tests (resume, compare, exchange, publish, secrets): a scripted
"model" that answers reasonmath tasks from tasks/reasonmath.yaml's own reference and
wrong replies, and a way to run the real ``benchloop`` command against it.

Why a subprocess: kill -9, Ctrl-C and two concurrent runs are about process death and
separate processes, which an in-process ``pytest.main`` cannot show.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from benchloop.paths import tasks_dir
from benchloop.testing.scripted import Reply

MODEL = "scripted-model"


def reasonmath_tasks() -> list[dict]:
    return yaml.safe_load((tasks_dir() / "reasonmath.yaml").read_text(encoding="utf-8"))["tasks"]


class Answers:
    """A responder: ``passing(task_id) -> bool`` picks the reference or the wrong reply;
    ``delay_s`` (mutable) slows each reply so a test can kill a run mid-way.
    ``by_model`` lets one endpoint serve several scripted "models"."""

    def __init__(self, passing=lambda tid: True, delay_s: float = 0.0, by_model: dict | None = None):
        self.passing = passing
        self.delay_s = delay_s
        self.by_model = by_model or {}
        self.tasks = {t["prompt"]: t for t in reasonmath_tasks()}

    def __call__(self, req):
        users = [m for m in req["messages"] if isinstance(m, dict) and m.get("role") == "user"]
        task = self.tasks.get(users[-1]["content"] if users else None)
        if task is None:
            return Reply(content="I cannot tell.")
        passing = self.by_model.get(req.get("model"), self.passing)
        text = task["reference"] if passing(task["id"]) else task["wrong"]
        return Reply(content=text, first_delay_s=self.delay_s)


def env_for(home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHLOOP_", "OPENAI_", "PYTEST_"))}
    env["BENCHLOOP_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_args(url: str, *more: str, model: str = MODEL) -> list[str]:
    return [sys.executable, "-m", "benchloop", "run", "--provider", "openai_compat", "--endpoint", url, "--model", model, "--suites", "reasonmath", *more]


def bench(args: list[str], home: Path, timeout: float = 120, **env) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env_for(home, **env), capture_output=True, text=True, timeout=timeout)


def cli(*args: str, home: Path, timeout: float = 60, **env) -> subprocess.CompletedProcess:
    return bench([sys.executable, "-m", "benchloop", *args], home, timeout=timeout, **env)


def wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 60) -> int:
    """Block until ``path`` has at least ``n`` complete lines (or the process ended)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            have = path.read_bytes().count(b"\n")
        except FileNotFoundError:
            have = 0
        if have >= n:
            return have
        if proc.poll() is not None:
            raise AssertionError(f"run ended before {n} tasks were written: {proc.stdout.read() if proc.stdout else ''}")
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {n} lines in {timeout}s")


def load_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def task_keys(run: dict) -> list[tuple[str, str]]:
    return [(t["suite"], t["task_id"]) for t in run["tasks"]]


def comparable_view(run: dict) -> dict:
    """What must not depend on whether the run was interrupted: per-task verdicts and scores."""
    return {
        "tasks": {(t["suite"], t["task_id"]): (t["score"], t["passed"], t["output"], t["error"]) for t in run["tasks"]},
        "scores": {k: run["scores"][k] for k in ("overall", "quality", "reliability", "suites")},
        "manifest_hash": run["manifest_hash"],
    }
