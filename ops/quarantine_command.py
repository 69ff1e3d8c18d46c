"""`quarantine list | redrive | drop`: the quarantine queue, one row per record, copies merged.

Redelivery can quarantine one record twice, so messages are merged on stream ARN + sequence
number, and every copy is deleted together once the record is settled. What redrive may do with
a record follows from what the handler did with it (ops.quarantine_plan, docs/runbook.md).

Kept apart from argument parsing (__main__.py) so the tests call it directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from handler.attributes import client_value
from handler.errors import InvalidImage
from handler.outcome import Disposition
from handler.position import foreign_stream

from .describe import age_text, key_text
from .engine import apply_records, engine_for
from .errors import CommandError
from .quarantine_plan import (
    SUPERSEDED_NOTE,
    Action,
    Decision,
    MessageError,
    QuarantinedRecord,
    age_seconds,
    needs_source_item,
    quarantined_record,
    redrive_decision,
    written_again,
)
from .queue import QueueMessage, QueueReader
from .schema import check_tables
from .stream_events import wire_image
from .targets import Target

REASON_WIDTH = 70


@dataclass
class Entry:
    """One quarantined record and the messages that hold it (or one message nobody can read)."""

    record: QuarantinedRecord | None
    messages: list[QueueMessage] = field(default_factory=list)
    problem: str | None = None

    def age(self, now: float) -> float | None:
        sent = min((m.sent_at for m in self.messages if m.sent_at is not None), default=None)
        return age_seconds(self.record.created_at if self.record else None, sent, now)

    @property
    def key(self) -> str:
        return key_text(self.record.keys) if self.record else "-"

    @property
    def reason(self) -> str:
        text = self.record.reason if self.record else f"unreadable: {self.problem}"
        return text if len(text) <= REASON_WIDTH else text[: REASON_WIDTH - 1] + "…"


@dataclass
class Settled:
    """What a redrive or drop did: the rows to show and the messages to delete."""

    rows: list[tuple[Entry, str, str]] = field(default_factory=list)
    """(entry, outcome, note)."""
    delete: list[QueueMessage] = field(default_factory=list)
    kept: int = 0


def run_quarantine(
    target: Target,
    console: Console,
    action: str,
    older_than: float | None = None,
    source_fixed: bool = False,
    dry_run: bool = False,
    visibility_timeout: int = 300,
    clock: Callable[[], float] = time.time,
) -> bool:
    """Returns whether every record was settled (``list`` and ``drop`` always are)."""
    reader = QueueReader(target.client("sqs"), target.queue_url("quarantine_queue_url"), visibility_timeout)
    messages = reader.receive_all()
    entries = merged(messages)
    now = clock()
    deleted: set[str] = set()
    try:
        if action == "list":
            console.print(_list_table(entries, now))
            console.print(f"{len(entries)} quarantined record(s) in {len(messages)} message(s)")
            return True
        if action == "drop":
            if older_than is None:
                raise CommandError("drop needs --older-than")
            result = _drop(entries, older_than, now, dry_run)
        else:
            result = _redrive(target, entries, now, source_fixed, dry_run)
        if not dry_run:
            reader.delete(result.delete)
            deleted = {m.message_id for m in result.delete}
        _show(console, action, result, now, dry_run)
        return result.kept == 0
    finally:
        reader.release(m for m in messages if m.message_id not in deleted)


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


def _redrive(target: Target, entries: list[Entry], now: float, source_fixed: bool, dry_run: bool) -> Settled:
    check_tables(target.client("dynamodb"), target.spec, target.source_table, target.aggregate_table)
    result = Settled()
    to_apply: list[tuple[Entry, Decision]] = []
    later = written_again(entry.record for entry in entries if entry.record)
    table_arn = target.source_table_arn()
    for entry in entries:
        decision = _decide(target, entry, now, source_fixed, later, table_arn)
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
    _apply(target, to_apply, result)
    return result


def _decide(
    target: Target, entry: Entry, now: float, source_fixed: bool, later: set[tuple[str, str]], table_arn: str
) -> Decision:
    record = entry.record
    if record is None:
        return Decision(Action.KEEP, "not a message the handler wrote: look at it, then drop it")
    foreign = foreign_stream(record.stream_arn, table_arn)
    if foreign:  # its item is not in this source table: it would look deleted, and be settled
        return Decision(Action.KEEP, f"a record {foreign}: are the tables and the queue of one stack?")
    current = _source_item(target, record) if needs_source_item(record) else None
    return redrive_decision(target.spec, record, current, entry.age(now), source_fixed, record.identity in later)


def _source_item(target: Target, record: QuarantinedRecord) -> dict[str, Any] | None:
    """The source item now, in the stream's wire format; None when it no longer exists."""
    try:
        key = {name: client_value(value) for name, value in record.keys.items()}
    except InvalidImage:
        return None
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
    for column in ("key", "event", "reason", "age", "copies"):
        table.add_column(column, justify="right" if column in ("age", "copies") else "left")
    for entry in entries:
        age = entry.age(now)
        table.add_row(
            escape(entry.key),
            entry.record.event_name if entry.record else "-",
            escape(entry.reason),
            age_text(age) if age is not None else "?",
            str(len(entry.messages)),
        )
    return table


def _show(console: Console, action: str, result: Settled, now: float, dry_run: bool) -> None:
    title = f"quarantine {action}" + (" (dry run: nothing written or deleted)" if dry_run else "")
    table = Table(title=title)
    for column in ("key", "reason", "age", "outcome", "note"):
        table.add_column(column, justify="right" if column == "age" else "left")
    for entry, outcome, note in result.rows:
        age = entry.age(now)
        table.add_row(
            escape(entry.key), escape(entry.reason), age_text(age) if age is not None else "?", outcome, escape(note)
        )
    console.print(table)
    verb = "would delete" if dry_run else "deleted"
    settled = len(result.rows) - result.kept
    what = f"{settled} record(s) dropped" if action == "drop" else f"{settled} record(s) settled, {result.kept} kept"
    console.print(f"{what}; {verb} {len(result.delete)} message(s) from the quarantine queue")
