"""`demo` and `emulator`: their options, help and exit codes, and how each runs.

This module imports nothing of moto, so that ``--help`` lists every command with the ``[ops]`` extra
alone; the emulator itself is imported when one of the two runs, and its absence is one line
naming the extra that brings it.
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any

from rich.console import Console

from ..errors import EXIT_OK, CommandError, exit_codes
from ..targets import LOCAL_PORT, seconds, whole_number

MAX_SPEED = 3600
"""`demo --watch --speed`: at most an hour of order time per second."""
NO_EMULATOR = (
    "the embedded emulator needs moto, which the [local] extra installs: pip install 'stream-aggregator[local]'"
)


def add_parser(subparsers: Any) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    demo = subparsers.add_parser(
        "demo",
        help="run the invoice aggregator end to end on an embedded emulator",
        epilog=exit_codes(
            "ran to its end (with --watch: for --seconds)",
            "an error told in one line",
            stopped="; the embedded emulator and what it held are gone",
        ),
        formatter_class=raw,
    )
    demo.add_argument(
        "--watch", action="store_true", help="keep streaming generated transactions and orders, shown live"
    )
    demo.add_argument("--seconds", type=seconds, help="with --watch: stop after this long (default: Ctrl-C)")
    demo.add_argument("--verbose", action="store_true", help="without --watch: show the handler's log lines")
    demo.add_argument(
        "--speed",
        type=whole_number(1, MAX_SPEED),
        default=1,
        help="with --watch: generated orders' timestamps advance this many times as fast as the clock, "
        "so minutes roll over sooner (default 1: real UTC time)",
    )
    demo.set_defaults(run=partial(run_demo_command, demo))
    emulator = subparsers.add_parser(
        "emulator",
        help="run a local emulator with the invoice stack until Ctrl-C",
        epilog=exit_codes(
            None,
            "an error told in one line, such as the port in use (nothing was started)",
            stopped=", the usual end; what it held (in memory) is gone",
        ),
        formatter_class=raw,
    )
    emulator.add_argument("--port", type=whole_number(1, 65535), default=LOCAL_PORT, help="default %(default)s")
    emulator.add_argument(
        "--deny-writes",
        type=seconds,
        metavar="SECONDS",
        help="a drill of the failure runbook: the handler's writes are refused (AccessDeniedException) for SECONDS "
        "from its first batch, so batches reach the failure queue (docs/runbook.md, 'Rehearsing the failure runbook')",
    )
    emulator.add_argument("--verbose", action="store_true", help="show the handler's log lines (a summary per batch)")
    emulator.set_defaults(run=run_emulator_command)


def run_demo_command(parser: argparse.ArgumentParser, args: argparse.Namespace, console: Console) -> int:
    if not args.watch and (args.seconds is not None or args.speed != 1):
        parser.error("--seconds and --speed need --watch")
    if args.watch and args.verbose:
        parser.error("--verbose is not for --watch (its live view redraws the screen)")
    _require_moto()
    if args.watch:
        from .watch import run_watch

        run_watch(console, seconds=args.seconds, speed=args.speed)
    else:
        from .demo import run_demo

        run_demo(console, verbose=args.verbose)
    return EXIT_OK


def run_emulator_command(args: argparse.Namespace, console: Console) -> int:
    _require_moto()
    from .emulator_command import run_emulator

    run_emulator(args.port, console, deny_writes=args.deny_writes, verbose=args.verbose)
    return EXIT_OK


def _require_moto() -> None:
    try:
        import moto  # noqa: F401
    except ModuleNotFoundError:
        raise CommandError(NO_EMULATOR) from None
