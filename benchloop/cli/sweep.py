"""``benchloop sweep``: every combination of model × harness × endpoint as ordinary runs.

The parser lives here (``benchloop.cli`` asks :func:`add_parser` for it), the work in
:mod:`benchloop.sweep` (plan, checks, scheduling, ``sweep.json``) and
:mod:`benchloop.sweep_stats` (the matrix and its answer)."""
from __future__ import annotations

AXIS_FLAGS = ("model", "harness", "endpoint", "provider", "profile")  # a comma list here is an axis


def add_parser(sub) -> None:
    """Register ``benchloop sweep`` on the top-level subparsers (kept cheap: no imports
    beyond the option table, which the parser builds anyway)."""
    from benchloop.options import CLI_PREFIX, add_run_options

    sw = sub.add_parser(
        "sweep",
        help="run every combination of models × harnesses × endpoints and answer which to pick",
        description="Comma lists in --model, --harness, --endpoint, --provider, --profile are axes; every combination is one ordinary run. "
        "'benchloop sweep matrix.yaml' reads the axes from a file; 'benchloop sweep show SWEEP' prints a stored sweep; "
        "--resume SWEEP finishes an interrupted sweep without repeating a finished task.",
    )
    sw.add_argument("target", nargs="*", metavar="matrix.yaml | show SWEEP", help="a matrix file, or 'show' and a sweep id")
    add_run_options(sw.add_argument, CLI_PREFIX)  # the same table as `benchloop run`; --resume takes a SWEEP here
    sw.add_argument("--suites", help="comma list of suites (default: all)")
    sw.add_argument("-n", "--parallel", type=int, default=0, help="parallel workers inside each cell (pytest-xdist)")
    sw.add_argument("--rows", help="axis for the table's rows (default model)")
    sw.add_argument("--cols", help="axis for the table's columns (default harness)")
    sw.add_argument("--serial", action="store_true", help="run one cell at a time even on different endpoints")
    sw.add_argument("--format", choices=["console", "md", "csv", "json"], default="console")
    sw.add_argument("--print-commands", action="store_true", help="print each cell's pytest command (for a CI matrix) and stop")


def cmd_sweep(args) -> int:
    from benchloop.errors import BenchLoopError

    raise BenchLoopError("sweep is not finished yet")
