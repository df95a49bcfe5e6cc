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


# ------------------------------------------------------------------------ sweeps
MAX_SWEEP_MODELS = 12
MAX_SWEEP_CELLS = 64


def _one_line(v, limit: int) -> bool:
    return isinstance(v, str) and 0 < len(v.strip()) <= limit and not any(ord(c) < 32 for c in v)


def validate_sweep_spec(body: dict, *, available_suites: list[str]) -> tuple[dict, str | None]:
    """Check the shape of a sweep request: ``models`` (each a model with its provider and
    endpoint, as the model list offers them), ``harnesses``, and the settings of every
    cell. Whether each value can *run* (a known harness, a model its server offers) is
    :func:`benchloop.sweep.check`'s to say, in :func:`sweep_plan`."""
    if not isinstance(body, dict):
        raise JobError("the request body must be a JSON object")
    models = body.get("models")
    if not isinstance(models, list) or not models:
        raise JobError("pick at least one model")
    if len(models) > MAX_SWEEP_MODELS:
        raise JobError(f"at most {MAX_SWEEP_MODELS} models in one sweep")
    out = []
    for m in models:
        if not isinstance(m, dict) or not _one_line(m.get("model"), 300):
            raise JobError("each model needs a name (up to 300 characters, one line)")
        provider = m.get("provider") or "ollama"
        if not isinstance(provider, str) or not re.fullmatch(r"[a-z_]{1,40}", provider):
            raise JobError("provider must be a name such as ollama, openai_compat or llamacpp")
        endpoint = m.get("endpoint") or None
        if provider == "llamacpp":
            endpoint = None
        elif not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")) or len(endpoint) > 500 or any(c.isspace() for c in endpoint):
            raise JobError(f"the endpoint of {m['model'].strip()!r} must be an http:// or https:// URL")
        choice = {"model": m["model"].strip(), "provider": provider, "endpoint": endpoint.rstrip("/") if endpoint else None}
        if choice in out:
            raise JobError(f"{choice['model']!r} is picked twice")
        out.append(choice)
    harnesses = body.get("harnesses") or ["raw"]
    if isinstance(harnesses, str):
        harnesses = [x.strip() for x in harnesses.split(",") if x.strip()]
    if not isinstance(harnesses, list) or not harnesses or len(harnesses) > 8 or not all(isinstance(x, str) and SUITE_NAME.match(x) for x in harnesses):
        raise JobError("harnesses must be a list of harness names")
    one = {k: body.get(k) for k in ("suites", "profile", "tasks", "max_tokens", "parallel", "timeout", "api_key")}
    run, key = validate_spec(dict(one, model="m", provider="llamacpp"), available_suites=available_suites, available_harnesses=["raw"])
    spec = {"kind": "sweep", "models": out, "harnesses": list(dict.fromkeys(harnesses))}
    spec.update({k: run[k] for k in ("suites", "profile", "tasks", "max_tokens", "parallel", "timeout") if run.get(k) not in (None, [])})
    return spec, key


def matrix_text(spec: dict) -> str:
    """The sweep as a matrix file (``benchloop sweep matrix.yaml``): the form's plan and
    the job's subprocess read the very same text. Each model carries its own provider
    and endpoint; one model name on several servers is a model × endpoint sweep."""
    import yaml

    models = spec["models"]
    names = [m["model"] for m in models]
    doc: dict = {}
    if len(set(names)) == len(names):
        doc["axes"] = {"model": [{m["model"]: {k: m[k] for k in ("provider", "endpoint") if m[k]}} for m in models]}
    else:
        ms, eps = list(dict.fromkeys(names)), list(dict.fromkeys(m["endpoint"] for m in models))
        providers = {m["provider"] for m in models}
        if len(providers) != 1 or None in eps or {(m["model"], m["endpoint"]) for m in models} != {(a, b) for a in ms for b in eps}:
            raise JobError("a model picked on several servers needs every picked model on every one of those servers (one provider), so each combination is a cell")
        doc["provider"] = providers.pop()
        doc["axes"] = {"model": ms, "endpoint": eps}
    doc["axes"]["harness"] = spec["harnesses"]
    if spec.get("suites"):
        doc["suites"] = ",".join(spec["suites"])
    for key, name in (("profile", "profile"), ("tasks", "task"), ("max_tokens", "max-tokens"), ("timeout", "timeout")):
        if spec.get(key) not in (None, []):
            doc[name] = spec[key]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def sweep_plan(spec: dict, api_key: str | None) -> tuple[list[dict], list[str]]:
    """The cells of a sweep and every reason it cannot start, from ``benchloop.sweep``'s
    own planning and checks (endpoints are asked, at the same time, once each)."""
    import os

    from benchloop import sweep as sw

    try:
        plan = sw.plan_from_matrix(matrix_text(spec), "the sweep form")
        cells = sw.expand(plan)
    except sw.SweepError as exc:
        raise JobError(str(exc)) from None
    if len(cells) > MAX_SWEEP_CELLS:
        raise JobError(f"{len(cells)} cells is more than {MAX_SWEEP_CELLS}; pick fewer models or harnesses")
    env = {k: v for k, v in os.environ.items() if k != "BENCHLOOP_API_KEY"}
    if api_key:
        env["BENCHLOOP_API_KEY"] = api_key
    return cells, sw.check(plan, cells, resolve_env=env)


def refusal(problems: list[str]) -> str:
    from benchloop.sweep import problems_error

    return str(problems_error(problems))


def build_sweep_argv(spec: dict, sweep_id: str, runs_dir: str, matrix_path: str) -> list[str]:
    argv = [sys.executable, "-m", "benchloop", "sweep", matrix_path, f"--runs-dir={runs_dir}", f"--run-id={sweep_id}"]
    if spec.get("parallel"):
        argv.append(f"--parallel={spec['parallel']}")
    return argv


def sweep_estimate(spec: dict, cells: list[dict], per_cell: int | None, earlier_of) -> dict:
    """Wall time of the sweep: each cell's tasks at the seconds per task of earlier runs
    of its model (else the provider's guess), cells of one group (endpoint, or the
    embedded engine) one after another, groups side by side."""
    if not per_cell:
        return {"estimate_s": None, "estimate_basis": "unknown task count"}
    groups: dict[str, float] = {}
    known, guessed = [], []
    par = max(1, int(spec.get("parallel") or 1))
    for c in cells:
        model = str(c["values"].get("model"))
        per = seconds_per_task(earlier_of(model))
        (known if per else guessed).append(model)
        per = per or DEFAULT_S_PER_TASK.get(str(c["values"].get("provider") or "ollama"), 6.0)
        key = c.get("group") or ("embedded" if c["values"].get("provider") == "llamacpp" else str(c["values"].get("endpoint")))
        groups[key] = groups.get(key, 0.0) + per_cell * per / par
    known, guessed = list(dict.fromkeys(known)), list(dict.fromkeys(guessed))
    if not guessed:
        basis = "from earlier runs of " + ", ".join(known)
    elif not known:
        basis = "a guess: no earlier run of " + ("these models" if len(guessed) > 1 else guessed[0]) + " to go by"
    else:
        basis = f"from earlier runs of {', '.join(known)}; a guess for {', '.join(guessed)}"
    side = len(groups)
    return {"estimate_s": round(max(groups.values()), 1), "estimate_basis": basis + (f"; {side} groups of cells side by side (one per server)" if side > 1 else "")}
