"""``python -m benchloop.dashboard``: the dashboard's own command line.

    python -m benchloop.dashboard [--host H] [--port P] [--runs-dir DIR]
                                  [--accept-submissions --token T] [--endpoint URL ...]
                                  [--service-template systemd|launchd|windows-task]

:func:`main` takes an argv list (``benchloop dashboard ARGS`` can hand its arguments
straight on); :func:`add_arguments` puts the same flags on any argparse parser, and
:func:`run` serves an already parsed namespace. The runs directory follows the one
rule every command shares (``benchloop.options.runs_dir``).
"""
from __future__ import annotations

import argparse
import os
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8877
SERVICE_KINDS = ("launchd", "systemd", "windows-task")


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The dashboard's flags, on ``p`` (its own parser, or the CLI's ``dashboard`` subcommand)."""
    p.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1; anything else makes the dashboard read-only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--runs-dir", help="where runs live (default: $BENCHLOOP_RUNS_DIR or ~/.bench-loop/runs)")
    p.add_argument("--accept-submissions", action="store_true", help="act as a self-hosted leaderboard server")
    p.add_argument("--token", help="submission token (with --accept-submissions; or BENCHLOOP_SUBMIT_TOKEN)")
    p.add_argument("--service-template", choices=SERVICE_KINDS, help="print a service definition (or write it to --output) and exit")
    p.add_argument("--output", "-o", help="with --service-template: write it to this file (the Windows task as UTF-16, the encoding it declares)")
    p.add_argument("--endpoint", action="append", dest="endpoints", help="extra model endpoint to discover (repeatable)")
    return p


def build_parser() -> argparse.ArgumentParser:
    return add_arguments(argparse.ArgumentParser(prog="python -m benchloop.dashboard", description="Serve the BenchLoop web dashboard over a runs directory."))


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchloop.dashboard``; returns the exit status."""
    return run(build_parser().parse_args(sys.argv[1:] if argv is None else argv))


def dashboard_argv(args, runs_dir: str) -> list[str]:
    """The command line that starts this dashboard again, without secrets (for services)."""
    argv = [sys.executable, "-m", "benchloop.dashboard", "--host", args.host, "--port", str(args.port), "--runs-dir", runs_dir]
    if getattr(args, "accept_submissions", False):
        argv.append("--accept-submissions")
    for e in getattr(args, "endpoints", None) or []:
        argv += ["--endpoint", e]
    return argv


def run(args: argparse.Namespace) -> int:
    """Serve (or print a service template for) parsed dashboard flags."""
    from benchloop.options import runs_dir as options_runs_dir

    runs_dir = options_runs_dir(given=getattr(args, "runs_dir", None))
    if getattr(args, "service_template", None):
        data = service_bytes(args.service_template, dashboard_argv(args, runs_dir))
        if getattr(args, "output", None):
            with open(args.output, "wb") as f:
                f.write(data)
            print(f"wrote {args.output}")
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        return 0
    token = getattr(args, "token", None) or os.environ.get("BENCHLOOP_SUBMIT_TOKEN") or None
    if getattr(args, "accept_submissions", False) and not token:
        sys.stderr.write("benchloop: --accept-submissions needs --token (or BENCHLOOP_SUBMIT_TOKEN) so only you decide who may submit\n")
        return 2
    import uvicorn

    from benchloop.dashboard.app import create_app
    from benchloop.dashboard.guard import is_loopback_host

    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        sys.stderr.write(f"benchloop: {bind_error(args.host, args.port, exc)}\n")
        return 2
    app = create_app(runs_dir, accept_submissions=bool(getattr(args, "accept_submissions", False)), token=token, extra_endpoints=getattr(args, "endpoints", None) or (), bind_host=args.host)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"BenchLoop dashboard on http://{shown}:{args.port}/  (runs: {runs_dir})", flush=True)
    if not is_loopback_host(args.host):
        print("benchloop: listening beyond this machine: the dashboard is read-only (no benchmarks, chat or deletions)", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", server_header=False))
    try:
        server.run(sockets=[sock])  # the socket bound above: the URL printed is the one served
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()
    return 0


def bind(host: str, port: int):
    """A listening socket on (host, port), bound before the URL is printed, so a busy
    port is one clear line instead of a URL followed by uvicorn's ``[Errno 98]``."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a just-closed dashboard's port is free
        sock.bind((host, port))
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def bind_error(host: str, port: int, exc: OSError) -> str:
    """One line naming the fix for a socket that could not be bound."""
    import errno

    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (another dashboard?); pass another with --port, e.g. --port {port + 1}"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} on {host}; pass a port above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, __import__("socket").gaierror):
        return f"cannot listen on {host}: not an address of this machine; pass one with --host (e.g. 127.0.0.1)"
    return f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --host or --port"


def service_bytes(kind: str, argv: list[str]) -> bytes:
    """The service definition as the bytes to write: the Windows task in UTF-16 with a
    byte-order mark (the encoding its XML declaration names, as schtasks expects), the
    others in UTF-8."""
    text = service_template(kind, argv)
    return text.encode("utf-16") if kind == "windows-task" else text.encode("utf-8")


def service_template(kind: str, argv: list[str]) -> str:
    """A definition that keeps the dashboard running (restarted on failure,
    started at login). ``argv`` is the dashboard command line without secrets."""
    from xml.sax.saxutils import escape

    if kind == "systemd":
        import shlex

        cmd = " ".join(shlex.quote(a) for a in argv)
        return (
            "# ~/.config/systemd/user/benchloop-dashboard.service\n"
            "# enable with: systemctl --user daemon-reload && systemctl --user enable --now benchloop-dashboard\n"
            "[Unit]\n"
            "Description=BenchLoop dashboard\n"
            "After=network.target\n\n"
            "[Service]\n"
            f"ExecStart={cmd}\n"
            "Restart=on-failure\n"
            "RestartSec=5\n"
            "# a submission token, if any, goes here, not on the command line:\n"
            "# Environment=BENCHLOOP_SUBMIT_TOKEN=...\n\n"
            "[Install]\n"
            "WantedBy=default.target\n"
        )
    if kind == "launchd":
        args = "\n".join(f"    <string>{escape(a)}</string>" for a in argv)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<!-- ~/Library/LaunchAgents/dev.benchloop.dashboard.plist\n"
            "     load with: launchctl load -w ~/Library/LaunchAgents/dev.benchloop.dashboard.plist -->\n"
            '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
            '<plist version="1.0">\n<dict>\n'
            "  <key>Label</key>\n  <string>dev.benchloop.dashboard</string>\n"
            f"  <key>ProgramArguments</key>\n  <array>\n{args}\n  </array>\n"
            "  <key>RunAtLoad</key>\n  <true/>\n"
            "  <key>KeepAlive</key>\n  <true/>\n"
            "  <key>StandardErrorPath</key>\n  <string>/tmp/benchloop-dashboard.log</string>\n"
            "</dict>\n</plist>\n"
        )
    if kind == "windows-task":
        import subprocess

        cmdline = subprocess.list2cmdline(argv[1:])
        return (
            '<?xml version="1.0" encoding="UTF-16"?>\n'
            "<!-- import with: schtasks /Create /TN BenchLoopDashboard /XML benchloop-dashboard.xml -->\n"  # no double hyphen inside an XML comment
            '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
            "  <RegistrationInfo><Description>BenchLoop dashboard</Description></RegistrationInfo>\n"
            "  <Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>\n"
            '  <Principals><Principal id="Author"><LogonType>InteractiveToken</LogonType><RunLevel>LeastPrivilege</RunLevel></Principal></Principals>\n'
            "  <Settings>\n"
            "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
            "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
            "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
            "    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>\n"
            "    <RestartOnFailure><Interval>PT1M</Interval><Count>999</Count></RestartOnFailure>\n"
            "  </Settings>\n"
            "  <Actions Context=\"Author\">\n"
            f"    <Exec><Command>{escape(argv[0])}</Command><Arguments>{escape(cmdline)}</Arguments></Exec>\n"
            "  </Actions>\n"
            "</Task>\n"
        )
    raise ValueError(f"unknown service template {kind!r}")
