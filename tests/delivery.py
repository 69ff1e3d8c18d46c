"""Delivering stream records the way AWS is allowed to, and no better.

What AWS promises (docs/design.md names the sources): the records of one *item* (partition and
sort key) in the order of its modifications, and every record at least once. What it does not
promise: any order between items, even items of one partition key (a ParallelizationFactor above
1, or a hot item collection split across shards, puts them in concurrent batches), or delivery
exactly once. So a delivery here

- gives each item one of several *lanes* (concurrent batch streams) at random, so the items of one
  partition key are spread over lanes and meet in any interleaving;
- hands each lane's records in contiguous batches, as Lambda's mapping does: a partial batch
  response restarts from the reported record, a function error retries the batch; and at random a
  batch is delivered twice, or restarts from an earlier point (a retry of work already applied);
- runs the lanes in threads, so their writes interleave request by request.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

Handle = Callable[[dict[str, Any], Any], Any]


@dataclass
class Delivery:
    lanes: int = 3
    max_batch: int = 25
    duplicate_rate: float = 0.1
    rewind_rate: float = 0.1
    max_invocations: int = 5000


@dataclass
class LaneStats:
    invocations: int = 0
    duplicates: int = 0
    rewinds: int = 0
    partial_failures: int = 0
    function_errors: int = 0


def item_of(record: dict[str, Any]) -> str:
    return json.dumps(record["dynamodb"]["Keys"], sort_keys=True)


def split_into_lanes(records: Sequence[dict[str, Any]], lanes: int, rng: random.Random) -> list[list[dict[str, Any]]]:
    """Each item to one lane, its records in their order; nothing else is kept in order."""
    lane_of: dict[str, int] = {}
    result: list[list[dict[str, Any]]] = [[] for _ in range(lanes)]
    for record in records:
        result[lane_of.setdefault(item_of(record), rng.randrange(lanes))].append(record)
    return result


def deliver_lane(handle: Handle, records: list[dict[str, Any]], rng: random.Random, delivery: Delivery) -> LaneStats:
    """One lane, as Lambda's mapping delivers one shard (with retries until every record is done)."""
    stats = LaneStats()
    done = 0
    while done < len(records):
        if stats.invocations >= delivery.max_invocations:
            raise AssertionError(f"lane stuck at record {done} of {len(records)} after {stats.invocations} invocations")
        start = done
        if done and rng.random() < delivery.rewind_rate:
            start = max(0, done - rng.randint(1, 10))
            stats.rewinds += 1
        batch = records[start : start + rng.randint(1, delivery.max_batch)]
        copies = 2 if rng.random() < delivery.duplicate_rate else 1
        stats.duplicates += copies - 1
        for _ in range(copies):
            stats.invocations += 1
            try:
                response = handle({"Records": batch}, None)
            except Exception:  # a function error: Lambda retries the same batch
                stats.function_errors += 1
                response = None
        if response is None:
            continue
        failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
        if failed:
            stats.partial_failures += 1
            sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
            done = max(done, start + min(sequence_numbers.index(f) for f in failed))
        else:
            done = max(done, start + len(batch))
    return stats


def deliver(
    handlers: Sequence[Handle], records: Sequence[dict[str, Any]], seed: int, delivery: Delivery
) -> list[LaneStats]:
    """All lanes at once, one handler (a separate Lambda instance) per lane."""
    rng = random.Random(seed)
    lanes = split_into_lanes(records, delivery.lanes, rng)
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        futures = [
            pool.submit(
                deliver_lane, handlers[index % len(handlers)], lane, random.Random(seed * 100 + index), delivery
            )
            for index, lane in enumerate(lanes)
        ]
        return [future.result() for future in futures]
