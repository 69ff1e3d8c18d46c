"""`replay`: its options, the run, and the read of each failed batch's range back from the shard."""

from __future__ import annotations

import argparse
import shlex
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from . import PROG
from ._lambda_code import BatchProcessor, Disposition, describe_error, foreign_stream
from .engine import apply_records, engine_for
from .errors import EXIT_ATTENTION, EXIT_OK, exit_codes
from .queue import REPLAY_VISIBILITY_SECONDS, QueueMessage, QueueReader, add_visibility_argument
from .replay_plan import (
    BatchRange,
    MessageError,
    MessageReport,
    Outcome,
    batch_range,
    failed_keys,
    in_range,
    named_keys,
    overtaken,
    range_gap,
    with_named_keys,
)
from .stream import (
    STREAMS_CLIENT_CONFIG,
    RangeExpired,
    RangeUnfinished,
    ShardReading,
    ShardSpan,
    lambda_record,
    read_shard,
)
from .tables import check_tables
from .targets import Target, add_pipeline_arguments, add_target_arguments, resolve_target
from .text import add_output_argument, cell, key_text, print_json, read_text, wants_json

# --------------------------------------------------------------------------------------------------
# `replay`: apply the batches the event source mapping gave up on, from the stream, exactly once.
#
# Each failure-queue message names a shard and a sequence range (``DDBStreamBatchInfo``), not the
# records. Replay reads that range back from the stream and applies it through the Lambda's own
# engine (ops.engine), so records already applied are skipped by their positions: replay may run
# while the mapping is live, and may run again. A message is deleted only once every record of its
# range was applied or quarantined; a range the stream no longer holds is "expired", and
# ``reconcile`` is the way out.

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

IN_FLIGHT_RISK = "Replaying the rest now could apply later batches before theirs"

RECONCILE_ADVICE = (
    f"reconcile: `{PROG} reconcile`, then `--repair` once the stream has caught up (README, "
    "'When reconcile --repair is safe')"
)


@dataclass
class ReplayRun:
    reports: list[MessageReport] = field(default_factory=list)
    deleted: int = 0
    lost: int = 0
    """Messages that became visible again before their turn (another reader may have them)."""

    @property
    def settled(self) -> bool:
        """Every message settled (none lost to another reader); a dry run counts what it would replay."""
        return not self.lost and all(r.outcome.settled or r.outcome is Outcome.WOULD_REPLAY for r in self.reports)


@dataclass
class _Group:
    """The copies of one described batch (a destination may deliver a message twice)."""

    body: str
    messages: list[QueueMessage] = field(default_factory=list)


def run_replay(
    target: Target,
    console: Console,
    message_file: Path | None = None,
    dry_run: bool = False,
    drop_unreplayable: bool = False,
    visibility_timeout: int = REPLAY_VISIBILITY_SECONDS,
) -> ReplayRun:
    failure_queue = None if message_file is not None else target.queue_url("failure_queue_url")
    target.handler_config()  # names whatever is missing before anything is read
    check_tables(target.client("dynamodb"), target.spec, target.source_table, target.aggregate_table)
    table_arn = target.source_table_arn()
    engine = None if dry_run else engine_for(target)
    streams = target.client("dynamodbstreams", config=STREAMS_CLIENT_CONFIG)
    reader = None
    groups: list[_Group] = []
    if failure_queue is None:
        groups = [_Group(read_text(message_file))] if message_file is not None else []
    else:
        reader = QueueReader(target.client("sqs"), failure_queue, visibility_timeout, name="the failure queue")
        reader.refuse_in_flight("replay", REPLAY_VISIBILITY_SECONDS, IN_FLIGHT_RISK)
    run = ReplayRun()
    # The reader releases whatever it still holds when the block ends, also on Ctrl-C or an error (even
    # one while receiving): whatever was not settled is visible to the next run at once.
    with reader.holding() if reader is not None else nullcontext():
        if reader is not None:
            groups = _grouped(reader.receive_all())
            # again: another run may have received some between the first check and this run's receiving
            reader.refuse_in_flight("replay", REPLAY_VISIBILITY_SECONDS, IN_FLIGHT_RISK)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("replaying", total=len(groups))
            stopped = False
            for group in groups:
                if stopped:  # Lambda stops a shard at a failure too: later records must not overtake it
                    run.reports.append(_not_attempted(group.body))
                    continue
                mine = [m for m in group.messages if reader is None or reader.keep_hidden(m)]
                if group.messages and not mine:
                    run.lost += len(group.messages)
                    continue
                report = _replay(group.body, table_arn, streams, engine, dry_run)
                stopped = report.outcome in (Outcome.FAILED, Outcome.UNFINISHED)
                run.reports.append(report)
                unreplayable = report.outcome in (Outcome.EXPIRED, Outcome.OVERTAKEN)
                drop = report.outcome.settled or (drop_unreplayable and unreplayable)
                if reader is not None and drop and not dry_run:
                    run.deleted += reader.delete(mine)
                    report.deleted = True
                elif reader is not None and not dry_run and report.outcome is Outcome.OVERTAKEN:
                    _write_named_keys(reader, mine, group.body, report)
                progress.advance(task)
    _show(console, run, from_file=message_file is not None, dry_run=dry_run)
    return run


def _write_named_keys(reader: QueueReader, mine: list[QueueMessage], body: str, report: MessageReport) -> None:
    """Keep the message with the keys this run named in it (``replay_plan.NAMED_FOR_RECONCILE``), so a rerun
    names these and no more. Without SendMessage, or too many keys for a message, it is kept as it came."""
    if report.named_before is not None and report.overtaken <= report.named_before:
        return
    named = with_named_keys(body, report.overtaken)
    if named is None:
        report.unmarked = "the keys are too many to write into the message: a rerun may name more"
        return
    try:
        reader.replace(mine, named)
    except (ClientError, BotoCoreError) as error:
        report.unmarked = f"the keys could not be written into the message ({describe_error(error)})"


def _grouped(messages: list[QueueMessage]) -> list[_Group]:
    """One group per described batch, in the order of their ranges; unreadable messages alone. A group's body
    carries every key its copies name for reconcile (a run stopped while replacing one leaves two)."""
    by_identity: dict[Any, _Group] = defaultdict(lambda: _Group(""))
    for message in messages:
        try:
            identity: Any = batch_range(message.body).identity
        except MessageError:
            identity = message.message_id
        group = by_identity[identity]
        group.body = group.body or message.body
        group.messages.append(message)
    for group in by_identity.values():
        named = [keys for message in group.messages if (keys := named_keys(message.body)) is not None]
        if named:
            group.body = with_named_keys(group.body, frozenset().union(*named)) or group.body
    return sorted(by_identity.values(), key=lambda g: _order(g.body))


def _order(body: str) -> tuple[int, str, int]:
    try:
        batch = batch_range(body)
    except MessageError:
        return (1, "", 0)
    return (0, batch.shard_id, batch.start)


def _not_attempted(body: str) -> MessageReport:
    try:
        return MessageReport(batch=batch_range(body), attempted=False)
    except MessageError as error:
        return MessageReport(batch=None, problem=str(error))


def _replay(
    body: str, table_arn: str, streams: DynamoDBStreamsClient, engine: BatchProcessor | None, dry_run: bool
) -> MessageReport:
    try:
        batch = batch_range(body)
    except MessageError as error:
        return MessageReport(batch=None, problem=str(error))
    report = MessageReport(batch=batch, dry_run=dry_run, named_before=named_keys(body))
    foreign = foreign_stream(batch.stream_arn, table_arn)
    if foreign:
        report.problem = f"the batch is {foreign}"
        return report
    try:
        for page in read_range(streams, batch):
            report.records_read += len(page)
            if engine is None:
                continue
            applied = apply_records(engine, page)
            report.dispositions.update(applied.dispositions)
            report.overtaken |= overtaken(batch, applied.covered)
            if applied.error is not None:
                report.failed_keys = [key_text(keys) for keys in failed_keys(page, applied.dispositions)]
                report.problem = applied.error
                break
    except RangeExpired as gone:
        # a range an earlier run read whole needs only the keys it named, whether the stream holds it or not
        report.expired = report.named_before is None
        report.problem = str(gone) if report.expired else None
    except RangeUnfinished as short:
        report.unfinished = True
        report.problem = str(short)
    if report.named_before is not None:  # an earlier run read the whole range: what covers it now came after
        report.overtaken = set(report.named_before)
    return report


def _show(console: Console, run: ReplayRun, from_file: bool, dry_run: bool) -> None:
    if not run.reports and not run.lost:
        console.print("the failure queue is empty: nothing to replay")
        return
    table = Table(title="replay" + (" (dry run: nothing written or deleted)" if dry_run else ""))
    counted = ("read", "applied", "already applied", "no change", "quarantined")
    for column in ("shard", "sequence range", *counted, "outcome"):
        # folded, never cut to "shardI…": a shard ID or sequence number is what the operator looks up
        table.add_column(column, justify="right" if column in counted else "left", overflow="fold")
    for report in run.reports:
        batch = report.batch
        counts = report.dispositions
        table.add_row(
            batch.shard_id if batch else "-",
            f"{batch.start}..{batch.end}" if batch else "-",
            str(report.records_read),
            str(counts[Disposition.APPLIED]),
            str(counts[Disposition.ALREADY_APPLIED]),
            str(counts[Disposition.NO_CHANGE]),
            str(counts[Disposition.QUARANTINED]),
            report.outcome.value,
        )
    console.print(table)
    for report in run.reports:
        note = _note(report)
        if note:
            where = f"{report.batch.shard_id} {report.batch.start}..{report.batch.end}" if report.batch else "message"
            # keys are data: a newline or a terminal escape in one is shown escaped, not acted on
            console.print(f"[bold]{escape(where)}[/]: {cell(note)}", soft_wrap=True)
    outcomes = [report.outcome for report in run.reports]
    summary = ", ".join(f"{outcomes.count(o)} {o.value}" for o in Outcome if outcomes.count(o))
    where = "" if from_file else f"; deleted {run.deleted} message(s) from the failure queue"
    console.print(f"{len(run.reports)} batch(es): {summary}{where}")
    if run.lost:
        console.print(f"{run.lost} message(s) became visible again before their turn (another reader?): run again")


def replay_document(run: ReplayRun, dry_run: bool) -> dict[str, Any]:
    """`replay --output json`: each batch as the table and its note show it, with the keys to reconcile."""
    batches = []
    for report in run.reports:
        batch, counts = report.batch, report.dispositions
        batches.append(
            {
                "shard_id": batch.shard_id if batch else None,
                "first_sequence_number": str(batch.start) if batch else None,
                "last_sequence_number": str(batch.end) if batch else None,
                "records_read": report.records_read,
                "applied": counts[Disposition.APPLIED],
                "already_applied": counts[Disposition.ALREADY_APPLIED],
                "no_change": counts[Disposition.NO_CHANGE],
                "quarantined": counts[Disposition.QUARANTINED],
                "outcome": report.outcome.value,
                "settled": report.outcome.settled,
                "message_deleted": report.deleted,
                "keys_to_reconcile": sorted(report.overtaken),
                "failed_keys": list(report.failed_keys),
                "note": _note(report),
            }
        )
    return {"dry_run": dry_run, "batches": batches, "deleted": run.deleted, "lost": run.lost, "settled": run.settled}


def reconcile_keys_advice(keys: Iterable[str]) -> str:
    """The command that reconciles just ``keys``, quoted for a shell, so it can be pasted as printed."""
    named = " ".join(f"--key {shlex.quote(key)}" for key in sorted(keys))
    return (
        f"reconcile them: `{PROG} reconcile {named}` (with this command's table options), then the same "
        "with `--repair` once the stream has caught up (README, 'When reconcile --repair is safe')"
    )


def _kept_or_dropped(report: MessageReport) -> str:
    if report.deleted:
        return "the message was deleted (--drop-unreplayable): reconcile first if you have not"
    return "the message is kept until then (`replay --drop-unreplayable` deletes it)"


def _note(report: MessageReport) -> str | None:
    outcome = report.outcome
    if outcome is Outcome.EXPIRED:
        done = f" ({report.records_read} record(s) it still held were applied)" if report.records_read else ""
        return (
            f"the stream no longer holds this range: {report.problem}{done}. The keys it could not replay are not "
            f"known (the message names none): {RECONCILE_ADVICE}; {_kept_or_dropped(report)}"
        )
    if outcome is Outcome.OVERTAKEN:
        keys = ", ".join(sorted(report.overtaken))
        unmarked = f" ({report.unmarked})" if report.unmarked else ""
        return (
            f"applied, but later records of some items were applied before this range, so whether their records "
            f"here were applied cannot be known; keys {keys}: {reconcile_keys_advice(report.overtaken)}; "
            f"{_kept_or_dropped(report)}"
            f"{unmarked}"
        )
    if outcome is Outcome.NOT_ATTEMPTED:
        return "kept: an earlier batch failed, and a later one must not overtake it; replay again once it is fixed"
    if outcome is Outcome.UNFINISHED:
        return (
            f"kept: {report.problem}. DynamoDB says reaching records can take several calls; the records are "
            "still there (the range's first one was read). Replay again; later batches were not attempted"
        )
    if outcome is Outcome.FAILED:
        keys = ", ".join(report.failed_keys)  # every one: the note is the record of what to fix
        return f"not settled, kept: {report.problem}; records not applied: {keys}. Fix the cause and replay again"
    if outcome is Outcome.UNREADABLE:
        return f"kept: {report.problem}"
    return None


# --------------------------------------------------------------------------------------------------
# Reading one batch's records back out of a DynamoDB stream, with the one shard reader (ops.stream).
#
# The read starts AT the range's first record and stops at the first record at or past its last.
# Trimmed records or a shard that is gone make the range "expired"; a closed shard that ends short of
# the range, or an open one that answers a few empty pages in a row before the range began, too.
# Empty pages do not always mean the end: once the range's first record was read, its last one
# exists too (it reached Lambda, and a shard is trimmed from its oldest record on), so the reader
# reads through many more empty pages, and an open shard that still stops short is "unfinished"
# (read it again), never "expired".

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.type_defs import RecordTypeDef

__all__ = ["RangeExpired", "RangeUnfinished", "read_range"]


def read_range(
    client: DynamoDBStreamsClient,
    batch: BatchRange,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[list[Mapping[str, Any]]]:
    """The batch's records in stream order, as Lambda delivers them, a page at a time.

    Raises
    ------
    RangeExpired
        When DynamoDB says the records were trimmed or the shard is gone, or the shard ran out
        before the range's last record (after yielding what it did hold).
    RangeUnfinished
        When an open shard that held the range's first record answered only empty pages before
        its last one (after yielding what it read).
    """
    reading = ShardReading()
    span = ShardSpan(batch.stream_arn, batch.shard_id, start=batch.start, end=batch.end)
    for records in read_shard(client, span, reading, sleep):
        wanted = in_range(batch, records)
        if wanted:
            yield [lambda_record(cast("RecordTypeDef", record), batch.stream_arn, batch.region) for record in wanted]
    gap = range_gap(batch, reading.first_seen, reading.last_seen)
    if gap and reading.stalled and reading.first_seen == batch.start:
        raise RangeUnfinished(
            f"the open shard answered {reading.empty} empty pages in a row after {reading.last_seen}, before the "
            f"range's last record {batch.end}"
        )
    if gap:
        raise RangeExpired(gap)


REPLAY_HELP = (
    "read each failed batch the failure queue describes back from the stream and apply it through the engine "
    "(already-applied records are skipped, so it is safe while the mapping runs and when repeated); a message "
    "is deleted once its whole range is applied or quarantined. Replay is a second reader of the shard beside "
    "the mapping: DynamoDB allows two at once, so run one replay at a time"
)


def add_parser(subparsers: Any) -> None:
    replay = subparsers.add_parser(
        "replay",
        help=REPLAY_HELP,
        description=REPLAY_HELP,
        epilog=exit_codes(
            "every message settled (applied, already applied or quarantined) and deleted; with --dry-run: every "
            "range read and replayable",
            "an error or a refusal told in one line (messages in flight: another reader holds some); "
            "what was not settled is kept",
            found="some message not settled (expired, needs reconcile, failed, incomplete read, unreadable: kept "
            "unless --drop-unreplayable)",
            stopped="; what was not deleted is visible again",
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
    add_visibility_argument(replay, REPLAY_VISIBILITY_SECONDS)
    add_output_argument(replay)
    add_target_arguments(replay)
    add_pipeline_arguments(replay)
    replay.set_defaults(run=main)


def main(args: argparse.Namespace, console: Console) -> int:
    target = resolve_target(args)
    run = run_replay(target, console, args.message, args.dry_run, args.drop_unreplayable, args.visibility_timeout)
    if wants_json(args):
        print_json(replay_document(run, args.dry_run))
    return EXIT_OK if run.settled else EXIT_ATTENTION
