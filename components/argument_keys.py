"""Every argument key checked against the TypedDict that declares it, at every nesting level.

A key nobody declared is a typo, and a silent one costs a wrong total: ``filters`` for ``filter``
deploys with no filter (every item counted), ``time_zone`` buckets in UTC, ``memory_sise`` keeps the
default. So an undeclared key is refused, named with its path (``measures[1].atribute``) and the
nearest declared name, as argparse does for a misspelt flag.

The declared names are read from the TypedDicts themselves (``StreamAggregatorArgs`` and the ones
its fields hold: measures, filter, group_by parts, existing_source), the same annotations Pulumi
infers the multi-language schema from; nothing here lists them again. ``components/multi_language.py``
applies the same message to the schema's camelCase names, before Pulumi's mapping drops the
unknown ones.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

from .errors import StreamAggregatorArgsError


class UnknownArgumentError(StreamAggregatorArgsError):
    """An argument key that no StreamAggregator TypedDict declares; the message names it and the nearest one."""


def unknown_key_message(path: str, key: Any, declared: Collection[str]) -> str:
    """``path`` locates the unknown ``key``; the nearest declared name is suggested, or all of them listed."""
    nearest = _nearest(str(key), declared)
    if nearest:
        return f"StreamAggregator argument {path!r} is not declared: did you mean {nearest!r}?"
    return f"StreamAggregator argument {path!r} is not declared; declared here: {', '.join(sorted(declared))}"


def _nearest(key: str, declared: Collection[str]) -> str | None:
    """The one declared name a typo or two away (typed, dropped, swapped or doubled characters), else
    difflib's closest for a name mangled further; None when two names are equally near.

    difflib's ratio alone misleads on short names: 'yp' (for 'op') shares more with 'type' than with
    'op', so a measure's 'yp' was suggested 'type'."""
    distances = {name: _edits(key, name) for name in declared}
    fewest = min(distances.values(), default=None)
    if fewest is not None and fewest <= min(TYPO_EDITS, max(1, len(key) // 2)):
        closest = [name for name, distance in distances.items() if distance == fewest]
        return closest[0] if len(closest) == 1 else None
    found = difflib.get_close_matches(key, list(declared), n=1, cutoff=0.6)
    return found[0] if found else None


TYPO_EDITS = 2
"""Edits within which the fewest decide the suggestion (one for keys shorter than four characters, so
'x' is not offered 'op')."""


def _edits(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn ``a`` into ``b``
    (the optimal string alignment distance)."""
    rows = [list(range(len(b) + 1))]
    for i, char in enumerate(a, 1):
        row = [i]
        for j, other in enumerate(b, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (char != other)))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def check_keys(value: Mapping[str, Any], typed: type, where: str = "") -> None:
    """Raise ``UnknownArgumentError`` for the first key of ``value``, or of a nested value, that its
    TypedDict does not declare. Values that are not plain mappings or lists (Outputs) are skipped."""
    if not isinstance(value, Mapping):
        what = f"argument {where!r}" if where else "arguments"
        raise StreamAggregatorArgsError(f"StreamAggregator {what} must be a mapping ({typed.__name__}), got {value!r}")
    declared = declared_fields(typed)
    for key, item in value.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in declared:
            raise UnknownArgumentError(unknown_key_message(path, key, declared))
        nested = declared[key]
        if nested is not None:
            _check_nested(item, nested, path)


def _check_nested(item: Any, typed: type, path: str) -> None:
    if isinstance(item, Mapping):
        check_keys(item, typed, path)
    elif isinstance(item, Sequence) and not isinstance(item, str | bytes | bytearray):
        for index, element in enumerate(item):
            if isinstance(element, Mapping):
                check_keys(element, typed, f"{path}[{index}]")


@cache
def declared_fields(typed: type) -> dict[str, type | None]:
    """Each key ``typed`` declares, with the TypedDict its value (or its list's items) must follow, if any."""
    # The annotations as written, not get_type_hints: pulumi.Input holds forward references to Output
    # that only resolve inside pulumi; the TypedDicts are reached without evaluating them.
    return {name: _nested_typed_dict(annotation, name) for name, annotation in typed.__annotations__.items()}


def _nested_typed_dict(annotation: Any, name: str) -> type | None:
    found = set(_typed_dicts(annotation))
    if len(found) > 1:  # a union of two argument objects would need the value to say which it is
        raise TypeError(f"{name} may hold {sorted(t.__name__ for t in found)}: the key check takes one")
    return next(iter(found), None)


def _typed_dicts(annotation: Any) -> typing.Iterator[type]:
    """The TypedDicts reachable in an annotation, through unions, lists, NotRequired and pulumi.Input."""
    if typing.is_typeddict(annotation):
        yield annotation
        return
    for argument in typing.get_args(annotation):
        yield from _typed_dicts(argument)
