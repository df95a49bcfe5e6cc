"""``benchloop dashboard``: a FastAPI JSON API and a web UI on one port.

The API reads the run store through the SQLite index (``index.py``), loads single
artifacts for detail pages, starts and cancels benchmark subprocesses (``jobs.py``) and
streams chat replies from any provider. The UI is static files shipped in the package
(``static/``) plus one HTML page that carries a per-server token and the leaderboard
data, so the leaderboard paints without a second round trip.

Safe by default, because a dashboard on a laptop is reachable by every web page the
same browser opens:

- it binds 127.0.0.1, and while bound to loopback it only answers loopback ``Host``
  names (a DNS-rebinding page cannot talk to it);
- no CORS headers at all, so other origins cannot read any answer;
- every state-changing request (POST, PUT, PATCH, DELETE) needs the page's token in the
  ``X-BenchLoop-Token`` header, and one whose ``Origin`` is not this server is refused;
- run ids are checked with ``valid_run_id``; a ``..`` in a path is a 400;
- a Content-Security-Policy without inline scripts backs up the UI's rule that model
  output is only ever set as text;
- an API key sent for a remote endpoint goes to the provider or the benchmark
  subprocess's environment, never back to the browser, never to disk.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import os
import secrets
import shutil
import sys
import threading
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from benchloop import __version__
from benchloop.artifact import valid_run_id
from benchloop.dashboard import views
from benchloop.dashboard.index import FILTERS, SORTABLE, RunIndex, read_run_dir, signature
from benchloop.dashboard.jobs import JobError, JobManager, sse, validate_spec

STATIC = Path(__file__).resolve().parent / "static"
TOKEN_HEADER = "x-benchloop-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DEFAULT_PROBES = (
    ("Ollama", "ollama", "http://127.0.0.1:11434"),
    ("LM Studio", "openai_compat", "http://127.0.0.1:1234"),
    ("vLLM / llama-server", "openai_compat", "http://127.0.0.1:8000"),
    ("llama-server", "openai_compat", "http://127.0.0.1:8080"),
    ("Jan", "openai_compat", "http://127.0.0.1:1337"),
)


def is_loopback_host(host: str) -> bool:
    h = (host or "").strip().lower()
    return h in LOOPBACK_NAMES or h.startswith("127.")


def _host_name(host_header: str) -> str:
    """``127.0.0.1:8877`` -> ``127.0.0.1``; ``[::1]:8877`` -> ``[::1]``."""
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[: h.find("]") + 1] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def _plain_error(status: int, detail: str) -> tuple[dict, bytes]:
    body = json.dumps({"detail": detail}).encode()
    start = {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, body


class Guard:
    """Pure ASGI middleware: path traversal, Host, Origin and token checks, plus the
    security headers on every response. Pure ASGI (not BaseHTTPMiddleware) so SSE
    streams pass through untouched."""

    def __init__(self, app, *, state):
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        path = scope.get("path") or "/"
        problem = self.check(scope, headers, path)
        if problem:
            status, detail = problem
            start, body = _plain_error(status, detail)
            start["headers"] += self.security_headers(path)
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return

        extra = self.security_headers(path)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers") or []) + extra
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    def check(self, scope, headers: dict, path: str):
        segments = path.split("/")
        if ".." in segments or any(".." in s for s in segments if s) or "\\" in path or "\x00" in path:
            return 400, "invalid run id or path: '..' is not allowed"
        host = headers.get("host", "")
        if self.state.loopback_only and not is_loopback_host(_host_name(host)):
            return 421, "this dashboard answers only to loopback host names (127.0.0.1, localhost)"
        method = scope.get("method", "GET").upper()
        if method not in UNSAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None:
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            if origin.lower() != own:
                return 403, "cross-origin request refused"
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return 403, "cross-site request refused"
        if self.exempt(scope):
            return None
        given = headers.get(TOKEN_HEADER, "")
        if not given or not hmac.compare_digest(given.encode(), self.state.csrf_token.encode()):
            return 403, "missing or wrong X-BenchLoop-Token (reload the dashboard page)"
        return None

    def exempt(self, scope) -> bool:
        """Submission routes (self-hosted leaderboard) use their own bearer token."""
        from starlette.routing import Match

        for route in self.state.exempt_routes:
            try:
                match, _ = route.matches(scope)
            except Exception:  # a route type without matches(): never exempt
                continue
            if match == Match.FULL:
                return True
        return False

    @staticmethod
    def security_headers(path: str) -> list[tuple[bytes, bytes]]:
        h = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if path.startswith("/api/") or path == "/":
            h.append((b"cache-control", b"no-store"))
        return h


class RunCache:
    """A few parsed artifacts, keyed by their directory signature (run pages re-read
    the same run.json for every task they open)."""

    def __init__(self, size: int = 8):
        self.size = size
        self._d: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, run_dir: Path) -> dict:
        sig = signature(run_dir)
        key = str(run_dir)
        with self._lock:
            hit = self._d.get(key)
            if hit and hit[0] == sig:
                self._d.move_to_end(key)
                return hit[1]
        run = read_run_dir(run_dir)
        with self._lock:
            self._d[key] = (sig, run)
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return run

    def drop(self, run_dir: Path) -> None:
        with self._lock:
            self._d.pop(str(run_dir), None)


class Engines:
    """The embedded llama.cpp engine for chat, started on first use, one model at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._engine = None

    def url_for(self, model: str) -> str:
        with self._lock:
            if self._engine is not None and self._engine.model == model and self._engine.url:
                return self._engine.url
            self._stop()
            from benchloop.engine import Engine

            self._engine = Engine(model, parallel=1, ctx_per_slot=4096, quiet=True).start()
            return self._engine.url

    def _stop(self):
        if self._engine is not None:
            self._engine.stop()
            self._engine = None

    def stop(self):
        with self._lock:
            self._stop()


# --------------------------------------------------------------------- request bodies
class JobRequest(BaseModel):
    model: str = Field(description="model name, or smollm2-135m / a .gguf path with provider llamacpp")
    provider: str = Field("ollama", description="ollama, openai_compat or llamacpp")
    endpoint: str | None = Field(None, description="server URL (not for llamacpp)")
    suites: list[str] | str = Field(default_factory=list, description="suites to run (empty: all)")
    profile: str | None = Field(None, description="quick, core or full")
    harness: str = "raw"
    tasks: list[str] | str = Field(default_factory=list, description="exact task ids")
    max_tokens: int | None = None
    parallel: int | None = None
    timeout: float | None = None
    remote: bool | None = None
    api_key: Any = Field(None, description="key for a remote endpoint; passed to the run's environment only, never stored or echoed")


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    provider: str = "ollama"
    endpoint: str | None = None
    model: str
    messages: list[ChatMessage]
    max_tokens: int = 512
    temperature: float = 0.7
    api_key: Any = Field(None, description="key for a remote endpoint; used for this request only, never stored or echoed")


class EndpointRequest(BaseModel):
    url: str
    provider: str = "openai_compat"
    label: str | None = None


# --------------------------------------------------------------------------- helpers
def _bad(detail: str, status: int = 400):
    raise HTTPException(status_code=status, detail=detail)


def check_run_id(run_id: str) -> str:
    if not valid_run_id(run_id):
        _bad("invalid run id: letters, digits, '.', '_' and '-' only, no '..'")
    return run_id


def guess_provider(url: str) -> str:
    return "ollama" if ":11434" in url or "ollama" in url.lower() else "openai_compat"


def boot_json(data) -> str:
    """JSON safe to embed in a ``<script type="application/json">`` block."""
    return json.dumps(data, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def tap_stream(provider, on_delta) -> bool:
    """Stream a provider's reply to a callback without changing the provider: wrap the
    HTTP response its ``_read_stream`` iterates, and after each line it parsed, hand on
    the text the provider's own parser added. Timings and parsing stay the provider's."""
    orig = getattr(provider, "_read_stream", None)
    if orig is None:
        return False

    def tapped(r, res):
        class Tapped:
            def __getattr__(self, name):
                return getattr(r, name)

            def iter_lines(self, *a, **kw):
                sent = [0, 0]

                def flush():
                    c, t = res.content or "", res.reasoning or ""
                    if len(c) > sent[0] or len(t) > sent[1]:
                        on_delta(c[sent[0]:], t[sent[1]:])
                        sent[0], sent[1] = len(c), len(t)

                for line in r.iter_lines(*a, **kw):
                    flush()
                    yield line
                flush()

        return orig(Tapped(), res)

    provider._read_stream = tapped
    return True


def probe(label: str, provider: str, url: str, *, timeout: float = 0.4) -> dict:
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
    import importlib.util

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


# ------------------------------------------------------------------------------ app
def create_app(
    runs_dir: str | Path,
    *,
    accept_submissions: bool = False,
    token: str | None = None,
    extra_endpoints=(),
    bind_host: str = "127.0.0.1",
    probe_defaults: bool = True,
    refresh_interval: float = 1.0,
    store_dir: str | Path | None = None,
) -> FastAPI:
    """Build the dashboard app for one runs directory.

    ``token`` is the submission token of ``--accept-submissions`` (not the page token:
    that one is generated here, per server start). Bound beyond loopback, the
    dashboard is read-only: no benchmarks, chat, deletions or local model probing.
    """
    runs_dir = Path(runs_dir).expanduser().resolve()
    runs_dir.mkdir(parents=True, exist_ok=True)
    index = RunIndex(runs_dir, min_interval=refresh_interval, full_interval=30 * refresh_interval)
    jobs = JobManager(runs_dir)
    engines = Engines()
    cache = RunCache()
    loopback = is_loopback_host(bind_host)

    @asynccontextmanager
    async def lifespan(app):
        stop = threading.Event()
        if refresh_interval > 0:  # full sweeps off the request path
            threading.Thread(target=index.sweep_forever, args=(stop,), name="benchloop-index-sweep", daemon=True).start()
        yield
        stop.set()
        await asyncio.to_thread(jobs.shutdown)
        engines.stop()
        index.close()

    app = FastAPI(
        title="BenchLoop dashboard",
        version=__version__,
        description="Runs, leaderboard, compare, benchmarks and chat over the local run store.",
        lifespan=lifespan,
    )
    st = app.state
    st.runs_dir = runs_dir
    st.index = index
    st.jobs = jobs
    st.cache = cache
    st.csrf_token = secrets.token_urlsafe(32)
    st.loopback_only = loopback
    st.allow_control = loopback
    st.exempt_routes = []
    st.endpoints = [(f"--endpoint {u}", guess_provider(u), u.rstrip("/")) for u in (extra_endpoints or ()) if isinstance(u, str) and u.startswith(("http://", "https://"))]
    st.probe_defaults = probe_defaults
    st.models_cache = (0.0, None)
    st.submissions = "off"
    app.add_middleware(Guard, state=st)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        """422 without the offending input echoed back (it could be an API key)."""
        errs = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))[:200], "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": errs}, status_code=422)

    board = {"generation": None, "data": None}

    def leaderboard_data() -> dict:
        """Cached until the index changes (1,000 rows take tens of ms to regroup)."""
        index.refresh()
        gen = index.generation
        if board["generation"] != gen or board["data"] is None:
            board["data"] = views.leaderboard(index.rows(status="complete"))
            board["generation"] = gen
        return board["data"]

    def need_control():
        if not st.allow_control:
            _bad("disabled: this dashboard listens beyond this machine (bind 127.0.0.1 to start benchmarks, chat or delete runs)", 403)

    def run_dir_of(run_id: str) -> Path:
        check_run_id(run_id)
        d = runs_dir / run_id
        if d.is_symlink() or not d.is_dir():
            _bad(f"no run {run_id}", 404)
        return d

    def load(run_id: str) -> dict:
        d = run_dir_of(run_id)
        try:
            run = cache.load(d)
        except Exception as exc:  # broken artifact: say so, never a 500
            return {"run_id": run_id, "status": "broken", "error": f"{type(exc).__name__}: {exc}"[:300], "tasks": []}
        if run.get("status") != "complete" and run_id in jobs.active_ids():
            run = dict(run, status="running")
        return run

    # ---------------------------------------------------------------- page + static
    template = (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page():
        try:
            lb = leaderboard_data()
        except Exception:  # the page must load even if the index cannot
            lb = {"groups": [], "unranked": 0}
        boot = {"leaderboard": lb, "version": __version__, "control": st.allow_control, "submissions": st.submissions}
        html = template.replace("__BENCHLOOP_TOKEN__", st.csrf_token).replace("__BENCHLOOP_BOOT__", boot_json(boot))
        return HTMLResponse(html)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        from fastapi.responses import Response

        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    # ---------------------------------------------------------------------- runs
    @app.get("/api/health", tags=["meta"])
    def health():
        return {"ok": True, "version": __version__, "runs_dir": str(runs_dir), "control": st.allow_control, "submissions": st.submissions}

    @app.get("/api/runs", tags=["runs"], summary="List runs (filter, sort, paginate)")
    def list_runs(
        model: list[str] | None = Query(None),
        harness: list[str] | None = Query(None),
        provider: list[str] | None = Query(None),
        hardware: list[str] | None = Query(None),
        profile: list[str] | None = Query(None),
        status: list[str] | None = Query(None),
        manifest_hash: list[str] | None = Query(None),
        sort: str = Query("started_at", description=f"one of {', '.join(SORTABLE)}"),
        order: str = Query("desc", pattern="^(asc|desc)$"),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
    ):
        if sort not in SORTABLE:
            _bad(f"sort must be one of {', '.join(SORTABLE)}")
        filters = {"model": model, "harness": harness, "provider": provider, "hardware": hardware, "profile": profile, "status": status, "manifest_hash": manifest_hash}
        running = jobs.active_ids()
        if status and "running" in status:
            filters["status"] = [s for s in status if s != "running"] + ["incomplete"]
        res = index.query(filters={k: v for k, v in filters.items() if k in FILTERS and v}, sort=sort, order=order, limit=limit, offset=offset)
        for item in res["items"]:
            if item["run_id"] in running and item["status"] != "complete":
                item["status"] = "running"
        return JSONResponse(res)

    @app.get("/api/runs/facets", tags=["runs"], summary="Distinct values for the list filters")
    def facets():
        return index.facets()

    @app.get("/api/runs/{run_id}", tags=["runs"], summary="One run without per-task receipts")
    def run_detail(run_id: str):
        return JSONResponse(views.trim_run(load(run_id)))

    @app.get("/api/runs/{run_id}/artifact", tags=["runs"], summary="The full run.json")
    def run_artifact(run_id: str):
        return JSONResponse(load(run_id))

    @app.get("/api/runs/{run_id}/tasks/{suite}/{task_id}", tags=["runs"], summary="One task: full output, checks and agent trace")
    def task_detail(run_id: str, suite: str, task_id: str):
        run = load(run_id)
        t = views.find_task(run, suite, task_id)
        if t is None:
            _bad(f"no task {suite}/{task_id} in run {run_id}", 404)
        return JSONResponse({"run_id": run_id, "model": views.model_name(run), "harness": run.get("harness"), "task": t})

    @app.delete("/api/runs/{run_id}", tags=["runs"], summary="Delete a run directory")
    def delete_run(run_id: str):
        need_control()
        d = run_dir_of(run_id)
        if run_id in jobs.active_ids():
            _bad("this run is still running; cancel it first", 409)
        if d.resolve().parent != runs_dir:
            _bad("refusing to delete outside the runs directory", 400)
        shutil.rmtree(d)
        cache.drop(d)
        try:
            (runs_dir / ".jobs" / f"{run_id}.log").unlink()
        except OSError:
            pass
        index.refresh(force=True)
        return {"deleted": run_id}

    # --------------------------------------------------------------- compare + board
    @app.get("/api/compare", tags=["compare"], summary="Compare two or more runs per suite and per task")
    def compare(runs: list[str] = Query(..., description="run ids; the first is the baseline")):
        ids = []
        for r in runs:
            for part in r.split(","):
                if part.strip():
                    ids.append(check_run_id(part.strip()))
        if len(ids) < 2:
            _bad("give at least two runs: ?runs=A&runs=B")
        if len(ids) > 8:
            _bad("compare at most 8 runs at once")
        loaded = [load(i) for i in ids]
        broken = [r["run_id"] for r in loaded if r.get("status") == "broken"]
        if broken:
            _bad(f"run {broken[0]} is broken and cannot be compared", 422)
        return JSONResponse(views.compare_payload(loaded))

    @app.get("/api/leaderboard", tags=["leaderboard"], summary="Best run per model × harness × hardware × profile, grouped by manifest")
    def leaderboard():
        return JSONResponse(leaderboard_data())

    @app.get("/api/suites", tags=["benchmark"], summary="Suites, their tasks per profile, harnesses")
    def suites():
        from benchloop.harnesses import available
        from benchloop.tasks import suite_overview

        rows = [{k: v for k, v in r.items() if k != "task_ids"} | ({"tasks": r["task_ids"]} if "task_ids" in r else {}) for r in suite_overview()]
        return {"suites": rows, "harnesses": available(), "profiles": ["quick", "core", "full"], "providers": ["llamacpp", "ollama", "openai_compat"]}

    # --------------------------------------------------------------------- models
    @app.get("/api/models", tags=["models"], summary="Models on local providers and user-added endpoints")
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
        done, _ = await asyncio.wait([*futs, emb], timeout=3.0) if futs else await asyncio.wait([emb], timeout=3.0)
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

    @app.post("/api/endpoints", tags=["models"], summary="Add an endpoint to discover models on (kept in memory)")
    def add_endpoint(body: EndpointRequest):
        need_control()
        url = body.url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or len(url) > 500 or any(c.isspace() for c in url):
            _bad("url must be an http:// or https:// URL")
        if body.provider not in ("ollama", "openai_compat"):
            _bad("provider must be ollama or openai_compat")
        if not any(e[2] == url for e in st.endpoints):
            st.endpoints.append(((body.label or url)[:80], body.provider, url))
        st.models_cache = (0.0, None)
        return {"endpoints": [{"label": e[0], "provider": e[1], "url": e[2]} for e in st.endpoints]}

    # ----------------------------------------------------------------------- jobs
    @app.post("/api/jobs", tags=["benchmark"], summary="Start a benchmark (a benchloop run subprocess)")
    def start_job(body: JobRequest):
        need_control()
        from benchloop.cli import available_suite_names
        from benchloop.harnesses import available

        try:
            spec, key = validate_spec(body.model_dump(), available_suites=available_suite_names(), available_harnesses=available())
        except JobError as exc:
            _bad(str(exc))
        job = jobs.start(spec, key)
        return job.public()

    @app.get("/api/jobs", tags=["benchmark"], summary="Benchmarks started by this server")
    def list_jobs():
        return {"jobs": jobs.list()}

    @app.get("/api/jobs/{run_id}", tags=["benchmark"])
    def get_job(run_id: str):
        job = jobs.get(check_run_id(run_id))
        if job is None:
            _bad(f"no benchmark {run_id} started by this server", 404)
        return job.public()

    @app.get("/api/jobs/{run_id}/events", tags=["benchmark"], summary="Live progress (Server-Sent Events)")
    def job_events(run_id: str):
        job = jobs.get(check_run_id(run_id))
        if job is None:
            _bad(f"no benchmark {run_id} started by this server", 404)
        return StreamingResponse(jobs.events(job), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.post("/api/jobs/{run_id}/cancel", tags=["benchmark"], summary="Cancel a benchmark (the run keeps what it finished, marked incomplete)")
    def cancel_job(run_id: str):
        need_control()
        job = jobs.cancel(check_run_id(run_id))
        if job is None:
            _bad(f"no benchmark {run_id} started by this server", 404)
        return job.public()

    # ----------------------------------------------------------------------- chat
    @app.post("/api/chat", tags=["chat"], summary="Chat with a model; the reply streams as Server-Sent Events")
    async def chat(body: ChatRequest):
        need_control()
        from benchloop.providers import ProviderError, make_provider

        if body.provider not in ("ollama", "openai_compat", "llamacpp"):
            _bad("provider must be ollama, openai_compat or llamacpp")
        if body.provider != "llamacpp" and (not body.endpoint or not body.endpoint.startswith(("http://", "https://"))):
            _bad("endpoint must be an http:// or https:// URL")
        if not body.model.strip() or len(body.model) > 300:
            _bad("model is required")
        if not body.messages or len(body.messages) > 200:
            _bad("send 1 to 200 messages")
        for m in body.messages:
            if m.role not in ("system", "user", "assistant"):
                _bad("message roles are system, user or assistant")
            if len(m.content) > 200_000:
                _bad("a message may hold at most 200,000 characters")
        if not 1 <= body.max_tokens <= 16384:
            _bad("max_tokens must be 1 to 16384")
        if not 0 <= body.temperature <= 2:
            _bad("temperature must be 0 to 2")
        key = body.api_key if isinstance(body.api_key, str) and body.api_key else None
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def push(ev, data):
            loop.call_soon_threadsafe(queue.put_nowait, (ev, data))

        def work():
            p = None
            try:
                endpoint = body.endpoint
                if body.provider == "llamacpp":
                    push("status", {"message": f"starting the embedded engine for {body.model}"})
                    endpoint = engines.url_for(body.model)
                p = make_provider(body.provider, endpoint, api_key=key, timeout=120)

                def on_delta(c, r):
                    if stop.is_set():
                        raise ProviderError("protocol", "the browser went away")
                    push("delta", {"content": c, "reasoning": r})

                tap_stream(p, on_delta)
                res = p.chat(body.model, [m.model_dump() for m in body.messages], stream=True, max_tokens=body.max_tokens, temperature=body.temperature)
                dec = None
                if res.completion_tokens and res.t_first_token and res.t_last_token and res.t_last_token > res.t_first_token:
                    dec = (res.completion_tokens - 1) / (res.t_last_token - res.t_first_token)
                push("done", {"content": res.content, "reasoning": res.reasoning, "finish_reason": res.finish_reason, "ttft_ms": res.ttft_ms, "latency_ms": res.latency_ms, "completion_tokens": res.completion_tokens, "token_source": res.token_source, "decode_tok_s": dec})
            except ProviderError as exc:
                push("error", {"message": str(exc)[:500]})
            except Exception as exc:  # engine failed to start, etc.
                push("error", {"message": f"{type(exc).__name__}: {exc}"[:500]})
            finally:
                if p is not None:
                    p.close()
                push(None, None)

        threading.Thread(target=work, name="benchloop-chat", daemon=True).start()

        async def gen():
            try:
                while True:
                    ev, data = await queue.get()
                    if ev is None:
                        return
                    yield sse(ev, data)
            finally:
                stop.set()

        return StreamingResponse(gen(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # -------------------------------------------------------------- submissions
    if accept_submissions:
        try:
            from benchloop.leaderboard import make_router
        except ImportError:
            st.submissions = "unavailable"
        else:
            store = Path(store_dir) if store_dir else Path(os.environ.get("BENCHLOOP_LEADERBOARD_DIR") or runs_dir.parent / "leaderboard")
            router = make_router(store, token)
            app.include_router(router)
            st.exempt_routes = list(router.routes)
            st.submissions = "on"
    return app


# ------------------------------------------------------------------ service templates
def service_template(kind: str, argv: list[str]) -> str:
    """A definition that keeps ``benchloop dashboard`` running (restarted on failure,
    started at login). ``argv`` is the dashboard command line without secrets."""
    from xml.sax.saxutils import escape

    if kind == "systemd":
        import shlex

        cmd = " ".join(shlex.quote(a) for a in argv)
        return (
            "# ~/.config/systemd/user/benchloop-dashboard.service\n"
            "# enable with: systemctl --user daemon-reload && systemctl --user enable --now benchloop-dashboard\n"
            "[Unit]\n"
            "Description=BenchLoop dashboard\n"
            "After=network.target\n\n"
            "[Service]\n"
            f"ExecStart={cmd}\n"
            "Restart=on-failure\n"
            "RestartSec=5\n"
            "# a submission token, if any, goes here, not on the command line:\n"
            "# Environment=BENCHLOOP_SUBMIT_TOKEN=...\n\n"
            "[Install]\n"
            "WantedBy=default.target\n"
        )
    if kind == "launchd":
        args = "\n".join(f"    <string>{escape(a)}</string>" for a in argv)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<!-- ~/Library/LaunchAgents/dev.benchloop.dashboard.plist\n"
            "     load with: launchctl load -w ~/Library/LaunchAgents/dev.benchloop.dashboard.plist -->\n"
            '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
            '<plist version="1.0">\n<dict>\n'
            "  <key>Label</key>\n  <string>dev.benchloop.dashboard</string>\n"
            f"  <key>ProgramArguments</key>\n  <array>\n{args}\n  </array>\n"
            "  <key>RunAtLoad</key>\n  <true/>\n"
            "  <key>KeepAlive</key>\n  <true/>\n"
            "  <key>StandardErrorPath</key>\n  <string>/tmp/benchloop-dashboard.log</string>\n"
            "</dict>\n</plist>\n"
        )
    if kind == "windows-task":
        import subprocess

        cmdline = subprocess.list2cmdline(argv[1:])
        return (
            '<?xml version="1.0" encoding="UTF-16"?>\n'
            "<!-- import with: schtasks /Create /TN BenchLoopDashboard /XML benchloop-dashboard.xml -->\n"
            '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
            "  <RegistrationInfo><Description>BenchLoop dashboard</Description></RegistrationInfo>\n"
            "  <Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>\n"
            "  <Settings>\n"
            "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
            "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
            "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
            "    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>\n"
            "    <RestartOnFailure><Interval>PT1M</Interval><Count>999</Count></RestartOnFailure>\n"
            "  </Settings>\n"
            "  <Actions Context=\"Author\">\n"
            f"    <Exec><Command>{escape(argv[0])}</Command><Arguments>{escape(cmdline)}</Arguments></Exec>\n"
            "  </Actions>\n"
            "</Task>\n"
        )
    raise ValueError(f"unknown service template {kind!r}")


def _dashboard_argv(args, runs_dir: str) -> list[str]:
    argv = [sys.executable, "-m", "benchloop", "dashboard", "--host", args.host, "--port", str(args.port), "--runs-dir", runs_dir]
    if getattr(args, "accept_submissions", False):
        argv.append("--accept-submissions")
    for e in getattr(args, "endpoints", None) or []:
        argv += ["--endpoint", e]
    return argv


def main(args) -> int:
    """Entry point of ``benchloop dashboard`` (the CLI parsed the flags)."""
    from benchloop.options import runs_dir as options_runs_dir

    runs_dir = options_runs_dir(given=getattr(args, "runs_dir", None))
    if getattr(args, "service_template", None):
        sys.stdout.write(service_template(args.service_template, _dashboard_argv(args, runs_dir)))
        return 0
    token = getattr(args, "token", None) or os.environ.get("BENCHLOOP_SUBMIT_TOKEN") or None
    if getattr(args, "accept_submissions", False) and not token:
        sys.stderr.write("benchloop: --accept-submissions needs --token (or BENCHLOOP_SUBMIT_TOKEN) so only you decide who may submit\n")
        return 2
    import uvicorn

    app = create_app(runs_dir, accept_submissions=bool(getattr(args, "accept_submissions", False)), token=token, extra_endpoints=getattr(args, "endpoints", None) or (), bind_host=args.host)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"BenchLoop dashboard on http://{shown}:{args.port}/  (runs: {runs_dir})", flush=True)
    if not is_loopback_host(args.host):
        print("benchloop: listening beyond this machine: the dashboard is read-only (no benchmarks, chat or deletions)", file=sys.stderr, flush=True)
    if app.state.submissions == "unavailable":
        print("benchloop: --accept-submissions is not available in this build (benchloop.leaderboard is missing)", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False)
    except KeyboardInterrupt:
        return 130
    return 0
