"""`load FILE`: validate the whole file, then write it (nothing at all under --strict if a row is bad).

Kept apart from argument parsing (__main__.py) so the tests call it directly. Messages name the
file and line like a compiler's, ``path:line: reason``, and are escaped: a row is user data, and
rich would read ``[/x]`` in it as markup.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from .load_plan import plan_load
from .loader import LoadSummary, write_items
from .rows import RowError, UnreadableFile
from .schema import check_tables, refuse_same_table
from .targets import Target
from .textfile import InputFileError, read_text


def run_load(target: Target, path: Path, strict: bool, console: Console) -> LoadSummary:
    """Validate every row first; then load the good ones (none at all under --strict if any is bad)."""
    text = read_text(path)
    dynamodb = target.client("dynamodb")
    refuse_same_table(target.source_table, target.aggregate_table)
    check_tables(dynamodb, target.spec, target.source_table, None, string_keys=True)
    try:
        plan = plan_load(target.spec, text, "csv" if path.suffix.lower() == ".csv" else "jsonl", strict)
    except UnreadableFile as error:
        raise InputFileError(f"{path}:{error.line}: {error.reason}") from None
    if not (plan.rows or plan.errors or plan.warnings):
        raise InputFileError(f"{path}: no rows to load (an empty file, or a CSV header alone)")
    _print_rows(console, path, plan.warnings, "yellow")
    _print_rows(console, path, plan.errors, "red")
    summary = LoadSummary(rejected=plan.errors, skipped_duplicates=len(plan.warnings))
    if plan.errors and strict:
        console.print(f"--strict: {len(plan.errors)} bad row(s), nothing loaded")
        return summary
    written = 0
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"loading {target.source_table}", total=len(plan.rows))

            def advance(count: int) -> None:
                nonlocal written
                written += count
                progress.advance(task, count)

            summary.loaded = write_items(dynamodb, target.source_table, plan.rows, advance)
    except KeyboardInterrupt:
        console.print(
            f"interrupted: {written} of {len(plan.rows)} row(s) are in {target.source_table}, and perhaps the batch "
            "being written; loading the file again writes the same items again, which counts nothing twice"
        )
        raise
    skipped = f", {summary.skipped_duplicates} duplicate row(s) skipped" if summary.skipped_duplicates else ""
    console.print(f"loaded {summary.loaded} row(s), rejected {len(plan.errors)}{skipped}")
    return summary


def _print_rows(console: Console, path: Path, problems: list[RowError], colour: str) -> None:
    for problem in problems:
        console.print(f"[{colour}]{escape(str(path))}:{problem.line}[/]: {escape(problem.reason)}", soft_wrap=True)
