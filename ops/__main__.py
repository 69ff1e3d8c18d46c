"""The operator's entry point: ``stream-aggregator COMMAND`` installed, ``python -m ops COMMAND`` in a checkout.

It only dispatches: each command's module owns its options, its help and its exit codes
(``add_parser``) and how it runs (``main``). Here is what every command shares: one line for an
expected error, a traceback only for a bug (or with --debug), and SIGTERM and SIGHUP handled as
Ctrl-C is, so every command's cleanup runs.

argparse rather than typer: it is in the standard library, the commands are few and their
options plain, and one dependency fewer is one thing fewer to break; rich does the tables,
progress bars and the live view.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape

from . import PROG, backfill, load, quarantine, query, reconcile, replay
from ._lambda_code import HandlerError
from .errors import EXIT_ERROR, OpsError
from .local import commands as local_commands
from .text import wants_json

EXPECTED_ERRORS = (OpsError, HandlerError, ClientError, BotoCoreError, OSError)
"""What a command can meet in normal use and says in one line: our refusals, AWS's errors, the file
system's. Anything else (a bare ValueError, a KeyError) is a bug and keeps its traceback."""

PIPED_WIDTH = 100_000
"""Columns of a console that is not a terminal: wide enough that no table cell is ever cut."""
COMMANDS: tuple[ModuleType, ...] = (local_commands, load, reconcile, backfill, replay, quarantine, query)
"""Each adds its parsers with ``add_parser(subparsers)``, setting ``run``, the function that runs it."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="StreamAggregator's local and operator tools")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error, not just its message")
    parser.add_argument("--version", action=VersionAction, help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


class VersionAction(argparse.Action):
    """``--version``: the component's version (``components/_version.py``), imported only when asked for, since
    importing ``components`` brings in pulumi, which no other command needs."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        from ._lambda_code import package_version

        print(f"{parser.prog} {package_version()}")  # on stdout, as argparse's own version action prints it
        parser.exit()


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


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = console or _console(wants_json(args))
    try:
        with _stopped_like_ctrl_c():
            return _run(args, console)
    except Terminated as stop:
        return 128 + stop.signum
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the output's reader went away (`... | head`): nothing more can be shown
        return EXIT_ERROR
    except EXPECTED_ERRORS as error:
        if args.debug:
            raise
        console.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
        return EXIT_ERROR


def _console(json_on_stdout: bool) -> Console:
    """Where the tables and notes go: stdout, or stderr when stdout carries ``--output json``.

    Piped or redirected, rich would lay tables out in 80 columns and cut shard IDs, keys and reasons
    to "…"; so a stream that is not a terminal gets no width limit, and each row stays one line that
    grep and a file keep whole. Emoji codes are off: keys and reasons are data, and "S:new:" must not
    print as an emoji."""
    stream = sys.stderr if json_on_stdout else sys.stdout
    width = None if stream.isatty() else PIPED_WIDTH
    return Console(emoji=False, stderr=json_on_stdout, width=width)


def _run(args: argparse.Namespace, console: Console) -> int:
    run: Callable[[argparse.Namespace, Console], int] = args.run
    return run(args, console)


if __name__ == "__main__":
    sys.exit(main())
