"""What a min or max measure adds to the deployment: the extremes table's keys and its two indexes.

The table exists only when ``AggregationSpec.uses_extremes_table`` (a min/max over many source items
per aggregate key); its shape is the handler's (``handler/extremes.py``), whose names are imported here.
Each entry is one (aggregate key and measure, source item) with its value; a local secondary index per
value type orders a key's entries by value, so a reader finds the extreme with one Query of ``Limit=1``.

Why both indexes always, whatever types the measures declare: a local secondary index can only be
created with its table, so a table made with ``by_n`` alone could never serve a later ``"S"`` measure
without being replaced, entries and all. An index holds only the entries that have its sort key
attribute, so the unused one stays empty and costs nothing. KEYS_ONLY: the index key carries the value.

Why no TTL: an entry lives exactly as long as its source item contributes, and the transaction that
ends the contribution deletes it. The limit to know: a table with a local index keeps each partition
key value's items and their index copies (one group's entries for one measure) under DynamoDB's 10 GB
item collection size. An entry and its copy are a few hundred bytes at most with keys of ordinary
length, so a group holds tens of millions of contributing source items per min/max measure.
"""

from __future__ import annotations

import pulumi_aws as aws

from ._lambda_code import EXTREMES_ITEM, EXTREMES_KEY, INDEX_NAME, VALUE_ATTRIBUTE


def extremes_attributes() -> list[aws.dynamodb.TableAttributeArgs]:
    """The attributes that key the table (the entry's group and measure, its source item) or an index."""
    keys = [(EXTREMES_KEY, "S"), (EXTREMES_ITEM, "S")]
    values = [(attribute, kind.value) for kind, attribute in VALUE_ATTRIBUTE.items()]
    return [aws.dynamodb.TableAttributeArgs(name=name, type=kind) for name, kind in keys + values]


def extremes_indexes() -> list[aws.dynamodb.TableLocalSecondaryIndexArgs]:
    """One KEYS_ONLY local index per value type, sorting a key's entries by their value."""
    return [
        aws.dynamodb.TableLocalSecondaryIndexArgs(
            name=INDEX_NAME[kind], range_key=VALUE_ATTRIBUTE[kind], projection_type="KEYS_ONLY"
        )
        for kind in INDEX_NAME
    ]
