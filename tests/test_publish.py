"""Opt-in publishing to a self-hosted leaderboard that re-checks every run it is sent.

Over real HTTP on loopback (uvicorn in a thread, the router the dashboard mounts): a
genuine run is accepted; the same run with an edited score or an edited output is
rejected with the reason; the provider's API key never leaves for the leaderboard.
"""
from __future__ import annotations

import contextlib
import copy
import json
import shutil
import socket
import threading
import time

import pytest
import requests

from benchloop.checkers import registry

from receipts_helpers import Answers, bench, cli, load_json, run_args

from benchloop.dashboard.leaderboard_api import submissions_router
from benchloop.leaderboard import recheck_record, submission_id, verify_submission

KEY = "sk-publish-test-KEY-5b0e9d"  # the provider key: must never reach the leaderboard


class Capture:
    """ASGI wrapper keeping every request's raw headers and body, to prove what was sent."""

    def __init__(self, app):
        self.app = app
        self.seen = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        entry = {"headers": list(scope["headers"]), "body": b""}
        self.seen.append(entry)

        async def recv():
            msg = await receive()
            if msg["type"] == "http.request":
                entry["body"] += msg.get("body", b"")
            return msg

        await self.app(scope, recv, send)


@contextlib.contextmanager
def serve(store, token):
    """A minimal FastAPI app with the leaderboard's submission routes, on a free loopback port."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    app.include_router(submissions_router(store, token))
    wrapped = Capture(app)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(wrapped, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(250):
            if server.started:
                break
            time.sleep(0.02)
        assert server.started
        wrapped.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield wrapped
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def leaderboard(tmp_path):
    with serve(tmp_path / "store", "board-token") as lb:
        yield lb


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    """A real run of the quick profile (one task answered wrongly, so scores are not trivial),
    made with an API key set in the environment and on the command line."""
    from benchloop.testing.scripted import ScriptedEndpoint

    home = tmp_path_factory.mktemp("pub")
    with ScriptedEndpoint(Answers(lambda tid: tid != "rm-003")) as ep:
        res = bench(run_args(ep.url, "--run-id", "genuine-1", "--profile", "quick", "--api-key", KEY), home, OPENAI_API_KEY=KEY)
    assert res.returncode == 0, res.stderr
    run = load_json(home / "runs" / "genuine-1" / "run.json")
    assert run["status"] == "complete" and 0 < run["scores"]["quality"] < 100
    return home


def _home_with(tmp_path, genuine, edit):
    home = tmp_path / "edited"
    shutil.copytree(genuine, home)
    path = home / "runs" / "genuine-1" / "run.json"
    run = load_json(path)
    edit(run)
    path.write_text(json.dumps(run))
    return home


def test_a_genuine_run_is_accepted_once_and_listed(leaderboard, genuine):
    res = cli("publish", "genuine-1", "--to", leaderboard.url, "--token", "board-token", home=genuine, OPENAI_API_KEY=KEY)
    assert res.returncode == 0, res.stderr
    assert "published genuine-1" in res.stdout and "re-checked reasonmath" in res.stdout
    rows = requests.get(f"{leaderboard.url}/api/submissions", timeout=10).json()["submissions"]
    run = load_json(genuine / "runs" / "genuine-1" / "run.json")
    assert len(rows) == 1 and rows[0]["run_id"] == "genuine-1" and rows[0]["rechecked"] == ["reasonmath"]
    assert rows[0]["scores"]["overall"] == run["scores"]["overall"]
    assert rows[0]["id"] == submission_id(run["machine"]["machine_id"], "genuine-1")
    full = requests.get(f"{leaderboard.url}/api/submissions/{rows[0]['id']}", timeout=10).json()
    assert full["run"]["tasks"] == run["tasks"]
    assert requests.get(f"{leaderboard.url}/api/submissions/..%2F..%2Fetc", timeout=10).status_code == 404

    dup = cli("publish", "genuine-1", "--to", leaderboard.url, "--token", "board-token", home=genuine)
    assert dup.returncode == 1 and "already" in dup.stdout
    assert len(requests.get(f"{leaderboard.url}/api/submissions", timeout=10).json()["submissions"]) == 1

    # the provider key went nowhere near the leaderboard, in headers or body
    sent = b"".join(b"".join(k + v for k, v in e["headers"]) + e["body"] for e in leaderboard.seen)
    assert KEY.encode() not in sent and b"board-token" in sent


def _bump_score(run):
    t = next(t for t in run["tasks"] if not t["passed"])
    t["score"], t["passed"] = 100.0, True


def _wrong_output(run):
    t = next(t for t in run["tasks"] if t["task_id"] == "rm-001")
    t["output"] = "Sure.\nANSWER: 40.08"


@pytest.mark.parametrize(
    "edit, why",
    [
        (_bump_score, "rm-003: claimed score 100 (pass) but the server's checker gives 0"),
        (_wrong_output, "rm-001: claimed score 100 (pass) but the server's checker gives 0"),
        (lambda r: r["scores"].__setitem__("overall", r["scores"]["overall"] + 5), "claimed scores.overall"),
    ],
    ids=["edited-score", "edited-output", "edited-overall"],
)
def test_an_edited_run_is_rejected_over_http_with_the_reason(leaderboard, genuine, tmp_path, edit, why):
    home = _home_with(tmp_path, genuine, edit)
    res = cli("publish", "genuine-1", "--to", leaderboard.url, "--token", "board-token", home=home)
    assert res.returncode == 2
    assert "refused the run (HTTP 422)" in res.stderr and why in res.stderr
    assert requests.get(f"{leaderboard.url}/api/submissions", timeout=10).json()["submissions"] == []


def test_tokens_and_formats_are_enforced(leaderboard, genuine):
    run = load_json(genuine / "runs" / "genuine-1" / "run.json")
    url = f"{leaderboard.url}/api/submissions"
    body = {"format": "benchloop-submission", "version": 1, "run": run}
    assert requests.post(url, json=body, timeout=10).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401
    ok = {"Authorization": "Bearer board-token"}
    assert requests.post(url, data=b"{not json", headers=ok, timeout=10).status_code == 400
    assert requests.post(url, json={"format": "x"}, headers=ok, timeout=10).status_code == 400
    assert requests.post(url, json=dict(body, version=99), headers=ok, timeout=10).status_code == 400
    hostile = requests.post(url, json=dict(body, run={"run_id": "../x", "tasks": "nope"}), headers=ok, timeout=10)
    assert hostile.status_code == 422 and hostile.json()["accepted"] is False
    no_token = cli("publish", "genuine-1", "--to", leaderboard.url, home=genuine)
    assert no_token.returncode == 2 and "HTTP 401" in no_token.stderr
    bad_url = cli("publish", "genuine-1", "--to", "file:///etc/passwd", home=genuine)
    assert bad_url.returncode == 2 and "http(s) URL" in bad_url.stderr


def test_a_server_without_a_token_accepts_nothing(tmp_path, genuine):
    with serve(tmp_path / "s", None) as lb:
        res = cli("publish", "genuine-1", "--to", lb.url, "--token", "anything", home=genuine)
    assert res.returncode == 2 and "HTTP 403" in res.stderr and "accepts no submissions" in res.stderr
    assert list((tmp_path / "s").iterdir()) == []


# ------------------------------------------------------------------ verify_submission, pure
@pytest.fixture(scope="module")
def good_run(genuine):
    return load_json(genuine / "runs" / "genuine-1" / "run.json")


def _edited(run, fn):
    r = copy.deepcopy(run)
    fn(r)
    return r


def _rehash(r):
    import hashlib

    r["manifest_hash"] = hashlib.sha256(json.dumps(r["manifest"], sort_keys=True).encode()).hexdigest()


def test_verify_accepts_the_genuine_run_and_names_what_it_rechecked(good_run):
    ok, why = verify_submission(good_run)
    assert ok and why == "re-checked reasonmath"


@pytest.mark.parametrize(
    "fn, why",
    [
        (lambda r: r.__setitem__("status", "incomplete"), "only complete runs"),
        (lambda r: r["machine"].__setitem__("machine_id", "00:1a:2b:3c:4d:5e"), "never a MAC"),
        (lambda r: r["machine"].__setitem__("machine_id", "my-laptop"), "never a MAC"),
        (lambda r: r["manifest"]["suites"]["reasonmath"].__setitem__("checker", "reasonmath-0"), "does not match its own hash"),
        (lambda r: (r["manifest"]["suites"]["reasonmath"].__setitem__("checker", "reasonmath-0"), _rehash(r)), f"checker reasonmath-0 (submission) vs {registry.version('reasonmath')} (server)"),
        (lambda r: (r["manifest"]["suites"]["reasonmath"].__setitem__("max_tokens", 32), _rehash(r)), "max_tokens 32 (submission) vs 384 (server)"),
        (lambda r: (r["manifest"]["suites"]["reasonmath"].__setitem__("task_ids", ["rm-001"]), _rehash(r)), "not a whole profile"),
        (lambda r: r["tasks"].pop(), "do not match the manifest"),
        (lambda r: r["tasks"].append(copy.deepcopy(r["tasks"][0])), "appears twice"),
        (lambda r: r["tasks"][0]["prompt"][-1].__setitem__("content", "What is 2+2?"), "prompt differs"),
        (lambda r: r["tasks"][0].update(error="boom", score=100.0), "failed with an error"),
        (lambda r: r["scores"]["suites"]["reasonmath"].__setitem__("score", 99.0), "claimed scores.suites.reasonmath.score"),
        (lambda r: r["tasks"][0].__setitem__("output", {"not": "text"}), "claimed score 100"),
    ],
)
def test_verify_rejects_every_kind_of_edit_with_a_reason(good_run, fn, why):
    ok, reason = verify_submission(_edited(good_run, fn))
    assert not ok and why in reason, reason


def test_verify_never_raises_on_garbage():
    for junk in (None, [], "run", {"run_id": 5}, {"run_id": "x", "status": "complete", "machine": {"machine_id": "ab" * 12}, "tasks": [1]}):
        ok, reason = verify_submission(junk)
        assert not ok and reason


# ------------------------------------------------------- multi-turn suites: replayed, not trusted
class _ScriptedModel:
    """A provider whose "model" plays a fixed list of logical replies, one per request."""

    name = "scripted"

    def __init__(self, replies):
        self.replies = list(replies)

    def chat(self, model, messages, **kw):
        from benchloop.providers.base import ChatResult

        reply = self.replies.pop(0) if self.replies else {"content": "", "tool_calls": []}
        calls = [dict(c) for c in reply.get("tool_calls") or []]
        return ChatResult(content=reply.get("content") or "", reasoning=reply.get("reasoning") or "", tool_calls=calls, finish_reason="tool_calls" if calls else "stop")


def _live_record(task, replies, defaults):
    """The record the live driver makes when the model says ``replies``, as run.json keeps it."""
    from benchloop.drivers import run_task
    from benchloop.drivers.conversation import Conversation
    from benchloop.harnesses.base import Harness

    conv = Conversation(provider=_ScriptedModel(replies), harness=Harness(), model="scripted-model", suite_defaults=defaults, retries=0)
    return json.loads(json.dumps(run_task(task, conv)))


@pytest.mark.parametrize("suite", ["toolcall", "agent"])
def test_multi_turn_records_are_rechecked_by_replaying_their_turns(suite):
    from benchloop.agent_episode import script_reply
    from benchloop.checkers.toolcall import logical_reply
    from benchloop.tasks import load_suite

    s = load_suite(suite)
    if suite == "toolcall":
        logical = lambda r: [logical_reply(x) for x in (r if isinstance(r, list) else [r])]  # noqa: E731
    else:
        logical = lambda r: [script_reply(x, k) for k, x in enumerate(r)]  # noqa: E731
    checked = 0
    for task in s["tasks"]:
        for which in ("reference", "wrong"):
            rec = _live_record(task, logical(task[which]), s["defaults"])
            assert not rec.get("error"), (task["id"], rec.get("error"))
            verdict = recheck_record(suite, task, rec, s["defaults"])
            assert verdict is not None
            assert (round(verdict.score, 6), verdict.passed) == (round(rec["score"], 6), rec["passed"]), (task["id"], which)
            checked += 1
        if rec["score"] < 100 and verdict.score < 100:
            good = _live_record(task, logical(task["reference"]), s["defaults"])
            assert good["score"] == 100.0, task["id"]
    assert checked == 2 * len(s["tasks"])


def test_a_speed_record_is_a_measurement_the_server_leaves_unchecked():
    """Speed results cannot be re-derived from an artifact: a passing speed record is
    listed as not re-checked, never re-judged (which would read it as 'no valid
    measurement' and reject an honest run)."""
    from benchloop.tasks import load_suite

    s = load_suite("speed")
    rec = {"reply": "", "score": 100.0, "passed": True, "speed": {"decode_tok_s": 50.0}}
    assert recheck_record("speed", s["tasks"][0], rec, s["defaults"]) is None
