"""``benchloop publish RUN --to URL [--token T]``: send one finished run to a leaderboard.

Opt-in only: this is the one command that sends a run anywhere, and it sends exactly the
run's artifact (already free of API keys; keys still in the environment are redacted once
more). The provider key is never sent: the only credential is the leaderboard's own
``--token`` (or ``BENCHLOOP_PUBLISH_TOKEN``), and redirects are not followed, so the
token cannot be forwarded to another host. The server re-checks the run and answers why
when it refuses it. ``benchloop publish`` (the CLI) calls :func:`publish`.
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
