"""Where a record sits in the stream, and the identities the idempotency state is keyed by: pure.

A *position* is one string, ``<stream label>/<sequence number padded to 40 digits>``.

Why one string: a ConditionExpression can compare two strings but not two tuples, and the
string order is exactly the (stream, sequence) order. Stream labels are ISO-8601 timestamps of
one fixed width (``2026-11-28T08:46:43.123``), so a stream enabled later sorts later; within one
stream, padded sequence numbers sort as the numbers do (they are at most 40 digits).

Why the label is part of it: disabling and enabling a table's stream makes a new stream whose
sequence numbers start afresh. Without the label, the new stream's first records could sort
below the old stream's last applied record and be skipped as duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeGuard

SEQUENCE_DIGITS = 40
"""DynamoDB documents sequence numbers as 21 to 40 digits."""
STREAM_MARKER = "/stream/"

STREAM_RETENTION_SECONDS = 24 * 3600
"""DynamoDB Streams keeps a record for 24 hours: no delivery or replay can come later than that."""
EXPIRY_MARGIN_SECONDS = 3600
"""For clock skew and for ApproximateCreationDateTime being approximate."""
IDEMPOTENCY_WINDOW_SECONDS = STREAM_RETENTION_SECONDS + EXPIRY_MARGIN_SECONDS
"""How long a ledger entry outlives the last record it covers.

Not the mapping's MaximumRecordAgeInSeconds: a batch the mapping gave up on is still in the stream
until the 24 hours are over, and replaying it from there must find the entries of the records in
its range that were applied. Storage is the only cost of the longer window; TTL deletes are free.
"""


def is_sequence_number(value: object) -> TypeGuard[str]:
    """ASCII decimal digits, at most ``SEQUENCE_DIGITS`` of them: what ``position_text`` can pad into a
    comparable position. ``str.isdigit`` alone also accepts "²" and other scripts' digits, which
    neither ``int`` nor a string comparison reads as the number they look like."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= SEQUENCE_DIGITS


def stream_label(event_source_arn: str) -> str:
    """The label of the stream a record came from: the text after ``/stream/`` in its ARN, or the
    whole ARN when it has no such part (test events; ``records.decode_record`` refuses an empty one)."""
    _, marker, label = event_source_arn.partition(STREAM_MARKER)
    return label if marker else event_source_arn


def table_of_stream(stream_arn: str) -> str:
    """The ARN of the table a stream ARN belongs to: the text before ``/stream/``."""
    return stream_arn.partition(STREAM_MARKER)[0]


def foreign_stream(stream_arn: str, source_table_arn: str) -> str | None:
    """Why records of ``stream_arn`` cannot go into this aggregator: it is not a stream of the source
    table, or None when it is one (any of its streams: one disabled and enabled again is still its).

    The whole table ARN is compared, not the name: names repeat across regions and accounts (a
    global table, one stack per account). The Lambda (a second mapping added by hand, a copied
    trigger), replay and the quarantine redrive all decide by this one rule.
    """
    owner, marker, label = stream_arn.partition(STREAM_MARKER)
    if not marker or not label:
        return f"from {stream_arn[:200]!r}, which is not a DynamoDB stream ARN"
    if owner != source_table_arn:
        return f"from the stream of {owner}, not of the source table {source_table_arn}"
    return None


def position_text(label: str, sequence_number: str) -> str:
    """The comparable position of a record (see the module docstring)."""
    return f"{label}/{sequence_number.zfill(SEQUENCE_DIGITS)}"


def label_of(position: str) -> str:
    return position.rpartition("/")[0]


def item_token(partition_token: str, sort_token: str | None) -> str:
    """One source item's identity, from its key tokens (``attributes.key_token``).

    Length-prefixed, so no choice of key values can make two different items give one token.
    """
    if sort_token is None:
        return partition_token
    return f"{len(partition_token)}:{partition_token}{sort_token}"


def ledger_id(group_token: str, item: str) -> str:
    """The ledger's key for (aggregate key, source item): a fixed 32 characters, however long the keys.

    Keyed by the aggregate too, so a record that moves an item from one group to another is two
    independent writes, each idempotent on its own. A 128-bit BLAKE2b digest: a collision among
    even 2**40 live entries has odds below 2**-47.
    """
    return ledger_ids(group_token)(item)


def ledger_ids(group_token: str) -> Callable[[str], str]:
    """``ledger_id`` for one aggregate key's items, with the key's part, ``<length>:<group token>``,
    hashed once, not per item; each item's token follows it."""
    prefix = hashlib.blake2b(f"{len(group_token)}:{group_token}".encode(), digest_size=16)

    def of(item: str) -> str:
        digest = prefix.copy()
        digest.update(item.encode())
        return digest.hexdigest()

    return of
