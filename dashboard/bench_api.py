"""Starting benchmarks from the browser: what can be run (suites, harnesses, models
found on local servers and added endpoints), and the jobs themselves (start, list,
follow live, cancel). A job is a ``benchloop run`` subprocess (see ``jobs.py``), or,
for a body with ``"kind": "sweep"``, a ``benchloop sweep`` of every picked model ×
harness: checked by ``benchloop.sweep``'s own planning before any job exists, so an
axis value that cannot run is one message listing every problem.

Model discovery probes local ports, so it is off when the dashboard listens beyond
this machine; a probe never carries the user's API key.
"""
from __future__ import annotations

import asyncio
import importlib.util
import time
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from benchloop.catalog import HARNESSES, PROFILES, PROVIDERS
from benchloop.dashboard.context import Dashboard, RunId, answers, bad, check_run_id
from benchloop.dashboard.jobs import SSE_HEADERS
from benchloop.dashboard.jobspec import (JobBusy, JobError, estimate, expected_total, matrix_text, preflight, refusal, runnable_suites, sweep_estimate, sweep_plan,
                                          validate_spec, validate_sweep_spec)

# What a person reads next to a provider name, and the server the form fills in for it
# (None: no server, the model runs in-process). The names themselves, and which exist,
# come from benchloop.catalog; a provider missing here is shown by its name and assumed
# to speak OpenAI's API at a URL.
PROVIDER_LABELS = {"ollama": "Ollama", "openai_compat": "OpenAI-compatible", "llamacpp": "embedded (llama.cpp)"}
PROVIDER_ENDPOINTS = {"ollama": "http://127.0.0.1:11434", "openai_compat": "http://127.0.0.1:8080", "llamacpp": None}


def provider_endpoint(name: str) -> str | None:
    return PROVIDER_ENDPOINTS.get(name, PROVIDER_ENDPOINTS["openai_compat"])


# providers that talk to a server at a URL: the ones an added endpoint can be probed as
ENDPOINT_PROVIDERS = tuple(p for p in PROVIDERS if provider_endpoint(p) is not None)


def one_of(names) -> str:
    """``a, b or c``: how a field's description names its allowed values."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class ProviderInfo(BaseModel):
    name: str = Field(description="the provider's name, as --provider takes it")
    label: str = Field(description="how the page names it")
    endpoint: str | None = Field(description="the server URL the form suggests; null: no server (in-process)")


class Catalog(BaseModel):
    providers: list[ProviderInfo] = Field(description="every provider, in the order the benchmark form offers them")
    profiles: list[str] = Field(description="task subsets, smallest first")
    harnesses: list[str] = Field(description="harnesses this build can run, in the catalog's order")


class SuitesAnswer(Catalog):
    suites: list[dict[str, Any]] = Field(description="one row per suite: its task counts per profile, or an error")


def catalog_payload() -> dict:
    """The names the page's forms offer, all from ``benchloop.catalog``: served by
    ``/api/suites`` and embedded in the page itself (``pages.py``), so no select in the
    browser types out a list of its own."""
    from benchloop.harnesses import available

    runnable = set(available())
    # in name order, as the form always listed them: the embedded llamacpp, its default, comes first
    providers = [{"name": p, "label": PROVIDER_LABELS.get(p, p), "endpoint": provider_endpoint(p)} for p in sorted(PROVIDERS)]
    return {"providers": providers, "profiles": list(PROFILES), "harnesses": [h for h in HARNESSES if h in runnable]}


DEFAULT_PROBES = (
    ("Ollama", "ollama", "http://127.0.0.1:11434"),
    ("LM Studio", "openai_compat", "http://127.0.0.1:1234"),
    ("vLLM / llama-server", "openai_compat", "http://127.0.0.1:8000"),
    ("llama-server", "openai_compat", "http://127.0.0.1:8080"),
    ("Jan", "openai_compat", "http://127.0.0.1:1337"),
)


class JobRequest(BaseModel):
    kind: Literal["run"] = Field("run", description="run: one benchmark run (the default); see SweepRequest for a sweep")
    model: str = Field(description="model name, or smollm2-135m / a .gguf path with provider llamacpp")
    provider: str = Field("ollama", description=one_of(PROVIDERS))
    endpoint: str | None = Field(None, description="server URL (not for llamacpp)")
    suites: list[str] | str = Field(default_factory=list, description="suites to run (empty: all)")
    profile: str | None = Field(None, description=one_of(PROFILES))
    harness: str = "raw"
    tasks: list[str] | str = Field(default_factory=list, description="exact task ids")
    max_tokens: int | None = None
    parallel: int | None = None
    timeout: float | None = None
    trials: int | None = Field(None, description="speed suite repetitions per scenario")
    concurrency: str | None = Field(None, description="speed suite concurrency sweep levels, e.g. 1,2,4")
    remote: bool | None = None
    api_key: Any = Field(None, description="key for a remote endpoint; passed to the run's environment only, never stored or echoed")


class ModelChoice(BaseModel):
    model: str = Field(min_length=1, max_length=300, description="model name, or smollm2-135m / a .gguf path with provider llamacpp")
    provider: str = Field("ollama", max_length=40, description=one_of(PROVIDERS))
    endpoint: str | None = Field(None, max_length=500, description="server URL (not for llamacpp)")


class SweepRequest(BaseModel):
    kind: Literal["sweep"] = Field(description="a sweep: every model × every harness, each cell an ordinary run")
    models: list[ModelChoice] = Field(min_length=1, max_length=12, description="the models, each with its own provider and endpoint")
    harnesses: list[str] = Field(default_factory=lambda: ["raw"], min_length=1, max_length=8)
    suites: list[str] | str = Field(default_factory=list, description="suites of every cell (empty: all)")
    profile: str | None = Field(None, description=one_of(PROFILES))
    tasks: list[str] | str = Field(default_factory=list, description="exact task ids")
    max_tokens: int | None = None
    parallel: int | None = Field(None, description="parallel workers inside each cell")
    timeout: float | None = None
    api_key: Any = Field(None, description="key for remote endpoints; passed to the sweep's environment only, never stored or echoed")


class EndpointRequest(BaseModel):
    url: str = Field(pattern=r"^https?://[^\s/][^\s]*$", max_length=500, description="http:// or https:// URL, no spaces")
    provider: Literal[ENDPOINT_PROVIDERS] = "openai_compat"
    label: str | None = Field(None, max_length=200)


def guess_provider(url: str) -> str:
    return "ollama" if ":11434" in url or "ollama" in url.lower() else "openai_compat"


def probe(label: str, provider: str, url: str, *, timeout: float = 0.4) -> dict:
    """Which models one server offers; an unreachable or strange server is a row with an error."""
    from benchloop.providers import ProviderError, make_provider

    out = {"label": label, "provider": provider, "url": url, "reachable": False, "models": [], "error": None}
    # "llamacpp" builds the same OpenAI client without the OPENAI_API_KEY fallback: a
    # probe of whatever listens on a local port must never be handed the user's key
    p = make_provider("ollama" if provider == "ollama" else "llamacpp", url, timeout=timeout)
    p.connect_timeout = timeout
    try:
        out["models"] = [m for m in p.list_models() if isinstance(m, str)][:200]
        out["reachable"] = True
    except ProviderError as exc:
        out["error"] = str(exc)[:200]
    except Exception as exc:  # a strange server must not break the page
        out["error"] = f"{type(exc).__name__}"[:200]
    finally:
        p.close()
    return out


def embedded_models() -> list[dict]:
    from benchloop.engine import KNOWN_MODELS, EngineError, resolve_model

    has_engine = importlib.util.find_spec("xllamacpp") is not None
    out = []
    for name, spec in KNOWN_MODELS.items():
        try:
            resolve_model(name, fetch=False)
            present = True
        except (EngineError, OSError):
            present = False
        out.append({"provider": "llamacpp", "model": name, "parameters": spec.get("parameters"), "quantization": spec.get("quantization"), "engine": has_engine, "downloaded": present})
    return out


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()
    st, jobs = dash.state, dash.jobs

    @r.get("/api/suites", tags=["benchmark"], summary="Suites and their tasks per profile; the providers, profiles and harnesses the forms offer", response_model=SuitesAnswer)
    def suites():
        from benchloop.tasks import suite_overview

        rows = [{k: v for k, v in row.items() if k != "task_ids"} | ({"tasks": row["task_ids"]} if "task_ids" in row else {}) for row in suite_overview()]
        return {"suites": rows, **catalog_payload()}

    @r.get("/api/models", tags=["models"], summary="Models on local providers and user-added endpoints")
    async def models(refresh: bool = False):
        if not st.allow_control:
            return {"endpoints": [], "embedded": [], "note": "model discovery is off when the dashboard listens beyond this machine"}
        at, cached = st.models_cache
        if cached is not None and not refresh and time.monotonic() - at < 10:
            return cached
        targets = (list(DEFAULT_PROBES) if st.probe_defaults else []) + list(st.endpoints)
        loop = asyncio.get_running_loop()
        futs = [loop.run_in_executor(None, probe, *t) for t in targets]
        emb = loop.run_in_executor(None, embedded_models)
        done, _ = await asyncio.wait([*futs, emb], timeout=3.0)
        results = []
        for t, f in zip(targets, futs):
            if f in done and not f.exception():
                results.append(f.result())
            else:
                results.append({"label": t[0], "provider": t[1], "url": t[2], "reachable": False, "models": [], "error": "no answer within 3 s"})
        embedded = emb.result() if emb in done and not emb.exception() else []
        out = {"endpoints": results, "embedded": embedded}
        st.models_cache = (time.monotonic(), out)
        return out

    @r.post("/api/endpoints", tags=["models"], summary="Add an endpoint to discover models on (kept in memory)", responses=answers(400, 403))
    def add_endpoint(body: EndpointRequest):
        dash.need_control()
        url = body.url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or len(url) > 500 or any(c.isspace() for c in url):
            bad("url must be an http:// or https:// URL")
        if body.provider not in ENDPOINT_PROVIDERS:
            bad(f"provider must be {one_of(ENDPOINT_PROVIDERS)}")
        if not any(e[2] == url for e in st.endpoints):
            st.endpoints.append(((body.label or url)[:80], body.provider, url))
        st.models_cache = (0.0, None)
        return {"endpoints": [{"label": e[0], "provider": e[1], "url": e[2]} for e in st.endpoints]}

    def checked(body: JobRequest) -> tuple[dict, str | None]:
        from benchloop.harnesses import available

        try:
            return validate_spec(body.model_dump(), available_suites=runnable_suites(), available_harnesses=available())
        except JobError as exc:
            bad(str(exc))

    def planned(body: SweepRequest) -> tuple[dict, str | None, list[dict], list[str]]:
        try:
            spec, key = validate_sweep_spec(body.model_dump(), available_suites=runnable_suites())
            cells, problems = sweep_plan(spec, key)
        except JobError as exc:
            bad(str(exc))
        return spec, key, cells, problems

    def earlier_runs(model: str) -> list[dict]:
        return dash.index.query(filters={"model": [model], "status": ["complete"]}, limit=20)["items"]

    def check_sweep(body: SweepRequest) -> dict:
        spec, _key, cells, problems = planned(body)
        per_cell = expected_total(spec)
        axes = {"model": list(dict.fromkeys(str(c["values"].get("model")) for c in cells)), "harness": spec["harnesses"]}
        return {"ok": not problems, "message": refusal(problems) if problems else "ready", "problems": problems, "cells": len(cells), "cell_names": [c["name"] for c in cells],
                "axes": axes, "tasks_per_cell": per_cell, "total": per_cell * len(cells) if per_cell else None, "running": jobs.busy(), **sweep_estimate(spec, cells, per_cell, earlier_runs)}

    def start_sweep(body: SweepRequest) -> dict:
        spec, key, cells, problems = planned(body)
        running = jobs.busy()
        if running:
            bad(str(JobBusy(running)), 409)
        if problems:
            bad(refusal(problems))
        try:
            return jobs.start_sweep(spec, matrix_text(spec), key, cells=len(cells)).public()
        except JobBusy as exc:
            bad(str(exc), 409)
        except JobError as exc:
            bad(str(exc))

    @r.post("/api/jobs/check", tags=["benchmark"], summary="Check a benchmark or a sweep before starting it: endpoints and models, task and cell count, time estimate",
            responses={400: {"description": "the request is not a valid benchmark"}, 403: {"description": "control is disabled (bound beyond loopback) or the token is missing"}})
    def check_job(body: JobRequest | SweepRequest):
        dash.need_control()
        if isinstance(body, SweepRequest):
            return check_sweep(body)
        spec, key = checked(body)
        total = expected_total(spec)
        earlier = dash.index.query(filters={"model": [spec["model"]], "status": ["complete"]}, limit=20)["items"]
        problem = preflight(spec, key)
        return {"ok": problem is None, "message": problem or "ready", "total": total, "running": jobs.busy(), **estimate(spec, total, earlier)}

    @r.post("/api/jobs", tags=["benchmark"], summary="Start a benchmark (a benchloop run subprocess) or a sweep (benchloop sweep); refused while one runs",
            responses={400: {"description": "invalid request, or an endpoint, model or other axis value cannot run (no job is created)"}, 403: {"description": "control is disabled or the token is missing"}, 409: {"description": "a benchmark is already running"}})
    def start_job(body: JobRequest | SweepRequest):
        dash.need_control()
        if isinstance(body, SweepRequest):
            return start_sweep(body)
        spec, key = checked(body)
        running = jobs.busy()
        if running:
            bad(str(JobBusy(running)), 409)
        problem = preflight(spec, key)
        if problem:
            bad(problem)
        try:
            return jobs.start(spec, key).public()
        except JobBusy as exc:
            bad(str(exc), 409)

    @r.get("/api/jobs", tags=["benchmark"], summary="Benchmarks started by this server")
    def list_jobs():
        return {"jobs": jobs.list()}

    def job_of(run_id: str):
        job = jobs.get(check_run_id(run_id))
        if job is None:
            bad(f"no benchmark {run_id} started by this server", 404)
        return job

    @r.get("/api/jobs/{run_id}", tags=["benchmark"], responses=answers(404))
    def get_job(run_id: RunId):
        return job_of(run_id).public()

    @r.get("/api/jobs/{run_id}/events", tags=["benchmark"], summary="Live progress (Server-Sent Events)", response_class=StreamingResponse,
           responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "progress events until the run ends"}, **answers(404)})
    def job_events(run_id: RunId):
        return StreamingResponse(jobs.events(job_of(run_id)), media_type="text/event-stream", headers=SSE_HEADERS)

    @r.post("/api/jobs/{run_id}/cancel", tags=["benchmark"], summary="Cancel a benchmark (the run keeps what it finished, marked incomplete)", responses=answers(403, 404))
    def cancel_job(run_id: RunId):
        dash.need_control()
        job = jobs.cancel(check_run_id(run_id))
        if job is None:
            bad(f"no benchmark {run_id} started by this server", 404)
        return job.public()

    return r
