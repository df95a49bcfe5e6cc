"""The run store over HTTP: list, filter and page runs, one run, one task, delete a
run, compare runs. Reads go through the SQLite index (list pages) or the parsed
artifact cache (detail pages); a broken artifact is shown as broken, never a 500.
"""
from __future__ import annotations

import shutil
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from benchloop import __version__
from benchloop.dashboard import views
from benchloop.dashboard.context import RUN_ID_MAX, RUN_ID_PATTERN, Dashboard, NamePart, RunId, answers, bad
from benchloop.dashboard.index import FILTERS, MAX_OFFSET, SORTABLE

Text = Annotated[str, Field(max_length=300)]
Filter = Annotated[list[Text], Query(max_length=50)]
SortKey = Literal[SORTABLE]  # type: ignore[valid-type]  # the index's whitelist, as an enum in the schema
Status = Literal["complete", "incomplete", "broken", "running"]


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()
    st, index, jobs = dash.state, dash.index, dash.jobs

    @r.get("/api/health", tags=["meta"])
    def health():
        return {"ok": True, "version": __version__, "runs_dir": str(dash.runs_dir), "control": st.allow_control, "submissions": st.submissions}

    @r.get(
        "/api/runs", tags=["runs"], summary="List runs (filter, sort, paginate)", responses=answers(404),
        description="One page of runs. Pages by keyset: pass the previous page's `next_cursor` as `cursor` and the next page costs the same at any depth. `offset` still works (from the start, or from the cursor when both are given).",
    )
    def list_runs(
        model: Filter = [],
        harness: Filter = [],
        provider: Filter = [],
        hardware: Filter = [],
        profile: Filter = [],
        status: Annotated[list[Status], Query(max_length=4)] = [],
        manifest_hash: Filter = [],
        sort: SortKey = "started_at",
        order: Literal["asc", "desc"] = "desc",
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=MAX_OFFSET, description="rows to skip (after the cursor when one is given); past the end is an empty page"),
        cursor: Annotated[str | None, Query(pattern=RUN_ID_PATTERN, min_length=1, max_length=RUN_ID_MAX, description="`next_cursor` of the previous page (the run id of its last row): the page continues after that run; 404 when that run is gone")] = None,
    ):
        filters = {"model": model, "harness": harness, "provider": provider, "hardware": hardware, "profile": profile, "status": status, "manifest_hash": manifest_hash}
        running = jobs.active_ids()
        if status and "running" in status:
            filters["status"] = [s for s in status if s != "running"] + ["incomplete"]
        try:
            res = index.query(filters={k: v for k, v in filters.items() if k in FILTERS and v}, sort=sort, order=order, limit=limit, offset=offset, cursor=cursor)
        except LookupError:
            bad(f"no run {cursor} to continue after (deleted?): start again without a cursor", 404)
        for item in res["items"]:
            if item["run_id"] in running and item["status"] != "complete":
                item["status"] = "running"
        return JSONResponse(res)

    @r.get("/api/runs/facets", tags=["runs"], summary="Distinct values for the list filters")
    def facets():
        return index.facets()

    @r.get("/api/runs/{run_id}", tags=["runs"], summary="One run without per-task receipts", responses=answers(404))
    def run_detail(run_id: RunId):
        return JSONResponse(views.trim_run(dash.load(run_id)))

    @r.get("/api/runs/{run_id}/artifact", tags=["runs"], summary="The full run.json", responses=answers(404))
    def run_artifact(run_id: RunId):
        return JSONResponse(dash.load(run_id))

    @r.get("/api/runs/{run_id}/tasks/{suite}/{task_id}", tags=["runs"], summary="One task: full output, checks and agent trace", responses=answers(404))
    def task_detail(run_id: RunId, suite: NamePart, task_id: NamePart):
        run = dash.load(run_id)
        t = views.find_task(run, suite, task_id)
        if t is None:
            bad(f"no task {suite}/{task_id} in run {run_id}", 404)
        return JSONResponse({"run_id": run_id, "model": views.model_name(run), "harness": run.get("harness"), "task": t})

    @r.delete("/api/runs/{run_id}", tags=["runs"], summary="Delete a run directory", responses=answers(400, 403, 404, 409))
    def delete_run(run_id: RunId):
        dash.need_control()
        d = dash.run_dir_of(run_id)
        if run_id in jobs.active_ids():
            bad("this run is still running; cancel it first", 409)
        if d.resolve().parent != dash.runs_dir:
            bad("refusing to delete outside the runs directory", 400)
        shutil.rmtree(d)
        dash.cache.drop(d)
        index.drop(run_id)
        try:
            (dash.runs_dir / ".jobs" / f"{run_id}.log").unlink()
        except OSError:
            pass
        return {"deleted": run_id}

    @r.get("/api/compare", tags=["compare"], summary="Compare two or more runs per suite and per task", responses=answers(404, 409))
    def compare(runs: Annotated[list[Annotated[str, Field(pattern=RUN_ID_PATTERN, max_length=RUN_ID_MAX)]], Query(min_length=2, max_length=8, description="2 to 8 run ids (?runs=A&runs=B); the first is the baseline")]):
        loaded = [dash.load(i) for i in runs]
        broken = [x["run_id"] for x in loaded if x.get("status") == "broken"]
        if broken:
            bad(f"run {broken[0]} is broken and cannot be compared", 409)
        return JSONResponse(views.compare_payload(loaded))

    return r
