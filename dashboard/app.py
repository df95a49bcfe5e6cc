"""The dashboard app: a FastAPI JSON API and a web UI on one port, assembled here from
one router per role. Launch it with ``python -m benchloop.dashboard`` (``serve.py``).

=====================  ==================================================================
module                 role
=====================  ==================================================================
``guard.py``           the middleware every request passes (Host, Origin, token, headers)
``context.py``         what the routers share: run index, jobs, chat engine, artifact cache
``pages.py``           the HTML page (token + leaderboard inlined) and ``/static``
``runs_api.py``        runs: list, one run, one task, delete, compare
``leaderboard_api.py`` the local leaderboard; the self-hosted leaderboard's submissions
``bench_api.py``       suites, model discovery, benchmark and sweep jobs (``jobs.py``)
``sweeps_api.py``      sweeps: list, one sweep's matrix with cell → run links
``chat_api.py``        chat, streamed through the provider's ``on_delta`` callback
``index.py``           the SQLite index over the run store
``views.py``           pure shaping of runs for pages (trim, leaderboard, compare)
``serve.py``           command line: flags, service templates, uvicorn
=====================  ==================================================================

Safe by default, because a dashboard on a laptop is reachable by every web page the
same browser opens: it binds 127.0.0.1 and then answers only loopback ``Host`` names;
no CORS headers; every state-changing request needs the page's token and our origin;
run ids are checked with ``valid_run_id``; a CSP without inline scripts backs up the
UI's rule that model output is only ever set as text; an API key sent for a remote
endpoint goes to the provider or the benchmark subprocess's environment, never back to
the browser, never to disk. Bound beyond loopback, the dashboard is read-only.
"""
from __future__ import annotations

import asyncio
import os
import re
import secrets
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from benchloop import __version__
from benchloop.dashboard import bench_api, chat_api, leaderboard_api, pages, runs_api, sweeps_api
from benchloop.dashboard.context import Dashboard
from benchloop.dashboard import guard
from benchloop.dashboard.guard import Guard, is_loopback_host

STATIC = pages.STATIC
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


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

    @asynccontextmanager
    async def lifespan(app):
        stop = threading.Event()
        if refresh_interval > 0:  # full sweeps off the request path
            threading.Thread(target=dash.index.sweep_forever, args=(stop,), name="benchloop-index-sweep", daemon=True).start()
        yield
        stop.set()
        await asyncio.to_thread(dash.jobs.shutdown)
        dash.engines.stop()
        dash.index.close()

    app = FastAPI(
        title="BenchLoop dashboard",
        version=__version__,
        description="Runs, leaderboard, compare, benchmarks and chat over the local run store.",
        lifespan=lifespan,
    )
    st = app.state
    dash = Dashboard(runs_dir, st, refresh_interval=refresh_interval)
    loopback = is_loopback_host(bind_host)
    st.runs_dir = runs_dir
    st.index = dash.index
    st.jobs = dash.jobs
    st.cache = dash.cache
    st.csrf_token = secrets.token_urlsafe(32)
    st.loopback_only = loopback
    st.allow_control = loopback
    st.exempt_routes = []
    st.endpoints = [(f"--endpoint {u}", bench_api.guess_provider(u), u.rstrip("/")) for u in (extra_endpoints or ()) if isinstance(u, str) and u.startswith(("http://", "https://"))]
    st.probe_defaults = probe_defaults
    st.models_cache = (0.0, None)
    st.submissions = "off"
    app.add_middleware(Guard, state=st)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        """422 without the offending input echoed back (it could be an API key)."""
        errs = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))[:200], "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": errs}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """A 405 names every method of the path in ``Allow`` (Starlette names only the
        first route's, so ``DELETE /api/runs/{id}`` was missing from a PUT's answer)."""
        if exc.status_code == 405:
            return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(allowed_methods(app, request.scope))})
        return await http_exception_handler(request, exc)

    def openapi():
        """FastAPI's document plus what the Guard middleware answers (421, 400, the token and its 403)."""
        if app.openapi_schema is None:
            exempt = {(m, r.path) for r in st.exempt_routes for m in getattr(r, "methods", ())}
            guard.document(FastAPI.openapi(app), exempt=exempt, loopback_only=st.loopback_only)
        return app.openapi_schema

    app.openapi = openapi

    for role in (pages, runs_api, leaderboard_api, bench_api, chat_api, sweeps_api):
        app.include_router(role.router(dash))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    if accept_submissions:
        store = Path(store_dir) if store_dir else Path(os.environ.get("BENCHLOOP_LEADERBOARD_DIR") or runs_dir.parent / "leaderboard")
        submissions = leaderboard_api.submissions_router(store, token)
        app.include_router(submissions)
        st.exempt_routes = list(submissions.routes)
        st.submissions = "on"
    return app


def allowed_methods(app: FastAPI, scope) -> list[str]:
    """The methods of the resource at this request's path, for a 405's ``Allow``.

    For the API, what the OpenAPI document lists for the path, a concrete path before
    a templated one as OpenAPI matches them (``/api/runs/facets`` is GET only, though
    ``DELETE /api/runs/{run_id}`` would take the name). Elsewhere (the page, the static
    files) each route is asked whether it takes the request under each method."""
    from starlette.routing import Match, Mount

    path = scope.get("path") or "/"
    templates = getattr(app.state, "allow_templates", None)
    if templates is None:
        templates = []
        for tpl, ops in (app.openapi().get("paths") or {}).items():
            rx = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(tpl)) + "$")
            templates.append((tpl.count("{"), rx, sorted(m.upper() for m in ops if m.upper() in HTTP_METHODS)))
        templates.sort(key=lambda t: t[0])
        app.state.allow_templates = templates
    for _, rx, methods in templates:
        if rx.match(path):
            return methods
    top = {**scope, "root_path": scope.get("app_root_path", scope.get("root_path", ""))}  # a mount rewrote root_path
    allowed = []
    for method in HTTP_METHODS:
        probe = {**top, "method": method}
        for route in app.router.routes:
            try:
                full = route.matches(probe)[0] == Match.FULL
            except Exception:  # a route type that cannot say: not this one
                continue
            if full and isinstance(route, Mount):
                return ["GET", "HEAD"] if isinstance(route.app, StaticFiles) else []
            if full:
                allowed.append(method)
                break
    return allowed
