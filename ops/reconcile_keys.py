"""`reconcile --key`: which aggregate keys the operator named, and how to read only their source items. Pure.

A key is written as reconcile's drift table and replay's "needs reconcile" list print it: the
handler's group token (``handler.attributes.key_token``), its type, a colon, its text: ``S:INV-1``,
``N:1.5``, ``B:AAE=``, and for a composite group_by the encoded key (``S:C-17#2026-11-28``). So
what replay names can be pasted as it is, and ``--keys-from`` reads one such key per line.

A key is checked against the spec and the aggregate table's key type, and must be spelled as the
handler writes it: ``N:1.50`` or a part ``2026-11-28T09:00`` instead of its label name the same
aggregate under another spelling, and the error says the spelling to use. A key the spec cannot
produce at all (a number where group_by is a string, two parts where it has three) is refused:
reconciling it would only report that it exists nowhere.

Source items are read by a Query on the partition key when group_by is the partition key; else by
a scan filtered on the group_by attribute (or the composite's attribute parts; time buckets are
labels of dates, which a filter cannot compute, so they are kept client-side). Whatever is read,
only the keys named are compared: the filter saves reading, it never decides what counts.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handler.attributes import AttributeValue, key_token
from handler.buckets import zone
from handler.errors import HandlerError
from handler.grouping import MAX_COMPOSITE_KEY_BYTES, decode_key, encode_key
from handler.spec import AggregationSpec

from .errors import CommandError
from .query import part_text, single_key
from .textfile import numbered_lines, read_text

KEY_FORM = "write a key as reconcile and replay print it: S:<text>, N:<number> or B:<base64>"
MAX_FILTER_CHARS = 4000
"""A FilterExpression is at most 4 KB (DynamoDB's expression limit): more keys are read by several scans."""


@dataclass(frozen=True)
class NamedKey:
    token: str
    """As the handler and reconcile's report spell it: ``S:INV-1``."""
    value: AttributeValue
    """The aggregate key for a client call (a binary key as bytes)."""


def parse_key(spec: AggregationSpec, text: str, key_type: str, where: str = "--key") -> NamedKey:
    """The aggregate key ``text`` names; ``CommandError`` naming ``where`` and the key when the spec cannot
    produce it or the handler spells it otherwise."""
    kind, colon, raw = text.partition(":")
    shown = f"{where} {text[:80]!r}"
    if not colon or kind not in ("S", "N", "B"):
        raise CommandError(f"{shown}: {KEY_FORM}")
    if kind != key_type:
        raise CommandError(f"{shown}: the aggregate table's key {spec.group_by!r} has type {key_type}, not {kind}")
    try:
        value = _composite(spec, raw) if spec.group_parts else single_key(spec.group_by, raw, kind)
    except (CommandError, HandlerError) as error:
        raise CommandError(f"{shown}: {error}") from None
    token = _token(spec, value)
    if token != text:
        raise CommandError(f"{shown} is not spelled as the handler writes it: {token!r} names that aggregate")
    return NamedKey(token, value)


def _composite(spec: AggregationSpec, raw: str) -> AttributeValue:
    texts = decode_key(raw)
    if len(texts) != len(spec.group_parts):
        names = "#".join(part.name for part in spec.group_parts)
        raise CommandError(f"it has {len(texts)} part(s); group_by {names!r} has {len(spec.group_parts)}")
    tz = zone(spec.timezone)
    key = encode_key([part_text(part, text, tz) for part, text in zip(spec.group_parts, texts, strict=True)])
    if len(key.encode()) > MAX_COMPOSITE_KEY_BYTES:
        raise CommandError(f"longer than {MAX_COMPOSITE_KEY_BYTES} bytes: the handler writes no such composite key")
    return {"S": key}


def _token(spec: AggregationSpec, value: AttributeValue) -> str:
    raw = value.get("B")
    if isinstance(raw, bytes):
        return f"B:{base64.b64encode(raw).decode()}"
    return key_token(value, spec.group_by)


def parse_keys(spec: AggregationSpec, texts: Iterable[str], key_type: str, path: Path | None) -> list[NamedKey]:
    """The keys of ``--key`` and of the file ``--keys-from`` (one a line, blank lines skipped), each once,
    in the order given."""
    named = [parse_key(spec, text, key_type) for text in texts]
    if path is not None:
        for number, line in numbered_lines(read_text(path)):
            if line:
                named.append(parse_key(spec, line, key_type, f"{path}:{number}:"))
    unique = {key.token: key for key in named}
    if not unique:
        raise CommandError(f"{path} names no key: {KEY_FORM}, one a line")
    return list(unique.values())


def reads_by_query(spec: AggregationSpec) -> bool:
    """Each key's source items are one partition of the source table: a Query reads them, no scan."""
    return not spec.group_parts and spec.group_by == spec.partition_key


def query_request(spec: AggregationSpec, table: str, key: NamedKey) -> dict[str, Any]:
    """The Query of the source items of ``key`` (``reads_by_query``), strongly consistent as reconcile's scan."""
    return {
        "TableName": table,
        "KeyConditionExpression": "#k = :k",
        "ExpressionAttributeNames": {"#k": spec.partition_key},
        "ExpressionAttributeValues": {":k": key.value},
        "ConsistentRead": True,
    }


def scan_filters(spec: AggregationSpec, keys: Sequence[NamedKey]) -> list[dict[str, Any]]:
    """Scan parameters, one set per scan, whose FilterExpressions together pass every source item of the
    keys (and few others); ``[{}]`` (one unfiltered scan) when group_by's parts are all time buckets."""
    names: dict[str, str] = {}
    attributes = _filtered_attributes(spec)
    if not attributes:
        return [{}]
    for index, (attribute, _) in enumerate(attributes):
        names[f"#a{index}"] = attribute
    conditions: list[tuple[str, dict[str, AttributeValue]]] = []
    seen: set[tuple[str, ...]] = set()
    for key in keys:
        values = _filter_values(spec, key, attributes)
        identity = tuple(str(value) for value in values)
        if identity in seen:  # composite keys of one customer and several days: one condition
            continue
        seen.add(identity)
        number = len(conditions)
        placeholders = {f":v{number}_{index}": value for index, value in enumerate(values)}
        text = " AND ".join(f"#a{index} = {name}" for index, name in enumerate(placeholders))
        conditions.append((f"({text})" if len(values) > 1 else text, placeholders))
    return _chunks(conditions, names)


def _filtered_attributes(spec: AggregationSpec) -> list[tuple[str, int]]:
    """(source attribute, index of its part) for each part a filter can compare; (group_by, 0) for one attribute."""
    if not spec.group_parts:
        return [(spec.group_by, 0)]
    return [(part.attribute, index) for index, part in enumerate(spec.group_parts) if part.bucket is None]


def _filter_values(spec: AggregationSpec, key: NamedKey, attributes: list[tuple[str, int]]) -> list[AttributeValue]:
    if not spec.group_parts:
        return [key.value]
    texts = decode_key(key.value["S"])
    return [{spec.group_parts[index].type: texts[index]} for _, index in attributes]


def _chunks(conditions: list[tuple[str, dict[str, AttributeValue]]], names: dict[str, str]) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    texts: list[str] = []
    values: dict[str, AttributeValue] = {}
    for text, placeholders in conditions:
        if texts and len(" OR ".join([*texts, text])) > MAX_FILTER_CHARS:
            requests.append(_filter(texts, names, values))
            texts, values = [], {}
        texts.append(text)
        values.update(placeholders)
    requests.append(_filter(texts, names, values))
    return requests


def _filter(texts: list[str], names: dict[str, str], values: dict[str, AttributeValue]) -> dict[str, Any]:
    return {
        "FilterExpression": " OR ".join(texts),
        "ExpressionAttributeNames": dict(names),
        "ExpressionAttributeValues": values,
    }
