"""The leaderboard over HTTP: the local board (best run per model × harness × hardware
× profile, from the run store) and, with ``--accept-submissions``, the self-hosted
leaderboard's submission routes.

The submission routes are the web half of :mod:`benchloop.leaderboard` (which re-checks
a run and stores it, with no web code): a bearer token instead of the page token, a
body-size limit, and one HTTP status per kind of refusal.
"""
from __future__ import annotations

import hmac
import json
import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from benchloop.dashboard import views
from benchloop.dashboard.context import Dashboard
from benchloop.leaderboard import MAX_BODY_BYTES, Duplicate, Rejected, SubmissionStore, make_entry, read_payload, verify


def board_payload(dash: Dashboard) -> dict:
    """``groups`` (best run per model × harness × hardware × profile, per manifest hash)
    plus ``boards`` (one table per local/remote formula, what the page draws). Both are
    recomputed only when a complete run changes (a run in progress writing its records
    is not on a board, so it does not make 100,000 rows regroup)."""
    groups = dash.leaderboard_data()  # refreshes the index
    gen = dash.index.board_generation
    cached = getattr(dash.state, "boards_cache", None)
    if not cached or cached[0] != gen:
        cached = (gen, views.boards(dash.index.complete_rows()))
        dash.state.boards_cache = cached
    return {**groups, **cached[1]}


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()

    @r.get("/api/leaderboard", tags=["leaderboard"], summary="One board per formula (local, remote): best run per model × harness × hardware × provider × task set")
    def leaderboard():
        return JSONResponse(board_payload(dash))

    return r


def submissions_router(store_dir: str | os.PathLike, token: str | None) -> APIRouter:
    """POST /api/submissions (bearer ``token``) and GET /api/submissions[/{id}].

    Without a token the server accepts no submissions at all: publishing is opt-in on
    both ends. The app exempts these routes from the page-token check (a CLI publishes,
    not the page), so they must do their own authentication."""
    store = SubmissionStore(store_dir)
    r = APIRouter()
    too_big = f"submission larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"

    def refuse(status: int, reason: str):
        return JSONResponse({"accepted": False, "reason": reason}, status_code=status)

    @r.post("/api/submissions", tags=["leaderboard"], summary="Submit a run (bearer token); the server re-checks it before storing")
    async def submit(request: Request):
        if not token:
            return refuse(403, "this server accepts no submissions (start it with --accept-submissions --token T)")
        auth = request.headers.get("authorization") or ""
        given = auth[7:] if auth.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return refuse(401, "missing or wrong token (pass --token)")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return refuse(413, too_big)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return refuse(413, too_big)
            chunks.append(chunk)
        try:
            run = read_payload(json.loads(b"".join(chunks)))
        except ValueError as exc:  # Rejected is a ValueError too
            return refuse(400, str(exc) if isinstance(exc, Rejected) else "the body is not JSON")
        result = await run_in_threadpool(verify, run)
        if not result["ok"]:
            return refuse(422, result["reason"])
        from benchloop.artifact import utcnow

        entry = make_entry(run, result, utcnow())
        try:
            store.add(entry)
        except Duplicate:
            return refuse(409, f"run {run['run_id']} from this machine was already submitted")
        return JSONResponse({"accepted": True, "id": entry["id"], "reason": result["reason"], **{k: entry[k] for k in ("rechecked", "unverified", "scores")}}, status_code=201)

    @r.get("/api/submissions", tags=["leaderboard"], summary="Accepted submissions, best first")
    def listing():
        return {"submissions": store.listing()}

    @r.get("/api/submissions/{sid}", tags=["leaderboard"], summary="One accepted submission with its run")
    def one(sid: str):
        entry = store.get(sid)
        return entry if entry is not None else refuse(404, "no such submission")

    return r
