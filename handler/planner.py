"""Turning a decoded batch into per-key plans and quarantine entries: pure, no AWS.

The ordering assumption lives here. Lambda hands one shard's records in sequence order, and all
records of one source partition key are in one shard (after a split, Lambda finishes the parent
shard before its children). So within a batch a partition's sequence numbers must increase. A
record that breaks that cannot be placed against the watermark safely: it is quarantined and
counted, never applied and never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .contribution import record_effect
from .fold import KeyPlan, is_noop, record_deltas
from .quarantine import Quarantined
from .records import StreamRecord
from .spec import AggregationSpec
from .telemetry import BatchCounters


@dataclass
class BatchPlan:
    keys: dict[str, KeyPlan] = field(default_factory=dict)
    quarantine: list[Quarantined] = field(default_factory=list)
    counters: BatchCounters = field(default_factory=BatchCounters)


def plan_batch(spec: AggregationSpec, records: Sequence[StreamRecord], now: float) -> BatchPlan:
    plan = BatchPlan()
    plan.counters.records = len(records)
    last_sequence: dict[str, int] = {}
    for position, record in enumerate(records):
        effect = record_effect(spec, record)
        token = effect.partition_token
        if token is not None and last_sequence.get(token, -1) >= record.sequence:
            plan.counters.ordering_violations += 1
            reason = (
                f"ordering: sequence {record.sequence_number} is not after an earlier record of the same partition key"
            )
            plan.quarantine.append(Quarantined(position, record, reason))
            continue
        if token is not None:
            last_sequence[token] = record.sequence
        if effect.quarantine_reason:
            plan.quarantine.append(Quarantined(position, record, effect.quarantine_reason))
        if "ttl-delete-ignored" in effect.notes:
            plan.counters.ttl_deletes_ignored += 1
        created_at = int(record.created_at if record.created_at is not None else now)
        for contribution, delta in record_deltas(position, record.sequence, created_at, effect):
            if is_noop(delta):
                continue
            key = plan.keys.setdefault(
                contribution.group_token, KeyPlan(contribution.group_token, contribution.group_value)
            )
            key.deltas.append(delta)
    plan.counters.quarantined = len(plan.quarantine)
    plan.counters.keys = len(plan.keys)
    return plan
