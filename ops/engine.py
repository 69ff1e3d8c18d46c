"""The Lambda's own engine, run by an operator's command on records it read itself.

`replay` and `quarantine redrive` apply records with the same ``BatchProcessor`` the Lambda runs,
configured as the Lambda is (the target's spec, tables and quarantine queue), so they make the
same conditional writes: a record already applied is skipped by its item's stored position, and
replaying while the event source mapping runs, or twice, changes nothing twice.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._lambda_code import BatchProcessor, Covered, Disposition, writer_config
from .targets import Target

ENGINE_BATCH = 100
"""Records per engine call: the event source mapping's default batch size."""


class Discard(io.TextIOBase):
    """A text stream that drops what it is given: for the engine's log lines."""

    def write(self, text: str) -> int:
        return len(text)


def engine_for(target: Target) -> BatchProcessor:
    """A processor writing as the deployed Lambda does; its log lines are dropped (the command reports)."""
    config = target.handler_config()
    client_config = writer_config(config.write_concurrency)
    return BatchProcessor(
        config,
        dynamodb_client=target.client("dynamodb", config=client_config),
        sqs_client=target.client("sqs", config=client_config),
        log_stream=Discard(),
    )


@dataclass
class Applied:
    dispositions: list[Disposition] = field(default_factory=list)
    """By record, for the records processed (fewer than given after a failure)."""
    error: str | None = None
    """Why the first failed record failed."""
    covered: list[Covered] = field(default_factory=list)
    """Records found applied already, by index in the records given, with the positions that covered them."""


def apply_records(engine: BatchProcessor, records: Sequence[Mapping[str, Any]]) -> Applied:
    """Apply ``records`` in stream order, a batch at a time; stops after a batch that failed.

    Stopping matters: a later batch could move an item's position past a record that failed,
    which would then be skipped as applied. Lambda stops at a failure for the same reason.
    """
    applied = Applied()
    for start in range(0, len(records), ENGINE_BATCH):
        result = engine.process({"Records": list(records[start : start + ENGINE_BATCH])})
        applied.dispositions.extend(result.dispositions)
        applied.covered.extend(replace(c, position=start + c.position) for c in result.covered)
        if result.first_error is not None:
            applied.error = result.first_error
            break
    return applied
