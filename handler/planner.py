"""Turning a batch of raw stream records into per-key plans and quarantine entries: pure, no AWS.

The ordering assumption lives here, and it is only the one AWS documents: the stream records of
one *item* (partition and sort key) appear in the order of its modifications, and Lambda keeps
that order at any ParallelizationFactor. Records of different items, even of one partition key,
may come in any order and in concurrent batches. So within a batch an item's positions must
increase; a record that breaks that cannot be placed against the item's stored position safely:
it is quarantined and counted, never applied and never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .attributes import AttributeValue
from .contribution import record_effect
from .errors import EventShapeError
from .fastpath import fast_reader
from .fold import is_noop, record_deltas, too_wide
from .position import foreign_stream
from .records import StreamRecord, decode_record, unreadable_record
from .spec import AggregationSpec
from .telemetry import BatchCounters
from .types import Delta, KeyPlan, Quarantined, ReasonKind, reason


@dataclass
class BatchPlan:
    keys: dict[str, KeyPlan] = field(default_factory=dict)
    quarantine: list[Quarantined] = field(default_factory=list)
    counters: BatchCounters = field(default_factory=BatchCounters)
    sequence_numbers: list[str] = field(default_factory=list)
    """By position, for the partial batch response."""


def plan_batch(
    spec: AggregationSpec,
    records: Sequence[Any],
    now: float,
    fast: bool = True,
    source_table_arn: str | None = None,
) -> BatchPlan:
    """Plan a batch of raw records (as the event carries them).

    ``source_table_arn``: records of any other table's stream are quarantined (``position.foreign_stream``).
    The processor always gives its configuration's; None plans records of any stream, for tests and
    tools that plan batches of their own making.

    A record that is not a DynamoDB stream record (``records.decode_record`` says why) is quarantined
    as it came, the rest planned: the event around the records was checked by ``records.event_records``.
    """
    plan = BatchPlan()
    plan.counters.records = len(records)
    reader = fast_reader(spec) if fast else None
    foreign = _foreign_check(source_table_arn)
    last_position: dict[str, str] = {}
    keys, sequence_numbers = plan.keys, plan.sequence_numbers
    for position, raw in enumerate(records):
        why = foreign(raw) if foreign else None
        result = reader(raw, position, now) if reader and why is None else None
        if result is not None and last_position.get(result[2], "") < result[1]:
            sequence_number, stream_position, item, deltas = result
            last_position[item] = stream_position
            sequence_numbers.append(sequence_number)
            for group_token, group_value, delta in deltas:
                _add(keys, group_token, group_value, delta)
            continue
        try:
            record = decode_record(raw, position)
        except EventShapeError as error:
            record = unreadable_record(raw)
            plan.sequence_numbers.append(record.sequence_number)
            plan.quarantine.append(Quarantined(position, record, reason(ReasonKind.NOT_A_STREAM_RECORD, str(error))))
            continue
        plan.sequence_numbers.append(record.sequence_number)
        if why is not None:
            plan.quarantine.append(Quarantined(position, record, reason(ReasonKind.FOREIGN_STREAM, why)))
            continue
        _plan_record(spec, plan, record, position, now, last_position)
    plan.counters.quarantined = len(plan.quarantine)
    plan.counters.keys = len(plan.keys)
    return plan


def _foreign_check(source_table_arn: str | None) -> Callable[[Any], str | None] | None:
    """Why a raw record is not from the source table's stream, or None; remembered per stream ARN,
    since a batch comes from one stream. A record without a usable ARN passes, for ``decode_record``
    to refuse."""
    if source_table_arn is None:
        return None
    seen: dict[str, str | None] = {}

    def check(raw: Any) -> str | None:
        arn = raw.get("eventSourceARN") if type(raw) is dict else None
        if type(arn) is not str or not arn:
            return None
        if arn not in seen:
            seen[arn] = foreign_stream(arn, source_table_arn)
        return seen[arn]

    return check


def _plan_record(
    spec: AggregationSpec,
    plan: BatchPlan,
    record: StreamRecord,
    position: int,
    now: float,
    last_position: dict[str, str],
) -> None:
    """The general path: every check, and the only place that decides quarantine."""
    effect = record_effect(spec, record)
    item = effect.item_token
    if item is not None and last_position.get(item, "") >= record.position:
        plan.counters.ordering_violations += 1
        why = reason(
            ReasonKind.ORDERING, f"sequence {record.sequence_number} is not after an earlier record of the same item"
        )
        plan.quarantine.append(Quarantined(position, record, why))
        return
    if item is not None:
        last_position[item] = record.position
    if effect.quarantine_reason:
        plan.quarantine.append(Quarantined(position, record, effect.quarantine_reason))
    if "ttl-delete-ignored" in effect.notes:
        plan.counters.ttl_deletes_ignored += 1
    created_at = int(record.created_at if record.created_at is not None else now)
    try:
        deltas = record_deltas(position, record.position, created_at, effect)
    except ArithmeticError:
        deltas = None
    if deltas is None or any(too_wide(delta) for _, delta in deltas):
        why = reason(
            ReasonKind.AMOUNTS, "the change between the old and new image needs more than 38 digits to be exact"
        )
        plan.quarantine.append(Quarantined(position, record, why))
        return
    for contribution, delta in deltas:
        _add(plan.keys, contribution.group_token, contribution.group_value, delta)


def _add(keys: dict[str, KeyPlan], group_token: str, group_value: AttributeValue, delta: Delta) -> None:
    """Append ``delta`` to its key's plan, unless it changes nothing (``is_noop``)."""
    if is_noop(delta):
        return
    key = keys.get(group_token)
    if key is None:
        key = keys[group_token] = KeyPlan(group_token, group_value)
    key.deltas.append(delta)
