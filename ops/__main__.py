"""`python -m ops COMMAND`: the operator's entry point.

argparse rather than typer: it is in the standard library, the commands are few and their
options plain, and one dependency fewer is one thing fewer to break in CI; rich does the tables,
progress bars and the live view.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape

from handler.spec import SpecError

from .options import seconds, whole_number
from .targets import TargetError, add_target_arguments, resolve_target

MAX_SEGMENTS = 64
"""Parallel scan workers: beyond this a thread each only queues requests (and 20,000 hung for minutes)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description="StreamAggregator's local and operator tools")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the invoice aggregator end to end on an embedded emulator")
    demo.add_argument("--watch", action="store_true", help="keep streaming generated transactions, totals live")
    demo.add_argument("--seconds", type=seconds, help="with --watch: stop after this long (default: Ctrl-C)")
    emulator = commands.add_parser("emulator", help="run a local emulator with the invoice stack until Ctrl-C")
    emulator.add_argument("--port", type=whole_number(1, 65535), default=4599)
    load = commands.add_parser("load", help="bulk-load transactions from CSV or JSON Lines into the source table")
    load.add_argument("file", type=Path)
    load.add_argument("--strict", action="store_true", help="load nothing if any row is bad")
    add_target_arguments(load)
    reconcile = commands.add_parser("reconcile", help="recompute aggregates from the source and show the drift")
    reconcile.add_argument("--repair", action="store_true", help="rewrite drifted aggregates (conditional writes)")
    reconcile.add_argument(
        "--segments",
        type=whole_number(1, MAX_SEGMENTS),
        default=4,
        help=f"parallel scan segments, 1 to {MAX_SEGMENTS} (default %(default)s)",
    )
    add_target_arguments(reconcile)
    backfill = commands.add_parser("backfill", help="add the items that predate the stream, exactly once")
    add_target_arguments(backfill)
    query = commands.add_parser("query", help="print one aggregate, or one key's time buckets over a range")
    query.add_argument("values", nargs="*", metavar="VALUE", help="one value per group_by part, in order")
    query.add_argument("--from", dest="first", metavar="BUCKET", help="first bucket (a label or an ISO date/time)")
    query.add_argument("--to", dest="last", metavar="BUCKET", help="last bucket, inclusive")
    add_target_arguments(query)
    return parser


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = console or Console()
    try:
        return _run(args, console)
    except KeyboardInterrupt:
        return 130
    except (TargetError, SpecError, ClientError, BotoCoreError, RuntimeError, ValueError, OSError) as error:
        console.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
        return 1


def _run(args: argparse.Namespace, console: Console) -> int:
    if args.command == "demo":
        if args.watch:
            from .local.watch import run_watch

            run_watch(console, seconds=args.seconds)
        else:
            from .local.demo import run_demo

            run_demo(console)
        return 0
    if args.command == "emulator":
        from .local.emulator_command import run_emulator

        run_emulator(args.port, console)
        return 0
    target = resolve_target(args)
    if args.command == "load":
        from .load_command import run_load

        summary = run_load(target, args.file, args.strict, console)
        return 1 if summary.rejected else 0
    if args.command == "reconcile":
        from .reconcile_command import run_reconcile

        report = run_reconcile(target, args.repair, args.segments, console)
        if args.repair:
            return 2 if report.skipped_changed else 0
        return 2 if report.drifts or report.unstorable else 0
    if args.command == "query":
        from .query_command import run_query

        return run_query(target, args.values, args.first, args.last, console)
    from .backfill_command import run_backfill

    run_backfill(target, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
