"""`quarantine list | redrive | drop`: the quarantine queue, one row per record, copies merged.

Redelivery can quarantine one record twice, so messages are merged on stream ARN + sequence
number, and every copy is deleted together once the record is settled. What redrive may do with
a record follows from what the handler did with it (ops.quarantine_plan, docs/runbook.md).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from ._lambda_code import Disposition, foreign_stream, key_value
from .engine import apply_records, engine_for
from .errors import EXIT_ATTENTION, EXIT_OK, CommandError, exit_codes
from .quarantine_plan import (
    SUPERSEDED_NOTE,
    Action,
    Decision,
    MessageError,
    QuarantinedRecord,
    age_seconds,
    aggregate_keys,
    copies,
    key_problem,
    needs_source_item,
    quarantined_record,
    redrive_decision,
    written_again,
)
from .queue import QUARANTINE_VISIBILITY_SECONDS, QueueMessage, QueueReader, add_visibility_argument
from .stream import wire_image
from .tables import check_tables, key_schema
from .targets import Target, add_pipeline_arguments, add_target_arguments, duration, resolve_target
from .text import add_output_argument, age_text, cell, print_json, wants_json


@dataclass
class Entry:
    """One quarantined record and the messages that hold it (or one message nobody can read)."""

    record: QuarantinedRecord | None
    messages: list[QueueMessage] = field(default_factory=list)
    problem: str | None = None
    aggregates: list[str] = field(default_factory=list)
    """The aggregate keys its item counts toward under the spec (``quarantine_plan.aggregate_keys``)."""

    @property
    def aggregate(self) -> str:
        return ", ".join(self.aggregates) or "-"

    def age(self, now: float) -> float | None:
        sent = min((m.sent_at for m in self.messages if m.sent_at is not None), default=None)
        return age_seconds(self.record.created_at if self.record else None, sent, now)

    @property
    def key(self) -> str:
        return self.record.key_text if self.record else "-"

    @property
    def reason(self) -> str:
        return self.record.reason if self.record else f"unreadable: {self.problem}"


@dataclass
class Settled:
    """What a redrive or drop did: the rows to show and the messages to delete."""

    rows: list[tuple[Entry, str, str]] = field(default_factory=list)
    """(entry, outcome, note)."""
    delete: list[QueueMessage] = field(default_factory=list)
    kept: int = 0

    def rows_dropped(self) -> list[Entry]:
        deleting = {message.message_id for message in self.delete}
        return [entry for entry, _, _ in self.rows if any(m.message_id in deleting for m in entry.messages)]


IN_FLIGHT_RISK = (
    "Listing, redriving or dropping the rest now would show or settle part of the queue: redrive could apply a "
    "record whose newer copy is held, and count its item twice"
)


def run_quarantine(
    target: Target,
    console: Console,
    action: str,
    older_than: float | None = None,
    source_fixed: bool = False,
    dry_run: bool = False,
    visibility_timeout: int = QUARANTINE_VISIBILITY_SECONDS,
    clock: Callable[[], float] = time.time,
    as_json: bool = False,
) -> bool:
    """Returns whether every record was settled (``list`` and ``drop`` always are).

    Refuses while another reader holds messages, before receiving and again after (``ops.queue``).
    Everything a run shows is rendered before any message is deleted, and every message not deleted is
    visible again when it ends, however it ends.
    """
    if action == "drop" and older_than is None:
        raise CommandError("drop needs --older-than")
    queue_url = target.queue_url("quarantine_queue_url")
    reader = QueueReader(target.client("sqs"), queue_url, visibility_timeout, name="the quarantine queue")
    reader.refuse_in_flight("quarantine command", QUARANTINE_VISIBILITY_SECONDS, IN_FLIGHT_RISK)
    with reader.holding():
        messages = reader.receive_all()
        reader.refuse_in_flight("quarantine command", QUARANTINE_VISIBILITY_SECONDS, IN_FLIGHT_RISK)
        entries = merged(messages)
        for entry in entries:
            entry.aggregates = aggregate_keys(target.spec, entry.record) if entry.record else []
        now = clock()
        if action == "list":
            console.print(_list_table(entries, now))
            console.print(f"{len(entries)} quarantined record(s) in {len(messages)} message(s)")
            if as_json:
                print_json(list_document(entries, now))
            return True
        if action == "drop":
            assert older_than is not None  # checked above
            result = _drop(entries, older_than, now, dry_run)
        else:
            result = _redrive(target, reader, entries, now, source_fixed, dry_run)
        _show(console, action, result, now, dry_run)  # shown before anything is deleted: drop's list is the record
        deleted = 0 if dry_run else reader.delete(result.delete)
        _summary(console, action, result, deleted, dry_run)
        return result.kept == 0


def merged(messages: list[QueueMessage]) -> list[Entry]:
    """One entry per record (stream ARN + sequence number), oldest first; unreadable messages alone.

    Copies with different reasons are decided by the one that promises least about what was applied."""
    entries: dict[Any, Entry] = {}
    for message in messages:
        try:
            record = quarantined_record(message.body)
        except MessageError as error:
            entries[message.message_id] = Entry(record=None, messages=[message], problem=str(error))
            continue
        entry = entries.setdefault(record.identity, Entry(record=record))
        if entry.record and not copies(entry.record, record):  # settling both would delete keys never shown
            problem = "its Keys or event differ from a copy of the same record"
            entries[message.message_id] = Entry(record=None, messages=[message], problem=problem)
            continue
        if entry.record and entry.record.invalid_image_only and not record.invalid_image_only:
            # The handler quarantines a record for its bad image and again if its valid part was then
            # refused (or stale): that part was not applied, so the copy saying so decides for every copy.
            entry.record = record
        entry.messages.append(message)
    return sorted(entries.values(), key=lambda e: (e.record is None, e.record.position if e.record else ""))


def _drop(entries: list[Entry], older_than: float, now: float, dry_run: bool) -> Settled:
    """Every record older than ``older_than`` (by its change's time, else by when SQS got it)."""
    result = Settled()
    for entry in entries:
        age = entry.age(now)
        if age is not None and age > older_than:
            result.rows.append((entry, "would drop" if dry_run else "dropped", f"older than {age_text(older_than)}"))
            result.delete.extend(entry.messages)
    return result


def _redrive(
    target: Target, reader: QueueReader, entries: list[Entry], now: float, source_fixed: bool, dry_run: bool
) -> Settled:
    check_tables(target.client("dynamodb"), target.spec, target.source_table, target.aggregate_table)
    result = Settled()
    to_apply: list[tuple[Entry, Decision]] = []
    later = written_again(entry.record for entry in entries if entry.record)
    table_arn = target.source_table_arn()
    key_types = dict(key_schema(target.client("dynamodb"), target.source_table).values())
    for entry in entries:
        decision = _decide(target, entry, now, source_fixed, later, table_arn, key_types)
        if decision.action is Action.APPLY:
            to_apply.append((entry, decision))
        elif decision.action is Action.SETTLE:
            result.rows.append((entry, decision.action.value, decision.note))
            result.delete.extend(entry.messages)
        else:
            result.rows.append((entry, decision.action.value, decision.note))
            result.kept += 1
    if dry_run:
        result.rows.extend((entry, "would apply", decision.note) for entry, decision in to_apply)
        return result
    unseen = _unseen(reader, to_apply)
    if unseen:
        note = (
            f"not applied: the queue holds {unseen} message(s) this run does not (quarantined since it began, "
            "or no longer held by it), and a newer record of the item may be among them; redrive again"
        )
        result.rows.extend((entry, "kept: queue changed", note) for entry, _ in to_apply)
        result.kept += len(to_apply)
        return result
    _apply(target, to_apply, result)
    return result


def _unseen(reader: QueueReader, to_apply: list[tuple[Entry, Decision]]) -> int:
    """Messages in the queue that this run does not hold, checked just before applying: a record is applied
    only when every later record of its item that the queue holds was seen (``written_again``)."""
    if not to_apply:
        return 0
    lost = reader.keep_all_hidden(message for entry, _ in to_apply for message in entry.messages)
    return max(len(lost), reader.unseen())


def _decide(
    target: Target,
    entry: Entry,
    now: float,
    source_fixed: bool,
    later: set[tuple[str, str]],
    table_arn: str,
    key_types: Mapping[str, str],
) -> Decision:
    record = entry.record
    if record is None:
        return Decision(Action.KEEP, "not a message the handler wrote: look at it, then drop it")
    foreign = foreign_stream(record.stream_arn, table_arn)
    if foreign:  # its item is not in this source table: it would look deleted, and be settled
        return Decision(Action.KEEP, f"a record {foreign}: are the tables and the queue of one stack?")
    problem = key_problem(target.spec, key_types, record) if needs_source_item(record) else None
    if problem:  # reading the item by them would fail (and end the run), or find another item
        return Decision(Action.KEEP, f"its Keys do not name an item of the source table: {problem}")
    current = _source_item(target, record) if needs_source_item(record) else None
    return redrive_decision(target.spec, record, current, entry.age(now), source_fixed, record.identity in later)


def _source_item(target: Target, record: QuarantinedRecord) -> dict[str, Any] | None:
    """The source item now, in the stream's wire format; None when it no longer exists.

    The keys were checked as key values when the message was read (``quarantined_record``)."""
    key = {name: key_value(value, name) for name, value in record.keys.items()}
    item = target.client("dynamodb").get_item(TableName=target.source_table, Key=key, ConsistentRead=True).get("Item")
    return wire_image(item) if item else None


def _apply(target: Target, to_apply: list[tuple[Entry, Decision]], result: Settled) -> None:
    """Apply the records in stream order (an item's records must come in order), through the engine."""
    if not to_apply:
        return
    engine = engine_for(target)
    ordered = sorted(to_apply, key=lambda pair: pair[0].record.position if pair[0].record else "")
    applied = apply_records(engine, [dict(entry.record.record) for entry, _ in ordered if entry.record])
    for index, (entry, decision) in enumerate(ordered):
        disposition = applied.dispositions[index] if index < len(applied.dispositions) else None
        outcome, note, settled = _applied_outcome(disposition, decision, applied.error)
        result.rows.append((entry, outcome, note))
        if settled:
            result.delete.extend(entry.messages)
        else:
            result.kept += 1


def _applied_outcome(disposition: Disposition | None, decision: Decision, error: str | None) -> tuple[str, str, bool]:
    """(outcome, note, settled) for a record the engine was given."""
    if disposition is Disposition.APPLIED:
        return "applied", decision.note, True
    if disposition is Disposition.NO_CHANGE:
        return "settled: no change", "changes no aggregate under the current spec", True
    if disposition is Disposition.QUARANTINED:
        return "quarantined again", "the engine quarantined it anew with the current reason (old copies deleted)", True
    if disposition is Disposition.ALREADY_APPLIED:
        return "kept: superseded", SUPERSEDED_NOTE, False
    if disposition is Disposition.FAILED:
        return "kept: failed", f"not applied: {error}", False
    return "kept: not attempted", "an earlier record failed; redrive again once the cause is fixed", False


def _list_table(entries: list[Entry], now: float) -> Table:
    table = Table(title="quarantined records")
    for column in ("key", "aggregate", "event", "reason", "age", "copies"):
        table.add_column(column, justify="right" if column in ("age", "copies") else "left", overflow="fold")
    for entry in entries:
        age = entry.age(now)
        table.add_row(
            cell(entry.key),
            cell(entry.aggregate),
            cell(entry.record.event_name) if entry.record else "-",
            cell(entry.reason),
            age_text(age) if age is not None else "?",
            str(len(entry.messages)),
        )
    return table


def list_document(entries: list[Entry], now: float) -> dict[str, Any]:
    """`quarantine list --output json`: every record whole, as the table shows it, plus what identifies it."""
    records = []
    for entry in entries:
        record = entry.record
        records.append(
            {
                "key": entry.key if record else None,
                "aggregate_keys": list(entry.aggregates),
                "event": record.event_name if record else None,
                "reason": entry.reason,
                "age_seconds": entry.age(now),
                "copies": len(entry.messages),
                "stream_arn": record.stream_arn if record else None,
                "sequence_number": record.sequence_number if record else None,
                "readable": record is not None,
                "message_ids": [message.message_id for message in entry.messages],
            }
        )
    return {"records": records, "messages": sum(len(entry.messages) for entry in entries)}


def _show(console: Console, action: str, result: Settled, now: float, dry_run: bool) -> None:
    """The rows, rendered whole before printing; an unreadable message to be dropped is shown as it came."""
    title = f"quarantine {action}" + (" (dry run: nothing written or deleted)" if dry_run else "")
    table = Table(title=title)
    for column in ("key", "aggregate", "reason", "age", "outcome", "note"):
        # folded, never cut to "…" (80 columns when piped): drop's list is the record of what to reconcile
        table.add_column(column, justify="right" if column == "age" else "left", overflow="fold")
    for entry, outcome, note in result.rows:
        age = entry.age(now)
        shown_age = age_text(age) if age is not None else "?"
        table.add_row(cell(entry.key), cell(entry.aggregate), cell(entry.reason), shown_age, outcome, cell(note))
    bodies = [
        f"message {cell(message.message_id)} (unreadable) as it came: {cell(message.body)}"
        for entry in result.rows_dropped()
        if entry.record is None
        for message in entry.messages
    ]
    console.print(table)
    for line in bodies:
        console.print(line, soft_wrap=True, highlight=False)


def _summary(console: Console, action: str, result: Settled, deleted: int, dry_run: bool) -> None:
    settled = len(result.rows) - result.kept
    what = f"{settled} record(s) dropped" if action == "drop" else f"{settled} record(s) settled, {result.kept} kept"
    if dry_run:
        console.print(f"{what}; would delete {len(result.delete)} message(s) from the quarantine queue")
        return
    console.print(f"{what}; deleted {deleted} message(s) from the quarantine queue")
    if deleted < len(result.delete):
        console.print(f"{len(result.delete) - deleted} message(s) were no longer this run's to delete: run again")


def add_parser(subparsers: Any) -> None:
    quarantine = subparsers.add_parser("quarantine", help="list, redrive or drop quarantined records")
    actions = quarantine.add_subparsers(dest="action", required=True)
    refused = "an error, or a refusal (messages in flight: another reader holds some); nothing unsettled is deleted"
    interrupted = "; what was not deleted is visible again"
    raw = argparse.RawDescriptionHelpFormatter
    listing = actions.add_parser(
        "list",
        help="the quarantined records, one row per record (copies merged)",
        epilog=exit_codes("listed (the whole queue)", refused, stopped=interrupted),
        formatter_class=raw,
    )
    redrive = actions.add_parser(
        "redrive",
        help="settle records whose source item was fixed, and apply records valid under the current spec "
        "(docs/runbook.md, 'Redrive')",
        epilog=exit_codes(
            "every record settled", refused, found="a record kept (the table says why)", stopped=interrupted
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
        epilog=exit_codes("dropped (each listed before it was deleted)", refused, stopped=interrupted),
        formatter_class=raw,
    )
    drop.add_argument("--older-than", type=duration, required=True, help="an age such as 7d, 12h or 30m")
    drop.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    add_output_argument(listing)
    for action in (listing, redrive, drop):
        add_visibility_argument(action, QUARANTINE_VISIBILITY_SECONDS)
        add_target_arguments(action)
        add_pipeline_arguments(action)
        action.set_defaults(run=main)


def main(args: argparse.Namespace, console: Console) -> int:
    settled = run_quarantine(
        resolve_target(args),
        console,
        args.action,
        older_than=getattr(args, "older_than", None),
        source_fixed=getattr(args, "source_fixed", False),
        dry_run=getattr(args, "dry_run", False),
        visibility_timeout=args.visibility_timeout,
        as_json=wants_json(args),
    )
    return EXIT_OK if settled else EXIT_ATTENTION
