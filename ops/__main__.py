"""`python -m ops COMMAND`: the operator's entry point.

argparse rather than typer: it is in the standard library, and the commands are few; rich does
the tables and progress.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops", description="StreamAggregator's local and operator tools")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the invoice aggregator end to end on an embedded emulator")
    args = parser.parse_args(argv)
    console = Console()
    try:
        if args.command == "demo":
            from .demo import run_demo

            run_demo(console)
    except Exception as error:  # one clear line for the operator, not a traceback
        console.print(f"[red]error:[/] {type(error).__name__}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
