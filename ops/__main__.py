"""`python -m ops COMMAND`: the operator's entry point.

argparse rather than typer: it is in the standard library, the commands are few and their
options plain, and one dependency fewer is one thing fewer to break in CI; rich does the tables,
progress bars and the live view.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape

from ._lambda_code import HandlerError
from .endpoint import LOCAL_PORT
from .errors import OpsError
from .options import duration, seconds, whole_number
from .queue import MAX_VISIBILITY_SECONDS, QUARANTINE_VISIBILITY_SECONDS, REPLAY_VISIBILITY_SECONDS
from .reconcile_command import add_key_arguments
from .targets import add_pipeline_arguments, add_target_arguments, resolve_target

EXPECTED_ERRORS = (OpsError, HandlerError, ClientError, BotoCoreError, OSError)
"""What a command can meet in normal use and says in one line: our refusals, AWS's errors, the file
system's. Anything else (a bare ValueError, a KeyError) is a bug and keeps its traceback."""
MAX_SEGMENTS = 64
"""Parallel scan workers: beyond this a thread each only queues requests (and 20,000 hung for minutes)."""
MAX_SPEED = 3600
"""`demo --watch --speed`: at most an hour of order time per second."""

LOAD_EXITS = (
    "exit codes: 0 every row loaded; 1 a row was rejected (the others loaded, none under --strict), or an error "
    "told in one line; 2 a usage error; 130 interrupted (it says how many rows are in: loading the file again is safe)"
)
RECONCILE_EXITS = (
    "exit codes: 0 no drift (with --repair: every drifted key repaired); 1 an error told in one line (--repair "
    "writes nothing when a total cannot be stored exactly); 2 drift, or a total that cannot be stored, was found "
    "(with --repair: a key the stream changed meanwhile was skipped, run again), or a usage error; 130 interrupted "
    "(it says how many keys were repaired: run again)"
)
BACKFILL_EXITS = (
    "exit codes: 0 backfilled, or nothing left to do; 1 an error told in one line (nothing written when the stream "
    "cannot be read to its end or a total cannot be stored; else it says how far it got, run again, or which keys "
    "DynamoDB refused, the others done); 2 a usage error; 130 interrupted (it says how far it got: run again)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description="StreamAggregator's local and operator tools")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error, not just its message")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run the invoice aggregator end to end on an embedded emulator",
        epilog=exit_codes(
            "0: ran to its end (with --watch: for --seconds)",
            "1: an error told in one line",
            "2: bad arguments",
            "130 (Ctrl-C), 143 (kill), 129 (terminal closed): stopped; the embedded emulator and what it held are gone",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    emulator = commands.add_parser(
        "emulator",
        help="run a local emulator with the invoice stack until Ctrl-C",
        epilog=exit_codes(
            "1: an error told in one line, such as the port in use (nothing was started)",
            "2: bad arguments",
            "130 (Ctrl-C), 143 (kill), 129 (terminal closed): stopped, the usual end; what it held (in memory) is gone",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    load = commands.add_parser(
        "load", help="bulk-load transactions from CSV or JSON Lines into the source table", epilog=LOAD_EXITS
    )
    load.add_argument("file", type=Path)
    load.add_argument("--strict", action="store_true", help="load nothing if any row is bad")
    add_target_arguments(load)
    reconcile = commands.add_parser(
        "reconcile", help="recompute aggregates from the source and show the drift", epilog=RECONCILE_EXITS
    )
    reconcile.add_argument("--repair", action="store_true", help="rewrite drifted aggregates (conditional writes)")
    reconcile.add_argument(
        "--segments",
        type=whole_number(1, MAX_SEGMENTS),
        default=4,
        help=f"parallel scan segments, 1 to {MAX_SEGMENTS} (default %(default)s)",
    )
    add_key_arguments(reconcile)
    add_target_arguments(reconcile)
    backfill = commands.add_parser(
        "backfill", help="add the items that predate the stream, exactly once", epilog=BACKFILL_EXITS
    )
    add_target_arguments(backfill)
    _add_replay(commands)
    _add_quarantine(commands)
    query = commands.add_parser(
        "query",
        help="print one aggregate, or one key's time buckets over a range",
        epilog=exit_codes(
            "0: at least one aggregate found",
            "1: none found, or an error or refusal (the message says which)",
            "2: bad arguments",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    query.add_argument("values", nargs="*", metavar="VALUE", help="one value per group_by part, in order")
    query.add_argument("--from", dest="first", metavar="BUCKET", help="first bucket (a label or an ISO date/time)")
    query.add_argument("--to", dest="last", metavar="BUCKET", help="last bucket, inclusive")
    add_target_arguments(query)
    return parser


REPLAY_HELP = (
    "read each failed batch the failure queue describes back from the stream and apply it through the engine "
    "(already-applied records are skipped, so it is safe while the mapping runs and when repeated); a message "
    "is deleted once its whole range is applied or quarantined. Replay is a second reader of the shard beside "
    "the mapping: DynamoDB allows two at once, so run one replay at a time"
)


def _add_visibility(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument(
        "--visibility-timeout",
        type=whole_number(1, MAX_VISIBILITY_SECONDS),
        default=default,
        help="seconds each message stays hidden from other readers while this run works on it (default %(default)s)",
    )


def _add_replay(commands: Any) -> None:
    replay = commands.add_parser(
        "replay",
        help=REPLAY_HELP,
        description=REPLAY_HELP,
        epilog=exit_codes(
            "0: every message settled (applied, already applied or quarantined) and deleted; with --dry-run: every "
            "range read and replayable",
            "1: an error or a refusal told in one line (messages in flight: another reader holds some); "
            "what was not settled is kept",
            "2: some message not settled (expired, needs reconcile, failed, incomplete read, unreadable: kept unless "
            "--drop-unreplayable), or bad arguments",
            "130 (Ctrl-C), 143 (kill), 129 (terminal closed): stopped; what was not deleted is visible again",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replay.add_argument(
        "--message", type=Path, metavar="FILE", help="replay the one on-failure message in this file, not the queue"
    )
    replay.add_argument("--dry-run", action="store_true", help="read the ranges and say what would be replayed")
    replay.add_argument(
        "--drop-unreplayable",
        action="store_true",
        help="also delete the messages replay cannot settle (expired, or needing reconcile): after reconcile --repair",
    )
    _add_visibility(replay, REPLAY_VISIBILITY_SECONDS)
    add_target_arguments(replay)
    add_pipeline_arguments(replay)


def _add_quarantine(commands: Any) -> None:
    quarantine = commands.add_parser("quarantine", help="list, redrive or drop quarantined records")
    actions = quarantine.add_subparsers(dest="action", required=True)
    refused = "1: an error, or a refusal (messages in flight: another reader holds some); nothing unsettled is deleted"
    interrupted = "130 (Ctrl-C), 143 (kill), 129 (terminal closed): stopped; what was not deleted is visible again"
    raw = argparse.RawDescriptionHelpFormatter
    listing = actions.add_parser(
        "list",
        help="the quarantined records, one row per record (copies merged)",
        epilog=exit_codes("0: listed (the whole queue)", refused, "2: bad arguments", interrupted),
        formatter_class=raw,
    )
    redrive = actions.add_parser(
        "redrive",
        help="settle records whose source item was fixed, and apply records valid under the current spec "
        "(docs/runbook.md, 'Redrive')",
        epilog=exit_codes(
            "0: every record settled", refused, "2: a record kept (the table says why), or bad arguments", interrupted
        ),
        formatter_class=raw,
    )
    redrive.add_argument(
        "--source-fixed",
        action="store_true",
        help="you fixed the source items: settle truncated records (which kept no image) whose item is now valid",
    )
    redrive.add_argument("--dry-run", action="store_true", help="say what would be settled, applied and kept")
    drop = actions.add_parser(
        "drop",
        help="delete the records older than --older-than, and list them",
        epilog=exit_codes("0: dropped (each listed before it was deleted)", refused, "2: bad arguments", interrupted),
        formatter_class=raw,
    )
    drop.add_argument("--older-than", type=duration, required=True, help="an age such as 7d, 12h or 30m")
    drop.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    for action in (listing, redrive, drop):
        _add_visibility(action, QUARANTINE_VISIBILITY_SECONDS)
        add_target_arguments(action)
        add_pipeline_arguments(action)


class Terminated(KeyboardInterrupt):
    """``kill`` (SIGTERM) or a closed terminal (SIGHUP): stop as on Ctrl-C, so every command's cleanup runs
    (a queue command makes what it holds visible again) instead of the process ending where it stands."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def _stopped_like_ctrl_c() -> Iterator[None]:
    """While a command runs, SIGTERM and SIGHUP raise ``Terminated``; the handlers before are put back after.
    Only the main thread may set handlers (a command run from another thread keeps the defaults)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise Terminated(signum)

    before = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def exit_codes(*codes: str) -> str:
    """A command's exit codes, for the end of its --help."""
    return "exit codes:\n" + "\n".join(f"  {code}" for code in codes)


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo" and not args.watch and (args.seconds is not None or args.speed != 1):
        parser.error("demo: --seconds and --speed need --watch")
    if args.command == "demo" and args.watch and args.verbose:
        parser.error("demo: --verbose is not for --watch (its live view redraws the screen)")
    console = console or Console(emoji=False)  # keys and reasons are data: "S:new:" must not print as an emoji
    try:
        with _stopped_like_ctrl_c():
            return _run(args, console)
    except Terminated as stop:
        return 128 + stop.signum
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the output's reader went away (`... | head`): nothing more can be shown
        return 1
    except EXPECTED_ERRORS as error:
        if args.debug:
            raise
        console.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
        return 1


def _run(args: argparse.Namespace, console: Console) -> int:
    if args.command == "demo":
        if args.watch:
            from .local.watch import run_watch

            run_watch(console, seconds=args.seconds, speed=args.speed)
        else:
            from .local.demo import run_demo

            run_demo(console, verbose=args.verbose)
        return 0
    if args.command == "emulator":
        from .local.emulator_command import run_emulator

        run_emulator(args.port, console, deny_writes=args.deny_writes, verbose=args.verbose)
        return 0
    target = resolve_target(args)
    if args.command == "load":
        from .load_command import run_load

        summary = run_load(target, args.file, args.strict, console)
        return 1 if summary.rejected else 0
    if args.command == "reconcile":
        from .reconcile_command import run_reconcile

        report = run_reconcile(target, args.repair, args.segments, console, args.key, args.keys_from)
        if args.repair:
            return 2 if report.skipped_changed else 0
        return 2 if report.drifts or report.unstorable else 0
    if args.command == "replay":
        from .replay_command import run_replay

        run = run_replay(target, console, args.message, args.dry_run, args.drop_unreplayable, args.visibility_timeout)
        return 0 if run.settled else 2
    if args.command == "quarantine":
        from .quarantine_command import run_quarantine

        settled = run_quarantine(
            target,
            console,
            args.action,
            older_than=getattr(args, "older_than", None),
            source_fixed=getattr(args, "source_fixed", False),
            dry_run=getattr(args, "dry_run", False),
            visibility_timeout=args.visibility_timeout,
        )
        return 0 if settled else 2
    if args.command == "query":
        from .query_command import run_query

        return run_query(target, args.values, args.first, args.last, console)
    from .backfill_command import run_backfill

    run_backfill(target, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
