"""What a benchmark job will be, decided before it exists: the request checked and
turned into ``benchloop run`` flags, the task count, a time estimate, and a look at the
endpoint and model (:func:`preflight`), so a dead endpoint or a missing model is one
plain sentence in the form instead of a job that fails.
"""
from __future__ import annotations

import re
import statistics
import sys
from datetime import datetime

from benchloop.catalog import PROFILES, PROVIDERS, SUITES

SUITE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TASK_ID = re.compile(r"^[a-z]{2,3}-\d{3}$")


class JobError(ValueError):
    """A bad job request; the message is shown to the user as is."""


class JobBusy(JobError):
    """A benchmark is running already (one at a time)."""

    def __init__(self, run_id: str):
        super().__init__(f"a benchmark is already running ({run_id}); wait for it to finish or cancel it, then start again")
        self.run_id = run_id


def validate_spec(body: dict, *, available_suites: list[str], available_harnesses: list[str]) -> tuple[dict, str | None]:
    """Check a start request and return (public spec, api key). Every value ends up as
    one ``--flag=value`` argument, so a value cannot smuggle in another flag."""
    if not isinstance(body, dict):
        raise JobError("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip() or len(model) > 300 or "\n" in model:
        raise JobError("model is required (a model name, up to 300 characters)")
    provider = body.get("provider") or "ollama"
    if provider not in PROVIDERS:
        raise JobError(f"provider must be one of {', '.join(PROVIDERS)}")
    endpoint = body.get("endpoint") or None
    if provider != "llamacpp":
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")) or len(endpoint) > 500 or any(c.isspace() for c in endpoint):
            raise JobError("endpoint must be an http:// or https:// URL")
    else:
        endpoint = None
    suites = body.get("suites") or []
    if isinstance(suites, str):
        suites = [s.strip() for s in suites.split(",") if s.strip()]
    if not isinstance(suites, list) or not all(isinstance(s, str) and SUITE_NAME.match(s) for s in suites):
        raise JobError("suites must be a list of suite names")
    bad = [s for s in suites if s not in available_suites]
    if bad:
        raise JobError(f"unknown suite {bad[0]!r}; available: {', '.join(available_suites)}")
    profile = body.get("profile") or None
    if profile is not None and profile not in PROFILES:
        raise JobError(f"profile must be one of {', '.join(PROFILES)}")
    harness = body.get("harness") or "raw"
    if harness not in available_harnesses:
        raise JobError(f"unknown harness {harness!r}; available: {', '.join(available_harnesses)}")
    tasks = body.get("tasks") or []
    if isinstance(tasks, str):
        tasks = [t.strip() for t in tasks.split(",") if t.strip()]
    if not isinstance(tasks, list) or len(tasks) > 500 or not all(isinstance(t, str) and TASK_ID.match(t) for t in tasks):
        raise JobError("tasks must be task ids like rm-001")
    spec = {"model": model.strip(), "provider": provider, "endpoint": endpoint, "suites": suites, "profile": profile, "harness": harness, "tasks": tasks}
    conc = body.get("concurrency")
    if conc not in (None, ""):
        if not isinstance(conc, str) or not re.fullmatch(r"\d{1,3}(,\d{1,3}){0,7}", conc.replace(" ", "")) or any(int(x) < 1 or int(x) > 256 for x in conc.replace(" ", "").split(",")):
            raise JobError("concurrency must be levels like 1,2,4 (1 to 256, at most 8 levels)")
        spec["concurrency"] = conc.replace(" ", "")
    for key, lo, hi in (("max_tokens", 1, 65536), ("parallel", 0, 16), ("trials", 1, 50)):
        v = body.get(key)
        if v in (None, ""):
            continue
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise JobError(f"{key} must be a whole number from {lo} to {hi}")
        spec[key] = v
    v = body.get("timeout")
    if v not in (None, ""):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 3600:
            raise JobError("timeout must be a number of seconds up to 3600")
        spec["timeout"] = float(v)
    if body.get("remote") in (True, False):
        spec["remote"] = body["remote"]
    key = body.get("api_key") or None
    if key is not None and (not isinstance(key, str) or len(key) > 4096 or "\n" in key):
        raise JobError("api_key must be a single line of text")
    return spec, key


def build_argv(spec: dict, run_id: str, runs_dir: str) -> list[str]:
    argv = [sys.executable, "-m", "benchloop", "run", f"--model={spec['model']}", f"--provider={spec['provider']}", f"--runs-dir={runs_dir}", f"--run-id={run_id}", f"--harness={spec['harness']}"]
    shown = {"suites": ",".join, "timeout": lambda v: f"{v:g}"}  # how a spec value is written on the flag
    for key in ("endpoint", "suites", "profile", "max_tokens", "parallel", "timeout", "trials", "concurrency"):
        if spec.get(key):
            argv.append(f"--{key.replace('_', '-')}={shown.get(key, str)(spec[key])}")
    argv += [f"--task={t}" for t in spec.get("tasks") or []]
    if spec.get("remote") is True:
        argv.append("--remote")
    elif spec.get("remote") is False:
        argv.append("--local")
    return argv


def runnable_suites() -> list[str]:
    """The catalog's suites whose pytest module ships in this build (what ``benchloop
    run`` can run), in catalog order."""
    from benchloop.paths import suites_dir

    d = suites_dir()
    return [s for s in SUITES if (d / f"test_{s}.py").is_file()]


def expected_total(spec: dict) -> int | None:
    """How many tasks the run will have, so the progress bar has an end (best effort)."""
    try:
        from benchloop.tasks import load_suite, select

        suites = spec.get("suites") or runnable_suites()
        n = 0
        for s in suites:
            n += len(select(load_suite(s)["tasks"], profile=spec.get("profile") or "full", only=spec.get("tasks") or None))
        return n
    except Exception:  # the subprocess reports real problems itself
        return None




# ------------------------------------------------------------------ before Start
DEFAULT_S_PER_TASK = {"llamacpp": 4.0, "ollama": 6.0, "openai_compat": 6.0}


def seconds_per_task(rows: list[dict]) -> float | None:
    """Median wall seconds per task over earlier complete runs (index rows)."""
    per = []
    for r in rows:
        try:
            wall = (datetime.fromisoformat(r["finished_at"]) - datetime.fromisoformat(r["started_at"])).total_seconds()
        except (KeyError, TypeError, ValueError):
            continue
        if r.get("n_tasks") and wall > 0:
            per.append(wall / r["n_tasks"])
    return statistics.median(per) if per else None


def estimate(spec: dict, total: int | None, earlier: list[dict]) -> dict:
    """A time estimate in words: from earlier runs of this model when there are some, else a guess."""
    if not total:
        return {"estimate_s": None, "estimate_basis": "unknown task count"}
    per = seconds_per_task(earlier)
    basis = f"from {len(earlier)} earlier run(s) of this model" if per else "a guess: no earlier run of this model to go by"
    per = per or DEFAULT_S_PER_TASK.get(spec.get("provider"), 6.0)
    par = max(1, int(spec.get("parallel") or 1))
    return {"estimate_s": round(total * per / par, 1), "estimate_basis": basis}


def preflight(spec: dict, api_key: str | None, *, timeout: float = 3.0) -> str | None:
    """None when the endpoint answers and offers the model; else one sentence saying what
    is wrong, in plain words. The embedded engine needs its package and a model it knows."""
    import importlib.util
    import os

    model = spec["model"]
    if spec["provider"] == "llamacpp":
        if importlib.util.find_spec("xllamacpp") is None:
            return "The embedded engine is not installed here (the xllamacpp package is missing)."
        from benchloop.engine import KNOWN_MODELS

        if model not in KNOWN_MODELS and not (model.endswith(".gguf") and os.path.isfile(os.path.expanduser(model))):
            return f"The embedded engine does not know the model '{model}': pick one of {', '.join(KNOWN_MODELS)} or give the path of a .gguf file."
        return None
    from benchloop.providers import ProviderError, make_provider

    url = spec["endpoint"]
    p = make_provider(spec["provider"], url, api_key=api_key, timeout=timeout)
    p.connect_timeout = timeout
    try:
        models = [m for m in p.list_models() if isinstance(m, str)]
    except ProviderError as exc:
        if exc.kind in ("connect", "timeout"):
            return f"Nothing answers at {url}. Start the server there, or pick another endpoint."
        if exc.status in (401, 403):
            return f"{url} refused the request ({exc.status}): it needs a valid API key."
        return f"{url} did not answer like an {'Ollama' if spec['provider'] == 'ollama' else 'OpenAI-compatible'} server ({str(exc)[:160]})."
    finally:
        p.close()
    found = model in models or (spec["provider"] == "ollama" and ":" not in model and f"{model}:latest" in models)
    if found or len(models) == 1 and spec["provider"] != "ollama":  # a single-model server answers to any name
        return None
    if not models:
        return f"{url} answers but offers no models yet."
    listed = ", ".join(models[:8]) + (f" and {len(models) - 8} more" if len(models) > 8 else "")
    return f"{url} does not offer the model '{model}'. It offers: {listed}."
