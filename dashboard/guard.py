"""The dashboard's front door: one pure ASGI middleware that every request passes.

A dashboard on a laptop is reachable by every web page the same browser opens, so:
while bound to loopback it answers only loopback ``Host`` names (no DNS rebinding); a
state-changing request (POST, PUT, PATCH, DELETE) needs the page's token in the
``X-BenchLoop-Token`` header and may not come from another origin; a ``..`` in a path
is a 400; and every response carries a Content-Security-Policy without inline scripts
plus the usual no-sniff / no-frame headers. No CORS headers are ever sent.
"""
from __future__ import annotations

import hmac
import json

TOKEN_HEADER = "x-benchloop-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
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


PROBLEM_SCHEMA = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
TOKEN_SCHEME = "pageToken"


def document(openapi: dict, *, exempt: set[tuple[str, str]] = frozenset(), loopback_only: bool = True) -> dict:
    """Write what :class:`Guard` answers into an OpenAPI document (in place), so the
    schema lists every status a request can meet before it reaches a route: 421 for a
    non-loopback ``Host`` (while bound to loopback), 400 for a ``..`` in a path with
    parameters, and, on state-changing operations except ``exempt`` ``(method, path)``
    pairs, the page token (a security scheme) and its 403."""
    problem = {"application/json": {"schema": PROBLEM_SCHEMA}}
    schemes = openapi.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[TOKEN_SCHEME] = {"type": "apiKey", "in": "header", "name": "X-BenchLoop-Token", "description": "the token in the dashboard page's <meta name=\"benchloop-token\">"}
    for path, ops in (openapi.get("paths") or {}).items():
        for method, op in ops.items():
            if not isinstance(op, dict) or method.upper() not in {"GET", "HEAD", "OPTIONS", "TRACE", *UNSAFE_METHODS}:
                continue
            res = op.setdefault("responses", {})
            if loopback_only:
                res.setdefault("421", {"description": "the Host header is not a loopback name", "content": problem})
            if "{" in path:
                res.setdefault("400", {"description": "a path parameter holds '..', '\\' or a NUL byte", "content": problem})
            if method.upper() in UNSAFE_METHODS and (method.upper(), path) not in exempt:
                op.setdefault("security", [{TOKEN_SCHEME: []}])
                res.setdefault("403", {"description": "missing or wrong page token, or another origin", "content": problem})
    return openapi


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
