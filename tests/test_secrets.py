"""API keys reach the endpoint they are for and nothing else: no artifact, log line,
exception text, JUnit file or export holds them — even when the server or the model
echoes the key back — and no other host receives them."""
from __future__ import annotations

import gzip
import http.server
import json
import threading

import pytest

from receipts_helpers import Answers, bench, cli, load_json, run_args

from benchloop.testing.scripted import Reply

ENV_KEY = "sk-env-OPENAI-4f1d2c9b8a7e6d5c"  # OPENAI_API_KEY, shadowed by --api-key
FLAG_KEY = "sk-flag-APIKEY-0a9b8c7d6e5f4a3b"  # --api-key: the one actually sent


def _all_bytes(*roots):
    out = b""
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in paths:
            data = p.read_bytes()
            out += data
            if data[:2] == b"\x1f\x8b":
                out += gzip.decompress(data)
    return out


def test_a_run_with_keys_set_leaves_no_trace_of_them_anywhere(scripted, tmp_path):
    answers = Answers()

    def responder(req):
        users = [m["content"] for m in req["messages"] if m.get("role") == "user"]
        if users and users[-1].startswith("Four friends"):  # rm-002: the server echoes the key in an error
            return Reply(status=401, error_message=f"Incorrect API key provided: {FLAG_KEY} (also saw {ENV_KEY})")
        if users and users[-1].startswith("A cyclist"):  # rm-003: the "model" leaks it into its answer
            return Reply(content=f"My key is {FLAG_KEY} and {ENV_KEY}.\nANSWER: 90")
        return answers(req)

    ep = scripted(responder)
    home = tmp_path / "home"
    junit = tmp_path / "junit.xml"
    tasks = ["--task=rm-001", "--task=rm-002", "--task=rm-003", "--task=rm-004"]
    res = bench(run_args(ep.url, "--run-id", "keyed", "--api-key", FLAG_KEY, "--junitxml", str(junit), "-n", "2", *tasks), home, OPENAI_API_KEY=ENV_KEY)
    assert res.returncode == 0, res.stderr
    run = load_json(home / "runs" / "keyed" / "run.json")
    by_id = {t["task_id"]: t for t in run["tasks"]}
    assert by_id["rm-002"]["error_kind"] == "http" and "[REDACTED]" in by_id["rm-002"]["error"]
    assert "[REDACTED]" in by_id["rm-003"]["output"] and by_id["rm-003"]["passed"]

    # the key did go to the endpoint it was given for, on every request
    auth = {r["headers"].get("authorization") for r in ep.received}
    assert auth == {f"Bearer {FLAG_KEY}"}

    export = tmp_path / "all.jsonl.gz"
    exp = cli("export", "--all", "--output", str(export), home=home, OPENAI_API_KEY=ENV_KEY)
    assert exp.returncode == 0, exp.stderr
    shown = cli("show", "keyed", "--format", "md", home=home)
    written = _all_bytes(home, junit, export)
    assert b"rm-002" in junit.read_bytes() and b"[REDACTED]" in junit.read_bytes()  # the failure text is there, redacted
    logs = (res.stdout + res.stderr + exp.stdout + exp.stderr + shown.stdout + shown.stderr).encode()
    for key in (ENV_KEY, FLAG_KEY):
        assert key.encode() not in written, key
        assert key.encode() not in logs, key
        assert key[8:].encode() not in written  # not even a tail of it


def test_a_stale_key_in_an_old_artifact_is_redacted_on_export(tmp_path):
    home = tmp_path / "home"
    d = home / "runs" / "old-1"
    d.mkdir(parents=True)
    (d / "meta.json").write_text(json.dumps({"run_id": "old-1", "settings": {}, "note": f"Bearer {ENV_KEY}"}))
    out = tmp_path / "x.jsonl"
    assert cli("export", "old-1", "--output", str(out), home=home, OPENAI_API_KEY=ENV_KEY).returncode == 0
    assert ENV_KEY not in out.read_text() and "[REDACTED]" in out.read_text()


class _Redirect(http.server.BaseHTTPRequestHandler):
    """A server that sends every request on to another host, as a hostile or misconfigured
    proxy would; it remembers the headers it saw."""

    seen: list = []
    target = ""

    def _go(self):
        type(self).seen.append(dict(self.headers))
        self.send_response(307)
        self.send_header("Location", self.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _go

    def log_message(self, *a):
        pass


def test_the_key_is_not_sent_to_another_host(scripted):
    from benchloop.providers import make_provider

    real = scripted(Answers())
    port = real.url.rsplit(":", 1)[1]
    _Redirect.target = f"http://localhost:{port}"  # another host name than 127.0.0.1
    _Redirect.seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        p = make_provider("openai_compat", f"http://127.0.0.1:{srv.server_address[1]}", api_key=FLAG_KEY, timeout=5)
        try:
            p.chat("scripted-model", [{"role": "user", "content": "hi"}], max_tokens=8)
        except Exception:
            pass  # whether or not the redirect is followed, the key must not travel with it
        p.close()
    finally:
        srv.shutdown()
        srv.server_close()
    assert _Redirect.seen and _Redirect.seen[0].get("Authorization") == f"Bearer {FLAG_KEY}"
    assert all("authorization" not in r["headers"] for r in real.received)


def test_keys_go_only_to_providers_that_take_them(scripted, monkeypatch):
    from benchloop.providers import make_provider

    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    ep = scripted(Answers())
    for kind in ("ollama", "llamacpp"):
        p = make_provider(kind, ep.url, timeout=5)
        p.list_models()
        p.close()
    assert all("authorization" not in r["headers"] for r in ep.received)
    p = make_provider("openai_compat", ep.url, timeout=5)
    p.list_models()
    p.close()
    assert ep.received[-1]["headers"].get("authorization") == f"Bearer {ENV_KEY}"


URL_KEY = "sk-userinfo-9c8b7a6f5e4d3c2b"  # put in the endpoint URL: http://bench:KEY@host


def test_a_key_in_the_endpoint_url_is_never_shown_or_stored(scripted, tmp_path):
    """Some users write the key into the URL's userinfo. The provider errors that name the
    endpoint (a connect failure, a stall) must not carry it, nor must the artifact."""
    answers = Answers()
    seen = []

    def responder(req):
        seen.append(1)
        if len(seen) == 2:  # the second task stalls past the read timeout: "no progress from <endpoint>"
            return Reply(content="ANSWER: 1", stall_s=5)
        return answers(req)

    ep = scripted(responder)
    keyed_url = ep.url.replace("http://", f"http://bench:{URL_KEY}@") + "/v1"
    home = tmp_path / "home"
    tasks = ["--task=rm-001", "--task=rm-002", "--task=rm-003"]
    res = bench(run_args(keyed_url, "--run-id", "urlkey", "--timeout", "1", "--retries", "0", *tasks), home)
    assert res.returncode == 0, res.stderr
    run = load_json(home / "runs" / "urlkey" / "run.json")
    errors = [t["error"] for t in run["tasks"] if t["error"]]
    assert errors and any(ep.url.split("//")[1] in e for e in errors), errors  # the endpoint is named...
    assert run["endpoint"] == ep.url + "/v1"
    dead = bench(run_args(keyed_url.replace(ep.url.rsplit(":", 1)[1], "9"), "--task=rm-001"), home)  # ...and a dead one too
    assert dead.returncode == 2 and "cannot reach" in dead.stderr
    written = _all_bytes(home)
    logs = (res.stdout + res.stderr + dead.stdout + dead.stderr).encode()
    assert URL_KEY.encode() not in written and URL_KEY.encode() not in logs


def test_endpoint_display_and_redaction_take_only_what_is_secret():
    from benchloop.providers.base import endpoint_secrets, has_credentials, safe_endpoint

    assert safe_endpoint("http://bench:sk-123456789@[::1]:8080/v1?key=abc") == "http://[::1]:8080/v1"
    assert safe_endpoint("https://openwebui.local/api") == "https://openwebui.local/api"
    assert endpoint_secrets("http://openwebui:sk-pass-12345678@openwebui.local/v1") == ["sk-pass-12345678"]
    assert endpoint_secrets("https://x.example/v1?api-version=2024-02-01&api-key=az-key-0123456789") == ["az-key-0123456789"]
    assert endpoint_secrets("https://sk-lone-user-key-0123456789@host/v1") == ["sk-lone-user-key-0123456789"]
    assert endpoint_secrets("http://admin@host/v1") == [] and endpoint_secrets(None) == []
    assert has_credentials("http://u:p@h/v1") and has_credentials("http://h/v1?key=x") and not has_credentials("http://[::1]:8080/v1")


def test_resuming_a_run_whose_url_held_credentials_asks_for_them_again(tmp_path):
    from benchloop.options import resolve
    from benchloop.resume import ResumeError, settings_for_resume

    keyed = f"http://bench:{URL_KEY}@127.0.0.1:9/v1"
    meta = {"run_id": "r1", "settings": resolve({"model": "m", "provider": "openai_compat", "endpoint": keyed}, env={}).public()}
    assert meta["settings"]["endpoint"] == "http://127.0.0.1:9/v1" and URL_KEY not in str(meta)
    with pytest.raises(ResumeError, match="credentials in the URL, which are never stored; resume with the endpoint again"):
        settings_for_resume(meta, {})
    s, _overrides = settings_for_resume(meta, {"endpoint": keyed})
    assert s.endpoint == keyed
