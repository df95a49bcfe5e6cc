"""The one HTML page and the static files of the web UI.

The page carries a per-server token (state-changing requests must send it back, see
``guard.py``), the leaderboard data, so the first view paints without a second round
trip, and the providers, profiles and harnesses the forms offer (``catalog_payload``).
Everything else is static files shipped in the package (``static/``).
"""
from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from benchloop import __version__
from benchloop.dashboard.bench_api import catalog_payload
from benchloop.dashboard.context import Dashboard
from benchloop.dashboard.leaderboard_api import board_payload

STATIC = Path(__file__).resolve().parent / "static"


def boot_json(data) -> str:
    """JSON safe to embed in a ``<script type="application/json">`` block."""
    return json.dumps(data, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def router(dash: Dashboard) -> APIRouter:
    """``/`` and ``/favicon.ico``; ``create_app`` mounts ``/static`` itself (a router
    cannot carry a mount)."""
    r = APIRouter()
    st = dash.state
    template = (STATIC / "index.html").read_text(encoding="utf-8")

    @r.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page():
        try:
            lb = board_payload(dash)
        except Exception:  # the page must load even if the index cannot
            lb = {"groups": [], "unranked": 0, "boards": []}
        boot = {"leaderboard": lb, "catalog": catalog_payload(), "version": __version__, "control": st.allow_control, "submissions": st.submissions}
        html = template.replace("__BENCHLOOP_TOKEN__", st.csrf_token).replace("__BENCHLOOP_BOOT__", boot_json(boot))
        return HTMLResponse(html)

    @r.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    return r
