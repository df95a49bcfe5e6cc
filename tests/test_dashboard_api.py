"""The dashboard's API over real HTTP (uvicorn on a loopback port, ``requests``).

Covers the run index (refresh when runs appear, vanish or change; rebuild when the index
file is deleted or corrupt; broken artifacts listed as broken), listing with filters, sort
and pagination, compare, leaderboard comparability, and the safety rules: ``..`` run ids,
Host/Origin/token checks on state-changing requests, hostile model output returned as
data, and API keys that never come back or land on disk. Benchmarks are started as real
``benchloop run`` subprocesses against the scripted endpoint.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from benchloop.dashboard.app import create_app
from benchloop.dashboard.demo import ServedApp, synthetic_run, task_record, write_run
from benchloop.dashboard.index import INDEX_NAME, RunIndex
from benchloop.dashboard import views
from benchloop.dashboard.views import compare_tables, leaderboard

XSS_SCRIPT = "<script>window.__xss = 1; alert('xss')</script>"
XSS_IMG = "<img src=x onerror=\"window.__xss = 2; alert('img')\">"
SECRET = "sk-dashboard-test-SECRET-0123456789"


@pytest.fixture
def runs_dir(tmp_path, bl_home):
    d = tmp_path / "runs"
    d.mkdir()
    return d


@pytest.fixture
def serve(runs_dir):
    servers = []

    def start(**kw):
        kw.setdefault("probe_defaults", False)
        kw.setdefault("refresh_interval", 0.0)
        s = ServedApp(create_app(runs_dir, **kw)).start()
        servers.append(s)
        s.token = s.app.state.csrf_token
        return s

    yield start
    for s in servers:
        s.stop()


def post(srv, path, body=None, *, token=True, headers=None, method="POST", **kw):
    h = {"X-BenchLoop-Token": srv.token} if token else {}
    h.update(headers or {})
    return requests.request(method, srv.url + path, json=body, headers=h, timeout=30, **kw)


def get(srv, path, **kw):
    return requests.get(srv.url + path, timeout=30, **kw)


def seed(runs_dir, n=12):
    """n runs over 3 models × 2 harnesses, alternating profile and hardware."""
    models = ["qwen3:8b", "llama3.1:8b", "gemma3:4b"]
    ids = []
    for i in range(n):
        rid = f"20260101-0000{i:02d}-seed-{i:02d}"
        write_run(runs_dir, synthetic_run(rid, model=models[i % 3], harness=["raw", "hermes"][i % 2], hardware=["RTX 4090", "M3 Max"][(i // 2) % 2], profile=["quick", "core"][(i // 3) % 2], seed=i, pass_rate=0.2 + 0.06 * i))
        ids.append(rid)
    return ids


# ------------------------------------------------------------------- run index
def test_index_refreshes_when_runs_appear_change_vanish_and_rebuilds_when_deleted(runs_dir):
    seed(runs_dir, 3)
    idx = RunIndex(runs_dir, min_interval=0.0)
    assert idx.query()["total"] == 3
    assert (runs_dir / INDEX_NAME).exists()

    write_run(runs_dir, synthetic_run("20260102-000000-new-run", model="new-model", seed=99))
    res = idx.query(filters={"model": "new-model"})
    assert res["total"] == 1 and res["items"][0]["run_id"] == "20260102-000000-new-run"

    # a run rewritten in place (e.g. re-scored) is re-read
    changed = synthetic_run("20260102-000000-new-run", model="renamed-model", seed=99)
    time.sleep(0.01)
    write_run(runs_dir, changed)
    assert idx.get("20260102-000000-new-run")["model"] == "renamed-model"

    import shutil

    shutil.rmtree(runs_dir / "20260101-000000-seed-00")
    assert idx.query()["total"] == 3
    assert idx.get("20260101-000000-seed-00") is None

    before = {r["run_id"]: r["overall"] for r in idx.rows()}
    (runs_dir / INDEX_NAME).unlink()
    after = {r["run_id"]: r["overall"] for r in idx.rows()}
    assert after == before and (runs_dir / INDEX_NAME).exists()


def test_index_fast_path_sees_new_gone_and_growing_runs_without_a_full_sweep(runs_dir):
    seed(runs_dir, 2)
    idx = RunIndex(runs_dir, min_interval=0.0, full_interval=3600.0)
    assert idx.refresh()["full"] is True and idx.query()["total"] == 2
    # a run being written (no run.json yet) is "hot": re-read as its task log grows
    board, complete = idx.board_generation, idx.rows(status="complete")
    live = synthetic_run("20260109-000000-live", seed=7, suites={"reasonmath": 3})
    d = runs_dir / live["run_id"]
    d.mkdir()
    (d / "meta.json").write_text(json.dumps({k: v for k, v in live.items() if k not in ("tasks", "scores", "status")}))
    (d / "tasks.jsonl").write_text(json.dumps(live["tasks"][0]) + "\n")
    r = idx.refresh()
    assert r["full"] is False and r["changed"] == 1
    assert idx.get(live["run_id"])["n_tasks"] == 1 and idx.get(live["run_id"])["status"] == "incomplete"
    with open(d / "tasks.jsonl", "a") as f:
        f.write(json.dumps(live["tasks"][1]) + "\n")
    assert idx.get(live["run_id"])["n_tasks"] == 2
    # a run in progress is not on the leaderboard: its writes leave the board's rows alone
    assert idx.board_generation == board and idx.rows(status="complete") == complete
    write_run(runs_dir, live)
    assert idx.get(live["run_id"])["status"] == "complete"
    assert idx.board_generation > board and live["run_id"] in {r["run_id"] for r in idx.rows(status="complete")}
    import shutil

    board = idx.board_generation
    shutil.rmtree(runs_dir / "20260101-000001-seed-01")
    assert idx.get("20260101-000001-seed-01") is None and idx.query()["total"] == 2
    assert idx.board_generation > board and "20260101-000001-seed-01" not in {r["run_id"] for r in idx.rows(status="complete")}
    # a finished run edited in place waits for the next full sweep (the app runs one in the background)
    write_run(runs_dir, synthetic_run("20260101-000000-seed-00", model="edited", seed=0))
    assert idx.get("20260101-000000-seed-00")["model"] != "edited"
    assert idx.refresh(force=True)["changed"] == 1 and idx.get("20260101-000000-seed-00")["model"] == "edited"
    # the in-memory complete rows, updated run by run, equal a fresh read of the table
    fresh = RunIndex(runs_dir, min_interval=0.0)
    by_id = lambda rows: sorted(rows, key=lambda r: r["run_id"])  # noqa: E731
    assert by_id(idx.rows(status="complete")) == by_id(fresh.rows(status="complete")) and len(idx.rows(status="complete")) == 2
    fresh.close()


def test_index_survives_a_corrupt_index_file_and_hidden_or_odd_entries(runs_dir):
    seed(runs_dir, 2)
    (runs_dir / INDEX_NAME).write_bytes(b"this is not a sqlite database at all" * 100)
    (runs_dir / ".jobs").mkdir()
    (runs_dir / "not a run id").mkdir()
    (runs_dir / "stray-file.txt").write_text("x")
    idx = RunIndex(runs_dir, min_interval=0.0)
    assert sorted(r["run_id"] for r in idx.rows()) == ["20260101-000000-seed-00", "20260101-000001-seed-01"]


def test_broken_artifacts_are_listed_as_broken_and_never_crash_a_page(runs_dir, serve):
    seed(runs_dir, 2)
    torn = runs_dir / "20260103-000000-torn"
    torn.mkdir()
    (torn / "run.json").write_text('{"run_id": "20260103-000000-torn", "tasks": [{"suite": "reason')
    notobj = runs_dir / "20260103-000001-list"
    notobj.mkdir()
    (notobj / "run.json").write_text("[1, 2, 3]")
    empty = runs_dir / "20260103-000002-empty"
    empty.mkdir()
    weird = synthetic_run("20260103-000003-weird", seed=5)
    weird.update(model=12345, scores="not a dict", machine=["x"], tasks=[None, "x", {"suite": 1}])
    write_run(runs_dir, weird, tasks_jsonl=False)

    srv = serve()
    rows = {r["run_id"]: r for r in get(srv, "/api/runs?limit=500").json()["items"]}
    assert rows["20260103-000000-torn"]["status"] == "broken"
    assert "not valid JSON" in rows["20260103-000000-torn"]["error"]
    assert rows["20260103-000001-list"]["status"] == "broken"
    assert rows["20260103-000002-empty"]["status"] == "broken"
    assert rows["20260103-000003-weird"]["status"] == "complete" and rows["20260103-000003-weird"]["overall"] is None
    assert rows["20260101-000000-seed-00"]["status"] == "complete"

    for path in ("/", "/api/leaderboard", "/api/runs/facets", "/api/runs/20260103-000000-torn", "/api/runs/20260103-000003-weird"):
        r = get(srv, path)
        assert r.status_code == 200, (path, r.text[:200])
    assert get(srv, "/api/runs/20260103-000000-torn").json()["status"] == "broken"
    r = get(srv, "/api/compare?runs=20260101-000000-seed-00&runs=20260103-000000-torn")
    assert r.status_code == 409 and "broken" in r.json()["detail"]


def test_a_killed_run_without_run_json_is_listed_incomplete_from_its_task_log(runs_dir, serve):
    run = synthetic_run("20260104-000000-killed", seed=3, suites={"reasonmath": 4})
    d = runs_dir / run["run_id"]
    d.mkdir()
    meta = {k: v for k, v in run.items() if k not in ("tasks", "scores", "status")}
    (d / "meta.json").write_text(json.dumps(meta))
    lines = [json.dumps(t) for t in run["tasks"][:3]]
    (d / "tasks.jsonl").write_text("\n".join(lines) + '\n{"suite": "reasonm')  # torn last line
    srv = serve()
    row = get(srv, "/api/runs").json()["items"][0]
    assert row["status"] == "incomplete" and row["n_tasks"] == 3
    assert len(get(srv, f"/api/runs/{run['run_id']}").json()["tasks"]) == 3


# ----------------------------------------------------------- filter, sort, page
def test_runs_filter_sort_and_paginate(runs_dir, serve):
    ids = seed(runs_dir, 12)
    srv = serve()
    all_rows = get(srv, "/api/runs?limit=500").json()
    assert all_rows["total"] == 12 and {r["run_id"] for r in all_rows["items"]} == set(ids)

    only = get(srv, "/api/runs", params={"model": "gemma3:4b", "harness": "raw"}).json()
    expect = [r for r in all_rows["items"] if r["model"] == "gemma3:4b" and r["harness"] == "raw"]
    assert only["total"] == len(expect) > 0
    assert all(r["model"] == "gemma3:4b" and r["harness"] == "raw" for r in only["items"])
    for key, value in (("hardware", "M3 Max"), ("profile", "core"), ("provider", "ollama")):
        got = get(srv, "/api/runs", params={key: value, "limit": 500}).json()
        assert got["total"] == sum(1 for r in all_rows["items"] if r[key] == value)
    two = get(srv, "/api/runs", params=[("model", "gemma3:4b"), ("model", "qwen3:8b")]).json()
    assert two["total"] == 8

    asc = [r["overall"] for r in get(srv, "/api/runs?sort=overall&order=asc&limit=500").json()["items"]]
    desc = [r["overall"] for r in get(srv, "/api/runs?sort=overall&order=desc&limit=500").json()["items"]]
    assert asc == sorted(asc) and desc == sorted(desc, reverse=True) and asc[0] < asc[-1]

    pages, offset = [], 0
    while True:
        page = get(srv, f"/api/runs?limit=5&offset={offset}&sort=run_id&order=asc").json()
        if not page["items"]:
            break
        pages.append([r["run_id"] for r in page["items"]])
        offset += 5
    assert [len(p) for p in pages] == [5, 5, 2]
    assert sum(pages, []) == sorted(ids)

    assert get(srv, "/api/runs?sort=output;DROP TABLE runs").status_code == 422
    assert get(srv, "/api/runs?offset=12345678901234567890123").status_code == 422  # not a 500 from SQLite
    assert get(srv, "/api/runs?offset=1000000000").json()["items"] == []
    assert get(srv, "/api/runs?order=sideways").status_code == 422
    assert get(srv, "/api/runs?limit=0").status_code == 422
    facets = get(srv, "/api/runs/facets").json()
    assert facets["model"] == ["gemma3:4b", "llama3.1:8b", "qwen3:8b"]


def _store_with_ties_and_nulls(runs_dir, n=23):
    """n runs where scores tie (3 values) and a third have no overall / no decode speed."""
    for i in range(n):
        run = synthetic_run(f"20260201-{i:06d}-tie-{i:02d}", model=["qwen3:8b", "gemma3:4b"][i % 2], seed=i, decode_tok_s=None if i % 3 == 0 else 10.0 + i % 4)
        run["scores"]["overall"] = None if i % 3 == 1 else [40.0, 55.5, 70.0][i % 3]
        write_run(runs_dir, run, tasks_jsonl=False)


def _expected(rows, col, desc, model=None):
    """The list order by hand: values ordered (ties by run_id the same way), NULLs last."""
    rows = [r for r in rows if model is None or r["model"] == model]
    valued = sorted((r for r in rows if r[col] is not None), key=lambda r: (r[col], r["run_id"]), reverse=desc)
    nulls = sorted((r for r in rows if r[col] is None), key=lambda r: r["run_id"], reverse=desc)
    return [r["run_id"] for r in valued + nulls]


@pytest.mark.parametrize("col", ["overall", "decode_tok_s", "model", "run_id", "started_at"])
def test_offset_and_cursor_pages_match_a_plain_sort_with_ties_and_nulls(runs_dir, col):
    _store_with_ties_and_nulls(runs_dir)
    idx = RunIndex(runs_dir, min_interval=0.0)
    everything = idx.rows()
    for desc in (True, False):
        for model in (None, "gemma3:4b"):
            want = _expected(everything, col, desc, model)
            filters = {"model": [model]} if model else {}
            order = "desc" if desc else "asc"
            # every offset, read from whichever end of its segment is nearer
            for offset in range(len(want) + 1):
                page = idx.query(filters=filters, sort=col, order=order, limit=3, offset=offset)
                assert [r["run_id"] for r in page["items"]] == want[offset : offset + 3], (col, order, model, offset)
                assert page["total"] == len(want)
                assert page["next_cursor"] == (want[offset + 2] if offset + 3 < len(want) else None)
            # the cursor walk visits the same list, once each
            walked, cursor = [], None
            while True:
                page = idx.query(filters=filters, sort=col, order=order, limit=4, cursor=cursor)
                walked += [r["run_id"] for r in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert walked == want, (col, order, model)
            # an offset counts on from the cursor, across the NULL boundary too
            for at in range(0, len(want), 5):
                for skip in (0, 2, 7):
                    page = idx.query(filters=filters, sort=col, order=order, limit=4, cursor=want[at], offset=skip)
                    assert [r["run_id"] for r in page["items"]] == want[at + 1 + skip : at + 5 + skip], (col, order, model, at, skip)
    with pytest.raises(LookupError):
        idx.query(cursor="20990101-000000-gone")
    idx.close()


def test_api_pages_by_cursor_and_refuses_a_cursor_whose_run_is_gone(runs_dir, serve):
    _store_with_ties_and_nulls(runs_dir, 11)
    srv = serve()
    by_offset = [r["run_id"] for r in get(srv, "/api/runs?sort=overall&order=asc&limit=500").json()["items"]]
    walked, cursor = [], None
    while True:
        params = {"sort": "overall", "order": "asc", "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = get(srv, "/api/runs", params=params).json()
        walked += [r["run_id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert walked == by_offset and len(walked) == 11
    r = get(srv, "/api/runs?cursor=20990101-000000-gone")
    assert r.status_code == 404 and "cursor" in r.json()["detail"]
    assert get(srv, "/api/runs?cursor=..%2Fx").status_code == 422


def test_refresh_with_nothing_changed_lists_and_stats_no_run(runs_dir, monkeypatch):
    import benchloop.dashboard.index as index_mod

    monkeypatch.setattr(index_mod, "SETTLE_NS", 0)  # every mtime counts as settled at once
    seed(runs_dir, 6)
    idx = RunIndex(runs_dir, min_interval=0.0, full_interval=3600.0)
    assert idx.query()["total"] == 6
    idx.refresh()  # the index file's own creation moved the runs dir's mtime once
    calls = {"list": 0, "sig": set()}  # listings of the runs dir; run dirs whose files were stat'ed
    real_list, real_sig = idx._list_names, index_mod.signature
    monkeypatch.setattr(idx, "_list_names", lambda: (calls.__setitem__("list", calls["list"] + 1), real_list())[1])
    monkeypatch.setattr(index_mod, "signature", lambda d: (calls["sig"].add(Path(d).name), real_sig(d))[1])
    for _ in range(5):
        assert idx.refresh()["changed"] == 0
    assert calls == {"list": 0, "sig": set()}
    # a new run: the dir is listed once and only the new run is read
    write_run(runs_dir, synthetic_run("20260301-000000-new", model="new-model", seed=50))
    assert idx.refresh()["changed"] == 1 and calls == {"list": 1, "sig": {"20260301-000000-new"}}
    assert idx.refresh()["changed"] == 0 and calls["list"] == 1  # our own index writes do not move the dir
    # a finished run re-scored (run.json replaced): the full sweep re-checks only that directory
    time.sleep(0.05)
    write_run(runs_dir, synthetic_run("20260101-000002-seed-02", model="rescored", seed=2), tasks_jsonl=False)
    calls.update(list=0, sig=set())
    assert idx.refresh(force=True)["changed"] == 1 and calls == {"list": 1, "sig": {"20260101-000002-seed-02"}}
    assert idx.get("20260101-000002-seed-02")["model"] == "rescored"
    # deleting a run: the cheap refresh sees it from the runs dir's mtime
    import shutil

    shutil.rmtree(runs_dir / "20260101-000003-seed-03")
    assert idx.refresh()["removed"] == 1 and idx.query()["total"] == 6
    idx.close()


# -------------------------------------------------------------- compare + board
def test_compare_per_suite_and_per_task_with_significance(runs_dir, serve):
    weak = synthetic_run("20260105-000000-weak", model="weak", seed=1, pass_rate=0.1, suites={"reasonmath": 30, "toolcall": 20})
    strong = synthetic_run("20260105-000001-strong", model="strong", seed=2, pass_rate=0.95, suites={"reasonmath": 30, "toolcall": 20})
    twin = synthetic_run("20260105-000002-twin", model="weak", seed=1, pass_rate=0.1, suites={"reasonmath": 30, "toolcall": 20})
    for r in (weak, strong, twin):
        write_run(runs_dir, r)
    srv = serve()
    cmp = get(srv, "/api/compare", params=[("runs", weak["run_id"]), ("runs", strong["run_id"]), ("runs", twin["run_id"])]).json()
    assert [r["run_id"] for r in cmp["runs"]] == [weak["run_id"], strong["run_id"], twin["run_id"]]
    assert cmp["comparable"] is True
    rm = next(s for s in cmp["suites"] if s["suite"] == "reasonmath")
    assert rm["cells"][0]["score"] == weak["scores"]["suites"]["reasonmath"]["score"]
    vs_strong, vs_twin = rm["vs_baseline"]
    assert vs_strong["delta"] > 50 and vs_strong["significant"] is True
    assert vs_twin["delta"] == 0 and vs_twin["significant"] is False
    assert len(cmp["tasks"]) == 50
    differing = [t for t in cmp["tasks"] if t["differs"]]
    assert differing and all(t["cells"][0]["score"] == t["cells"][2]["score"] for t in cmp["tasks"])
    assert cmp["task_changes"]["better"][0] > 20 and cmp["task_changes"]["worse"][1] == 0

    assert get(srv, "/api/compare", params={"runs": weak["run_id"]}).status_code == 422
    assert get(srv, "/api/compare", params=[("runs", weak["run_id"]), ("runs", "../../etc")]).status_code == 422
    assert get(srv, "/api/compare", params=[("runs", weak["run_id"]), ("runs", "20990101-nope")]).status_code == 404


def test_compare_fallback_calls_significance_from_interval_overlap():
    a = synthetic_run("a", seed=1, pass_rate=0.1, suites={"reasonmath": 30})
    b = synthetic_run("b", seed=2, pass_rate=0.95, suites={"reasonmath": 30})
    c = synthetic_run("c", seed=3, pass_rate=0.15, suites={"reasonmath": 30}, manifest_hash="b" * 64)
    out = compare_tables([a, b, c])
    d_b, d_c = out["suites"][0]["vs_baseline"]
    assert d_b["significant"] is True and d_b["method"] == "ci95-overlap"
    assert d_c["significant"] is False
    assert out["comparable"] is False  # c has another manifest


def test_leaderboard_keeps_the_best_run_per_cell_and_only_comparable_runs_together(runs_dir, serve):
    m1, m2 = "1" * 64, "2" * 64
    runs = [
        synthetic_run("20260106-000000-x-low", model="x", seed=1, pass_rate=0.2, manifest_hash=m1),
        synthetic_run("20260106-000001-x-high", model="x", seed=2, pass_rate=0.9, manifest_hash=m1),
        synthetic_run("20260106-000002-y", model="y", seed=3, pass_rate=0.5, manifest_hash=m1),
        synthetic_run("20260106-000003-y-hermes", model="y", harness="hermes", seed=4, pass_rate=0.5, manifest_hash=m1),
        synthetic_run("20260106-000004-x-other-tasks", model="x", seed=5, pass_rate=1.0, manifest_hash=m2),
        synthetic_run("20260106-000005-z-incomplete", model="z", seed=6, pass_rate=1.0, manifest_hash=m1, status="incomplete"),
    ]
    for r in runs:
        write_run(runs_dir, r)
    srv = serve()
    lb = get(srv, "/api/leaderboard").json()
    groups = {g["manifest_hash"]: g for g in lb["groups"]}
    assert set(groups) == {m1, m2}
    g1 = groups[m1]
    cells = {(r["model"], r["harness"]): r for r in g1["rows"]}
    assert set(cells) == {("x", "raw"), ("y", "raw"), ("y", "hermes")}  # z is incomplete: not ranked
    assert cells[("x", "raw")]["run_id"] == "20260106-000001-x-high" and cells[("x", "raw")]["n_runs"] == 2
    assert [r["rank"] for r in g1["rows"]] == [1, 2, 3]
    overall = [r["overall"] for r in g1["rows"]]
    assert overall == sorted(overall, reverse=True)
    assert [r["run_id"] for r in groups[m2]["rows"]] == ["20260106-000004-x-other-tasks"]
    assert lb["groups"][0]["manifest_hash"] == m1  # the bigger comparable set first
    # the page carries the same leaderboard, so it paints before any other request
    html = get(srv, "/").text
    assert "20260106-000001-x-high" in html and "20260106-000000-x-low" not in html


def test_leaderboard_function_ignores_runs_without_a_manifest():
    rows = [{"run_id": "a", "status": "complete", "manifest_hash": None, "overall": 50}]
    assert leaderboard(rows) == {"groups": [], "unranked": 1}


# ------------------------------------------------------------------------ safety
@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/..%2F..%2Fetc%2Fpasswd",
        "/api/runs/%2E%2E",
        "/api/runs/..%2F",
        "/api/runs/x/tasks/..%2F..%2Fsecret/rm-001",
        "/api/runs/..%5C..%5Cwindows",
        "/api/jobs/..%2Fx/events",
        "/static/..%2F..%2Fapp.py",
    ],
)
def test_dot_dot_run_ids_are_rejected(runs_dir, serve, path):
    srv = serve()
    r = get(srv, path)
    assert r.status_code == 400, (path, r.status_code, r.text[:200])


def test_delete_cannot_escape_the_runs_dir(runs_dir, serve, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "run.json").write_text("{}")
    seed(runs_dir, 1)
    srv = serve()
    assert post(srv, "/api/runs/..%2Fvictim", method="DELETE").status_code == 400
    assert (victim / "run.json").exists()
    (runs_dir / "20260107-link").symlink_to(victim)
    assert post(srv, "/api/runs/20260107-link", method="DELETE").status_code == 404
    assert (victim / "run.json").exists()
    assert post(srv, "/api/runs/20260101-000000-seed-00", method="DELETE").json() == {"deleted": "20260101-000000-seed-00"}
    assert not (runs_dir / "20260101-000000-seed-00").exists()
    assert get(srv, "/api/runs").json()["total"] == 0
    assert post(srv, "/api/runs/20260101-000000-seed-00", method="DELETE").status_code == 404


def test_state_changing_requests_need_the_page_token_and_our_origin(runs_dir, serve):
    srv = serve()
    page = get(srv, "/").text
    assert f'<meta name="benchloop-token" content="{srv.token}">' in page
    body = {"url": "http://127.0.0.1:9", "provider": "openai_compat"}
    assert post(srv, "/api/endpoints", body, token=False).status_code == 403
    assert post(srv, "/api/endpoints", body, headers={"X-BenchLoop-Token": "wrong"}).status_code == 403
    r = post(srv, "/api/endpoints", body, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
    assert post(srv, "/api/endpoints", body, headers={"Origin": "null"}).status_code == 403
    assert post(srv, "/api/endpoints", body, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert post(srv, "/api/jobs", {"model": "m"}, headers={"Origin": "http://evil.example"}).status_code == 403
    assert post(srv, "/api/runs/x", method="DELETE", token=False).status_code == 403
    # DNS rebinding: a foreign Host name is refused even for reads
    assert get(srv, "/api/runs", headers={"Host": "evil.example"}).status_code == 421
    # the same request from our own origin with the token goes through
    ok = post(srv, "/api/endpoints", body, headers={"Origin": srv.url})
    assert ok.status_code == 200 and ok.json()["endpoints"][0]["url"] == "http://127.0.0.1:9"
    # no CORS: nothing invites another origin to read answers
    r = get(srv, "/api/runs", headers={"Origin": "http://evil.example"})
    assert not any(k.lower().startswith("access-control-") for k in r.headers)
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-content-type-options"] == "nosniff"


def test_bound_beyond_loopback_the_dashboard_is_read_only(runs_dir):
    app = create_app(runs_dir, bind_host="0.0.0.0", probe_defaults=False)
    srv = ServedApp(app).start()
    try:
        tok = app.state.csrf_token
        r = requests.post(srv.url + "/api/jobs", json={"model": "m"}, headers={"X-BenchLoop-Token": tok}, timeout=10)
        assert r.status_code == 403 and "disabled" in r.json()["detail"]
        assert requests.get(srv.url + "/api/runs", headers={"Host": "dashboard.example"}, timeout=10).status_code == 200
    finally:
        srv.stop()


def test_hostile_model_output_is_returned_as_data(runs_dir, serve):
    rec = task_record("reasonmath", 1, passed=False, output=f"{XSS_SCRIPT}\n{XSS_IMG}")
    rec["reasoning"] = XSS_IMG
    rec["turns"] = [{"role": "assistant", "content": XSS_SCRIPT, "tool_calls": [{"name": XSS_IMG, "arguments": {"q": XSS_SCRIPT}}]}]
    run = synthetic_run("20260108-000000-xss", model=f"</script>{XSS_IMG}", tasks=[rec])
    write_run(runs_dir, run)
    srv = serve()
    r = get(srv, "/api/runs/20260108-000000-xss/tasks/reasonmath/rm-001")
    assert r.headers["content-type"].startswith("application/json")
    t = r.json()["task"]
    assert t["output"] == f"{XSS_SCRIPT}\n{XSS_IMG}" and t["turns"][0]["content"] == XSS_SCRIPT
    assert get(srv, "/api/runs/20260108-000000-xss").json()["tasks"][0]["output_preview"].startswith("<script>")
    html = get(srv, "/").text
    boot = html.split('<script type="application/json" id="boot">', 1)[1].split("</script>", 1)[0]
    assert "<" not in boot and ">" not in boot  # the embedded data cannot close its script block
    assert json.loads(boot)["leaderboard"]["groups"][0]["rows"][0]["model"] == f"</script>{XSS_IMG}"
    assert "onerror" not in html.split("</script>", 2)[-1]


# ------------------------------------------------------------------ jobs + chat
def _wait(pred, timeout=90.0, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out waiting")


def _sse(resp):
    ev, out = "message", []
    for line in resp.iter_lines(decode_unicode=True):
        if line.startswith("event:"):
            ev = line[6:].strip()
        elif line.startswith("data:"):
            out.append((ev, json.loads(line[5:])))
            if ev == "end":
                break
    return out


def test_benchmark_job_streams_progress_and_the_api_key_never_comes_back_or_lands_on_disk(runs_dir, serve, scripted, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ep = scripted(lambda req: "The total is 43.20.\nANSWER: $43.20", models=("scripted-model",))
    srv = serve()
    body = {"model": "scripted-model", "provider": "openai_compat", "endpoint": ep.url, "suites": ["reasonmath"], "tasks": ["rm-001", "rm-002"], "api_key": SECRET, "max_tokens": 32}
    job = post(srv, "/api/jobs", body)
    assert job.status_code == 200, job.text
    job = job.json()
    assert SECRET not in json.dumps(job) and job["total"] == 2
    with requests.get(f"{srv.url}/api/jobs/{job['run_id']}/events", stream=True, timeout=120) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = _sse(r)
    names = [e for e, _ in events]
    assert names[0] == "start" and names.count("task") == 2 and names[-1] == "end"
    end = events[-1][1]
    assert end["state"] == "complete", end
    tasks = {d["task_id"]: d for e, d in events if e == "task"}
    assert tasks["rm-001"]["passed"] is True and tasks["rm-002"]["passed"] is False
    # the key reached the endpoint, through the subprocess's environment only
    chats = [q for q in ep.received if q.get("path", "").endswith("/chat/completions")]
    assert chats and all(q["headers"].get("authorization") == f"Bearer {SECRET}" for q in chats)
    assert SECRET not in json.dumps(get(srv, f"/api/jobs/{job['run_id']}").json())
    assert SECRET not in json.dumps(get(srv, f"/api/runs/{job['run_id']}/artifact").json())
    for p in Path(runs_dir).rglob("*"):
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), f"the key landed in {p}"
    row = get(srv, "/api/runs").json()["items"][0]
    assert row["run_id"] == job["run_id"] and row["status"] == "complete" and row["n_tasks"] == 2


def test_cancelling_a_benchmark_leaves_an_incomplete_artifact(runs_dir, serve, scripted):
    from benchloop.testing.scripted import Reply

    ep = scripted(lambda req: Reply(content="thinking " * 40 + "\nANSWER: 1", token_delay_s=0.05), models=("slow-model",))
    srv = serve()
    job = post(srv, "/api/jobs", {"model": "slow-model", "provider": "openai_compat", "endpoint": ep.url, "suites": ["reasonmath"], "profile": "quick", "max_tokens": 64}).json()
    rid = job["run_id"]
    _wait(lambda: (runs_dir / rid / "tasks.jsonl").exists() and (runs_dir / rid / "tasks.jsonl").stat().st_size > 0)
    assert get(srv, "/api/runs").json()["items"][0]["status"] == "running"
    assert get(srv, f"/api/runs/{rid}").json()["status"] == "running"
    assert post(srv, f"/api/runs/{rid}", method="DELETE").status_code == 409
    c = post(srv, f"/api/jobs/{rid}/cancel")
    assert c.status_code == 200
    final = _wait(lambda: (lambda j: j if j["state"] != "running" else None)(get(srv, f"/api/jobs/{rid}").json()), timeout=60)
    assert final["state"] == "cancelled"
    assert (runs_dir / rid / "run.json").exists()  # Ctrl-C first: pytest wrote the partial artifact itself
    run = get(srv, f"/api/runs/{rid}").json()
    assert run["status"] == "incomplete"
    assert 1 <= len(run["tasks"]) < job["total"]


def test_a_benchmark_that_cannot_start_says_why(runs_dir, serve, scripted):
    ep = scripted(models=("only-this-model",))
    srv = serve()
    job = post(srv, "/api/jobs", {"model": "missing-model", "provider": "openai_compat", "endpoint": ep.url, "suites": ["reasonmath"], "tasks": ["rm-001"]}).json()
    final = _wait(lambda: (lambda j: j if j["state"] != "running" else None)(get(srv, f"/api/jobs/{job['run_id']}").json()), timeout=60)
    assert final["state"] == "failed"
    assert "missing-model" in final["message"] and "only-this-model" in final["message"]


def test_job_requests_are_validated(runs_dir, serve):
    srv = serve()
    for body, needle in (
        ({"model": ""}, "model"),
        ({"model": "m", "provider": "bogus"}, "provider"),
        ({"model": "m", "provider": "ollama", "endpoint": "file:///etc/passwd"}, "endpoint"),
        ({"model": "m", "provider": "llamacpp", "suites": ["../x"]}, "suites"),
        ({"model": "m", "provider": "llamacpp", "suites": ["nosuchsuite"]}, "unknown suite"),
        ({"model": "m", "provider": "llamacpp", "tasks": ["--rm -rf"]}, "tasks"),
        ({"model": "m", "provider": "llamacpp", "max_tokens": -1}, "max_tokens"),
    ):
        r = post(srv, "/api/jobs", body)
        assert r.status_code == 400 and needle in r.json()["detail"], (body, r.text)
    r = post(srv, "/api/jobs", {"model": "m", "api_key": {"nested": SECRET}, "provider": "nope"})
    assert SECRET not in r.text
    assert get(srv, "/api/jobs/20990101-nope").status_code == 404


def test_chat_streams_through_the_provider_and_keeps_the_key_to_itself(runs_dir, serve, scripted):
    from benchloop.testing.scripted import Reply

    ep = scripted(lambda req: Reply(content="one two three four five <b>six</b>", token_delay_s=0.01), models=("chat-model",))
    srv = serve()
    body = {"provider": "openai_compat", "endpoint": ep.url, "model": "chat-model", "messages": [{"role": "user", "content": "count"}], "max_tokens": 50, "api_key": SECRET}
    with post(srv, "/api/chat", body, stream=True) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(r.iter_content(None)).decode()
    assert SECRET not in raw
    events = []
    for block in raw.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    deltas = [d["content"] for e, d in events if e == "delta"]
    done = [d for e, d in events if e == "done"][0]
    assert len(deltas) >= 3 and "".join(deltas) == done["content"] == "one two three four five <b>six</b>"
    assert done["completion_tokens"] == 6 and done["ttft_ms"] > 0
    assert ep.received[-1]["headers"].get("authorization") == f"Bearer {SECRET}"
    bad = post(srv, "/api/chat", dict(body, endpoint="http://127.0.0.1:9"), stream=True)
    assert [e for e, _ in _sse_blocks(bad.text)] == ["error"]


def _sse_blocks(text):
    out = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_models_found_on_configured_endpoints(runs_dir, serve, scripted, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    ep = scripted(models=("alpha", "beta"))
    srv = serve(extra_endpoints=[ep.url, "http://127.0.0.1:9"])
    t0 = time.monotonic()
    m = get(srv, "/api/models").json()
    assert time.monotonic() - t0 < 5
    by_url = {e["url"]: e for e in m["endpoints"]}
    assert by_url[ep.url]["reachable"] is True and by_url[ep.url]["models"] == ["alpha", "beta"]
    assert by_url["http://127.0.0.1:9"]["reachable"] is False
    assert any(e["model"] == "smollm2-135m" for e in m["embedded"])
    assert ep.received and all("authorization" not in q["headers"] for q in ep.received)  # probes carry no key


# -------------------------------------------------------------- misc contracts
def test_openapi_schema_lists_the_api(runs_dir, serve):
    srv = serve()
    paths = get(srv, "/openapi.json").json()["paths"]
    for p in ("/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/tasks/{suite}/{task_id}", "/api/compare", "/api/leaderboard", "/api/models", "/api/jobs", "/api/jobs/{run_id}/events", "/api/jobs/{run_id}/cancel", "/api/chat"):
        assert p in paths, p
    assert "delete" in paths["/api/runs/{run_id}"]


def test_the_forms_offer_exactly_the_catalogs_providers_profiles_and_harnesses(runs_dir, serve):
    """One table of names: what /api/suites serves and what the page embeds for its forms
    is benchloop.catalog's, and no script types out a list of its own."""
    import re

    from benchloop import catalog
    from benchloop.dashboard.bench_api import PROVIDER_LABELS
    from benchloop.dashboard.pages import STATIC

    srv = serve()
    served = get(srv, "/api/suites").json()
    providers = {p["name"]: p for p in served["providers"]}
    assert [p["name"] for p in served["providers"]] == sorted(catalog.PROVIDERS)  # the form's order: embedded llamacpp, its default, first
    assert served["profiles"] == list(catalog.PROFILES) and served["harnesses"] == list(catalog.HARNESSES)
    assert {n: p["label"] for n, p in providers.items()} == {n: PROVIDER_LABELS[n] for n in catalog.PROVIDERS}
    assert providers["llamacpp"]["endpoint"] is None and providers["ollama"]["endpoint"].endswith(":11434") and providers["openai_compat"]["endpoint"].endswith(":8080")
    assert {s["suite"] for s in served["suites"]} == set(catalog.SUITES)
    boot = json.loads(re.search(r'<script type="application/json" id="boot">(.*?)</script>', get(srv, "/").text, re.S).group(1))
    assert boot["catalog"] == {k: served[k] for k in ("providers", "profiles", "harnesses")}
    # the schema says so too: /api/suites has a declared answer, an added endpoint's provider is one that takes a URL
    doc = get(srv, "/openapi.json").json()
    assert "$ref" in json.dumps(doc["paths"]["/api/suites"]["get"]["responses"]["200"])
    assert set(doc["components"]["schemas"]["EndpointRequest"]["properties"]["provider"]["enum"]) == {n for n, p in providers.items() if p["endpoint"]}
    js = (STATIC / "bench.js").read_text(encoding="utf-8")
    for typed in ['"OpenAI-compatible"', '"embedded (llama', '"quick"', '"core"', '"hermes"', 'value: "ollama"', 'value: "llamacpp"', '"http://127.0.0.1:11434" :']:
        assert typed not in js, typed

def test_static_assets_ship_in_the_package():
    from benchloop.dashboard.pages import STATIC

    for name in ("index.html", "app.js", "app.css", "vendor/chart.umd.min.js", "vendor/chart.js.LICENSE.md"):
        assert (STATIC / name).is_file(), name
    js = (STATIC / "app.js").read_text()
    assert "innerHTML" not in js.replace("innerHTML is never used", "")
    assert "insertAdjacentHTML" not in js and "document.write" not in js


@pytest.mark.parametrize("kind", ["systemd", "launchd", "windows-task"])
def test_service_templates(kind, capsysbinary, tmp_path):
    from benchloop.dashboard.serve import main, service_template

    assert main(["--service-template", kind, "--runs-dir", str(tmp_path / "my runs"), "--port", "9911", "--token", "T0KEN"]) == 0
    raw = capsysbinary.readouterr().out
    out = raw.decode("utf-16") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else raw.decode("utf-8")  # the Windows task is UTF-16, as it declares
    assert "benchloop.dashboard" in out and "9911" in out and "T0KEN" not in out
    if kind == "launchd":
        import plistlib

        plist = plistlib.loads(out.encode())
        assert plist["KeepAlive"] is True and plist["ProgramArguments"][-4:] == ["--port", "9911", "--runs-dir", str(tmp_path / "my runs")]
    elif kind == "windows-task":
        import xml.etree.ElementTree as ET

        root = ET.fromstring(out.split("\n", 1)[1])
        ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
        assert "--port 9911" in root.find(".//t:Arguments", ns).text
        assert root.find(".//t:RestartOnFailure", ns) is not None
    else:
        assert "Restart=on-failure" in out and "ExecStart=" in out and "'" + str(tmp_path / "my runs") + "'" in out
    with pytest.raises(ValueError):
        service_template("cron", ["x"])


def test_the_dashboard_is_its_own_module_with_its_own_flags(tmp_path, capsys):
    import subprocess
    import sys

    from benchloop.dashboard.serve import main

    assert main(["--accept-submissions", "--runs-dir", str(tmp_path)]) == 2  # no token: refused before serving
    assert "--token" in capsys.readouterr().err
    out = subprocess.run([sys.executable, "-m", "benchloop.dashboard", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for flag in ("--host", "--port", "--runs-dir", "--accept-submissions", "--token", "--service-template", "--endpoint"):
        assert flag in out.stdout, flag


def test_accept_submissions_mounts_the_leaderboard_router_behind_its_own_token(runs_dir, serve, tmp_path):
    pytest.importorskip("benchloop.leaderboard", reason="the self-hosted leaderboard module is not in this build")
    srv = serve(accept_submissions=True, token="submit-T0KEN", store_dir=tmp_path / "store")
    assert get(srv, "/api/health").json()["submissions"] == "on"
    assert get(srv, "/api/submissions").json() == {"submissions": []}
    url = srv.url + "/api/submissions"
    # no page token needed (a CLI publishes), but the submission token is
    assert requests.post(url, data=b"{}", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    r = requests.post(url, data=b"not json", headers={"Authorization": "Bearer submit-T0KEN"}, timeout=10)
    assert r.status_code == 400 and r.json()["accepted"] is False
    # a browser on another origin still cannot post there
    assert requests.post(url, data=b"{}", headers={"Authorization": "Bearer submit-T0KEN", "Origin": "http://evil.example"}, timeout=10).status_code == 403
    # the exemption is only for the submission routes
    assert post(srv, "/api/endpoints", {"url": "http://127.0.0.1:9"}, token=False).status_code == 403
    assert '"submissions": "on"' in get(srv, "/").text


def test_a_job_spec_becomes_the_benchloop_run_it_describes():
    from benchloop.cli import build_parser
    from benchloop.dashboard.jobs import build_argv

    spec = {"model": "qwen3:8b", "provider": "ollama", "harness": "hermes", "endpoint": "http://127.0.0.1:11434", "suites": ["reasonmath", "toolcall"], "profile": "quick",
            "tasks": ["rm-001", "tc-002"], "max_tokens": 64, "parallel": 2, "timeout": 7.5, "remote": False}
    argv = build_argv(spec, "run-1", "/tmp/runs")
    assert argv[1:4] == ["-m", "benchloop", "run"]
    a = build_parser().parse_args(argv[3:])
    assert (a.model, a.provider, a.harness, a.endpoint, a.suites, a.profile) == ("qwen3:8b", "ollama", "hermes", "http://127.0.0.1:11434", "reasonmath,toolcall", "quick")
    assert (a.task, a.max_tokens, a.parallel, a.timeout, a.remote, a.run_id, a.runs_dir) == (["rm-001", "tc-002"], 64, 2, 7.5, False, "run-1", "/tmp/runs")
    bare = build_parser().parse_args(build_argv({"model": "m", "provider": "llamacpp", "harness": "raw"}, "r", "/x")[3:])
    assert bare.suites is None and bare.task is None and bare.remote is None and bare.endpoint is None


def test_jobs_json_keeps_no_key_written_into_an_endpoint_url(tmp_path):
    """A key in the endpoint URL (userinfo or ?api-key=) is redacted from the job list on
    disk, as it is from run.json; single runs and every model of a sweep."""
    from benchloop.dashboard.jobs import Job, build_argv

    key, qkey = "sk-userinfo-secret-123", "sk-query-secret-456"
    spec = {"model": "m", "provider": "openai_compat", "harness": "raw", "endpoint": f"http://u:{key}@127.0.0.1:9"}
    job = Job(run_id="r1", runs_dir=str(tmp_path), spec=spec, argv=build_argv(spec, "r1", str(tmp_path))[1:], total=1, log_path="x")
    sweep = Job(run_id="s1", runs_dir=str(tmp_path), spec={"kind": "sweep", "models": [{"model": "m", "provider": "openai_compat", "endpoint": f"http://h:9/v1?api-key={qkey}"}]},
                argv=[], total=1, log_path="x", kind="sweep")
    text = json.dumps([job.saved(), sweep.saved()])
    assert key not in text and qkey not in text and "[REDACTED]" in text
    assert job.spec["endpoint"].endswith(f"{key}@127.0.0.1:9")  # the live job keeps what it runs with


# ------------------------------------------------------------------------ sweeps
def test_sweeps_are_listed_and_a_sweep_links_each_cell_to_its_run(runs_dir, serve):
    from benchloop.dashboard.demo import synthetic_sweep

    doc = synthetic_sweep(runs_dir, unfinished={"llama3.1:8b/pi": "running", "llama3.1:8b/qwen": "pending"})
    (runs_dir / ".sweeps" / "sweep-torn").mkdir()
    (runs_dir / ".sweeps" / "sweep-torn" / "sweep.json").write_text('{"cells": ')
    srv = serve()
    listed = get(srv, "/api/sweeps").json()["sweeps"]
    assert [s["sweep_id"] for s in listed] == [doc["sweep_id"]]  # a torn sweep.json is passed by
    s = listed[0]
    assert (s["cells"], s["complete"], s["status"], s["axes"]["harness"]) == (8, 6, "running", ["raw", "hermes", "qwen", "pi"])
    one = get(srv, f"/api/sweeps/{doc['sweep_id']}").json()
    res = one["result"]
    assert (res["rows"], res["cols"], res["best"]) == ("model", "harness", "qwen3:8b/qwen")
    marks = {c["name"]: c["mark"] for c in res["cells"]}
    assert marks["qwen3:8b/raw"] == "tied" and marks["llama3.1:8b/hermes"] == "worse" and marks["llama3.1:8b/qwen"] == "no result"
    links = {c["name"]: (c["run_id"], c["run_exists"]) for c in res["cells"]}
    assert links["llama3.1:8b/qwen"] == (None, False) and links["qwen3:8b/qwen"][1] is True
    assert get(srv, "/api/runs/" + links["qwen3:8b/qwen"][0]).json()["harness"] == "qwen"  # the link opens that cell's run
    assert all("command" not in c for c in one["cells"]) and "Pick qwen3:8b/qwen" in res["sentence"]
    # the sweep stopped with that cell incomplete; finished later (benchloop run --resume), it shows up as it is now
    path = runs_dir / ".sweeps" / doc["sweep_id"] / "sweep.json"
    stored = json.loads(path.read_text())
    stored["status"] = "incomplete"
    for c in stored["cells"]:
        c["status"] = "incomplete" if c["status"] == "running" else c["status"]
    path.write_text(json.dumps(stored))
    assert {c["name"]: c for c in get(srv, f"/api/sweeps/{doc['sweep_id']}").json()["result"]["cells"]}["llama3.1:8b/pi"]["status"] == "incomplete"
    rid = links["llama3.1:8b/pi"][0]
    run = json.loads((runs_dir / rid / "run.json").read_text())
    write_run(runs_dir, dict(run, status="complete"))
    again = {c["name"]: c for c in get(srv, f"/api/sweeps/{doc['sweep_id']}").json()["result"]["cells"]}
    assert again["llama3.1:8b/pi"]["status"] == "complete" and again["llama3.1:8b/pi"]["mark"] == "worse"
    assert get(srv, "/api/sweeps/sweep-nope").status_code == 404
    assert get(srv, "/api/sweeps/sweep-torn").status_code == 404
    assert get(srv, "/api/sweeps/a..b").status_code in (400, 422)  # the guard or the schema


def test_a_sweep_job_refuses_axis_values_that_cannot_run_then_runs_every_cell(runs_dir, serve, scripted, monkeypatch):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from receipts_helpers import Answers

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ep = scripted(Answers(by_model={"ref": lambda tid: True, "wrong": lambda tid: False}), models=("ref", "wrong"))
    srv = serve()
    models = [{"model": "ref", "provider": "openai_compat", "endpoint": ep.url}, {"model": "wrong", "provider": "openai_compat", "endpoint": ep.url}]
    base = {"kind": "sweep", "models": models, "harnesses": ["raw", "hermes"], "suites": ["reasonmath"], "tasks": ["rm-001", "rm-002"], "max_tokens": 64, "api_key": SECRET}
    c = post(srv, "/api/jobs/check", base).json()
    assert (c["ok"], c["cells"], c["tasks_per_cell"], c["total"]) == (True, 4, 2, 8) and c["cell_names"] == ["ref/raw", "ref/hermes", "wrong/raw", "wrong/hermes"]
    assert c["estimate_s"] > 0 and c["estimate_basis"].startswith("a guess")
    # every problem at once, one message, and no job, no sweep directory
    bad_body = dict(base, models=models + [{"model": "ghost", "provider": "openai_compat", "endpoint": ep.url}, {"model": "x", "provider": "openai_compat", "endpoint": "http://127.0.0.1:9"}], harnesses=["raw", "nosuch"])
    r = post(srv, "/api/jobs", bad_body)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith("the sweep cannot start (3 problems)") and "unknown harness 'nosuch'" in detail and "'ghost' is not served" in detail and "cannot reach http://127.0.0.1:9" in detail
    assert get(srv, "/api/jobs").json()["jobs"] == [] and not (runs_dir / ".sweeps").exists()
    assert post(srv, "/api/jobs", dict(base, models=[])).status_code == 422
    assert post(srv, "/api/jobs", dict(base, models=[models[0], models[0]])).json()["detail"] == "'ref' is picked twice"
    job = post(srv, "/api/jobs", base)
    assert job.status_code == 200, job.text
    job = job.json()
    sid = job["run_id"]
    assert job["kind"] == "sweep" and job["total"] == 4 and SECRET not in json.dumps(job)
    assert post(srv, "/api/jobs", base).status_code == 409  # one job at a time, sweep or run
    final = _wait(lambda: (lambda j: j if j["state"] != "running" else None)(get(srv, f"/api/jobs/{sid}").json()), timeout=240)
    assert final["state"] == "complete" and final["done"] == 4, final
    one = get(srv, f"/api/sweeps/{sid}").json()
    assert one["status"] == "complete" and not one["running"]
    res = one["result"]
    assert res["best"].startswith("ref/") and all(c["run_exists"] for c in res["cells"])
    assert {c["name"]: c["quality"] for c in res["cells"]} == {"ref/raw": 100.0, "ref/hermes": 100.0, "wrong/raw": 0.0, "wrong/hermes": 0.0}
    assert get(srv, "/api/sweeps").json()["sweeps"][0]["sweep_id"] == sid
    chats = [q for q in ep.received if q.get("path", "").endswith("/chat/completions")]
    assert chats and all(q["headers"].get("authorization") == f"Bearer {SECRET}" for q in chats)
    for p in Path(runs_dir).rglob("*"):
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes(), f"the key landed in {p}"


def test_a_sweep_form_becomes_the_matrix_file_benchloop_sweep_reads():
    from benchloop import sweep as sw
    from benchloop.dashboard.jobspec import JobError, build_sweep_argv, matrix_text, runnable_suites, validate_sweep_spec

    body = {"models": [{"model": "smollm2-135m", "provider": "llamacpp", "endpoint": "http://ignored"}, {"model": "qwen3:8b", "provider": "ollama", "endpoint": "http://127.0.0.1:11434/"}],
            "harnesses": "raw,hermes", "suites": ["reasonmath"], "profile": "quick", "tasks": ["rm-001"], "max_tokens": 8, "parallel": 2}
    spec, key = validate_sweep_spec(body, available_suites=runnable_suites())
    plan = sw.plan_from_matrix(matrix_text(spec))
    cells = sw.expand(plan)
    assert [c["name"] for c in cells] == ["smollm2-135m/raw", "smollm2-135m/hermes", "qwen3:8b/raw", "qwen3:8b/hermes"]
    assert cells[0]["values"]["provider"] == "llamacpp" and "endpoint" not in cells[0]["values"]
    assert cells[2]["values"]["endpoint"] == "http://127.0.0.1:11434" and cells[2]["values"]["task"] == ["rm-001"] and plan["settings"]["suites"] == "reasonmath"
    argv = build_sweep_argv(spec, "sweep-1", "/tmp/runs", "/tmp/m.yaml")
    assert argv[1:5] == ["-m", "benchloop", "sweep", "/tmp/m.yaml"] and "--run-id=sweep-1" in argv and "--parallel=2" in argv
    # one model on two servers: a model × endpoint sweep; a partial cross is refused in words
    two = [{"model": "any", "provider": "openai_compat", "endpoint": u} for u in ("http://laptop:8080", "http://desktop:8080")]
    plan = sw.plan_from_matrix(matrix_text(validate_sweep_spec({"models": two}, available_suites=runnable_suites())[0]))
    assert plan["axes"] == {"model": ["any"], "endpoint": ["http://laptop:8080", "http://desktop:8080"], "harness": ["raw"]}
    with pytest.raises(JobError, match="every picked model on every one"):
        matrix_text(validate_sweep_spec({"models": two + [{"model": "other", "provider": "openai_compat", "endpoint": "http://laptop:8080"}]}, available_suites=runnable_suites())[0])


def test_a_sweep_with_a_key_in_an_endpoint_url_is_refused_before_anything_is_written(tmp_path):
    """The sweep's matrix file sits on disk for the subprocess: a key written into an
    endpoint URL must go in the API key field instead, and nothing is written."""
    from benchloop.dashboard.jobs import JobError, JobManager

    jobs = JobManager(tmp_path / "runs")
    matrix = "axes:\n  model:\n    - m: {provider: openai_compat, endpoint: 'http://user:sk-secret-123@127.0.0.1:9/v1'}\n  harness: [raw]\n"
    with pytest.raises(JobError, match="API key field"):
        jobs.start_sweep({"models": []}, matrix, None, cells=1)
    assert not any("sk-secret-123" in p.read_text(errors="ignore") for p in (tmp_path / "runs").rglob("*") if p.is_file())


def test_sweep_cell_names_never_carry_a_key_from_an_endpoint_url():
    from benchloop.sweep import _name_cells

    cells = [{"axes": {"endpoint": f"http://u:sk-key-{i}@127.0.0.1:8080/v1", "model": "m"}} for i in range(2)]
    _name_cells(cells, ["endpoint", "model"])
    assert all("sk-key" not in c["name"] and "sk-key" not in c["slug"] for c in cells)


def test_boards_read_the_complete_rows_in_place_and_rows_still_hands_out_copies(runs_dir):
    seed(runs_dir, 3)
    idx = RunIndex(runs_dir, min_interval=0.0)
    shared = idx.complete_rows()
    assert {r["run_id"] for r in shared} == {r["run_id"] for r in idx.rows(status="complete")}
    assert all(a is b for a, b in zip(sorted(shared, key=lambda r: r["run_id"]), sorted(idx.complete_rows(), key=lambda r: r["run_id"])))
    copies = idx.rows(status="complete")
    copies[0]["overall"] = -1.0  # a caller's own dict: the index keeps its value
    assert -1.0 not in {r["overall"] for r in idx.complete_rows()}
    before = json.dumps([views.leaderboard(idx.complete_rows()), views.boards(idx.complete_rows())], sort_keys=True, default=str)
    after = json.dumps([views.leaderboard(idx.rows(status="complete")), views.boards(idx.rows(status="complete"))], sort_keys=True, default=str)
    assert before == after
    assert views.task_set_name("full", {"reasonmath": {}, "coding": {}, "agent": {}}) == "full · 3 suites"
    assert views.task_set_name(None, ["reasonmath"]) == "custom · reasonmath"
