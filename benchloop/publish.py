"""``benchloop publish RUN --to URL [--token T]``: send one finished run to a leaderboard.

Opt-in only: this is the one command that sends a run anywhere, and it sends exactly the
run's artifact (already free of API keys; keys still in the environment are redacted once
more). The provider key is never sent: the only credential is the leaderboard's own
``--token`` (or ``BENCHLOOP_PUBLISH_TOKEN``), and redirects are not followed, so the
token cannot be forwarded to another host. The server re-checks the run and answers why
when it refuses it.
"""
from __future__ import annotations

import os

from benchloop.leaderboard import FORMAT, VERSION


def payload_for(run: dict) -> dict:
    from benchloop.artifact import redact

    keys = [v for k in ("OPENAI_API_KEY", "BENCHLOOP_API_KEY") if (v := os.environ.get(k))]
    return {"format": FORMAT, "version": VERSION, "run": redact(run, keys)}


def publish(run: dict, url: str, token: str | None, *, timeout: float = 120.0) -> tuple[int, dict]:
    """POST the run; returns (HTTP status, JSON answer). Raises ValueError for a bad URL
    and requests' exceptions for network failures."""
    from urllib.parse import urlsplit

    import requests

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--to must be an http(s) URL of a leaderboard server, got {url!r}")
    target = url.rstrip("/")
    if not target.endswith("/api/submissions"):
        target += "/api/submissions"
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with requests.Session() as s:
        s.trust_env = False  # no ~/.netrc credentials or proxies picked up behind the user's back
        r = s.post(target, json=payload_for(run), headers=headers, timeout=(10, timeout), allow_redirects=False)
    try:
        body = r.json()
    except ValueError:
        body = {"reason": (r.text or "")[:300]}
    if 300 <= r.status_code < 400:
        body = {"reason": f"the server redirected to {r.headers.get('location', '?')!s:.200}; publish to that URL directly"}
    return r.status_code, body if isinstance(body, dict) else {"reason": str(body)[:300]}


def main(args) -> int:
    import requests

    from benchloop.artifact import RunNotFound, load_run
    from benchloop.cli import CliError, _runs_dir
    from benchloop.report import safe_text

    try:
        run = load_run(args.run, _runs_dir(args))
    except RunNotFound as exc:
        raise CliError(str(exc)) from None
    if run.get("status") != "complete":
        raise CliError(f"run {run.get('run_id')} is {run.get('status')}; finish it first (benchloop run --resume {run.get('run_id')})")
    token = args.token or os.environ.get("BENCHLOOP_PUBLISH_TOKEN") or None
    try:
        status, body = publish(run, args.to, token)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except requests.exceptions.RequestException as exc:
        raise CliError(f"cannot reach {safe_text(args.to, 200)} ({type(exc).__name__}); is the leaderboard server running?") from None
    reason = safe_text(body.get("reason") or "", 500)
    if status == 201 and body.get("accepted"):
        print(f"published {run.get('run_id')} as {safe_text(body.get('id'), 40)}: {reason}")
        return 0
    if status == 409:
        print(f"already published: {reason}")
        return 1
    raise CliError(f"the server refused the run (HTTP {status}): {reason or 'no reason given'}")
