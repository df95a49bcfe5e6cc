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
    p.add_argument("--service-template", choices=SERVICE_KINDS, help="print a service definition and exit")
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
        sys.stdout.write(service_template(args.service_template, dashboard_argv(args, runs_dir)))
        return 0
    token = getattr(args, "token", None) or os.environ.get("BENCHLOOP_SUBMIT_TOKEN") or None
    if getattr(args, "accept_submissions", False) and not token:
        sys.stderr.write("benchloop: --accept-submissions needs --token (or BENCHLOOP_SUBMIT_TOKEN) so only you decide who may submit\n")
        return 2
    import uvicorn

    from benchloop.dashboard.app import create_app
    from benchloop.dashboard.guard import is_loopback_host

    app = create_app(runs_dir, accept_submissions=bool(getattr(args, "accept_submissions", False)), token=token, extra_endpoints=getattr(args, "endpoints", None) or (), bind_host=args.host)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"BenchLoop dashboard on http://{shown}:{args.port}/  (runs: {runs_dir})", flush=True)
    if not is_loopback_host(args.host):
        print("benchloop: listening beyond this machine: the dashboard is read-only (no benchmarks, chat or deletions)", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False)
    except KeyboardInterrupt:
        return 130
    return 0


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
            "<!-- import with: schtasks /Create /TN BenchLoopDashboard /XML benchloop-dashboard.xml -->\n"
            '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
            "  <RegistrationInfo><Description>BenchLoop dashboard</Description></RegistrationInfo>\n"
            "  <Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>\n"
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
