"""The event source mapping's filter patterns: Lambda is not invoked, or billed, for a stream
record that matches none of them. Pure: the aggregation in, pattern texts out.

A record may be left out only if the handler would do nothing with it: no contribution taken
away or added, nothing quarantined. The handler ignores an image that fails the aggregation's
``filter`` before it reads anything else in it (handler/contribution.py), so such an image can
neither contribute nor be invalid. A record is therefore needed exactly when one of its images
passes, and the patterns let through every record with a NewImage *or* an OldImage that may pass:
a MODIFY that takes an item out of the filter still arrives, and so does a REMOVE, whoever made it.

Only what AWS documents is relied on (docs/design.md, "Filtering at the mapping"):

- Lambda filters DynamoDB records on the ``dynamodb`` key only, so TTL deletions, which only
  ``userIdentity`` tells apart, are treated as any REMOVE: they arrive when their old image may
  pass, and with ``ttl_deletes: ignore`` the handler ignores them as before;
- DynamoDB's numbers arrive as strings and Lambda has no numeric matching for them, while the
  handler compares numbers by value ("1.5" is "1.50"). No string list can hold every spelling of a
  number, so a number filter lets through every image whose attribute is a number;
- strings are matched character by character, as the handler compares them; booleans as JSON
  ``true`` and ``false``;
- at most five filters per mapping (raisable to ten on request), at most 4096 characters each.
  Criteria that would need more are not set at all: every record then reaches the handler.

One more pattern lets through every record of a stream whose view type is not
NEW_AND_OLD_IMAGES, so a misconfigured ``existing_source`` still shows up in the quarantine queue
instead of being filtered out in silence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ._lambda_code import AggregationSpec, FilterValue

MAX_FILTERS = 5
"""Lambda's default quota of filters per event source mapping."""
MAX_PATTERN_CHARS = 4096
"""Lambda's limit on one filter's Pattern."""
IMAGES = ("NewImage", "OldImage")
REQUIRED_VIEW = "NEW_AND_OLD_IMAGES"
WRONG_VIEW_PATTERN: dict[str, Any] = {"dynamodb": {"StreamViewType": [{"anything-but": [REQUIRED_VIEW]}]}}
"""Any record of a stream that does not carry both images: the handler quarantines those."""


def filter_patterns(spec: AggregationSpec) -> list[str] | None:
    """The mapping's filter patterns as JSON text, or None when every record must reach the handler.

    None without a ``filter`` (every record may then contribute), for a filter attribute whose
    name Lambda would read as an operator (``$or``), and when the patterns would not fit Lambda's
    limits.
    """
    item_filter = spec.item_filter
    if item_filter is None or item_filter.attribute.startswith("$"):
        return None
    matches = [_value_match(kind, values) for kind, values in _by_type(item_filter.values)]
    patterns = [{"dynamodb": {image: {item_filter.attribute: match}}} for image in IMAGES for match in matches]
    patterns.append(WRONG_VIEW_PATTERN)
    texts = [json.dumps(pattern, sort_keys=True, separators=(",", ":")) for pattern in patterns]
    if len(texts) > MAX_FILTERS or any(len(text) > MAX_PATTERN_CHARS for text in texts):
        return None
    return texts


def _by_type(values: Iterable[FilterValue]) -> list[tuple[str, list[Any]]]:
    """The filter's values grouped by DynamoDB type, in a fixed order so the patterns are stable."""
    grouped: dict[str, list[Any]] = {}
    for kind, value in values:
        grouped.setdefault(kind, []).append(value)
    return [(kind, sorted(grouped[kind], key=repr)) for kind in ("S", "N", "BOOL") if kind in grouped]


def _value_match(kind: str, values: list[Any]) -> dict[str, list[Any]]:
    """The match on one type of the attribute's value: exact for strings and booleans, any number
    for numbers (a string list cannot hold every spelling of one number)."""
    if kind == "N":
        return {"N": [{"exists": True}]}
    return {kind: values}
