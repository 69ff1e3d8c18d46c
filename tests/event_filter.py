"""An independent matcher for Lambda's event filter patterns, as AWS documents them, to check the
criteria the component generates against stream records without AWS.

It implements only the operators components/filter_criteria.py uses, and refuses any other, so a
new operator there fails the tests until it is modelled here. The rules, from the Lambda developer
guide (*Control which events Lambda sends to your function*, *Using event filtering with a DynamoDB
event source*) and the EventBridge user guide (*Event pattern syntax*, *Arrays in event patterns*):

- a record passes when it matches any one filter ("Your filters are logically ORed together");
- every field a pattern names must be in the event, at the same nesting; the event's other fields
  are ignored;
- a field's rules are ORed; a leaf matches an exact rule when it is the same JSON value (strings
  character by character, ``true`` never the string "true" or the number 1);
- when the event's value is an array, the pattern matches if any element matches;
- ``{"exists": true}`` matches leaf nodes only, never an object;
- ``{"anything-but": [...]}`` matches a present leaf that is none of the listed values.

Where the documents leave a case open (``exists`` on null, ``anything-but`` on a number), the
matcher says "no match": the property test proves that every record it drops is harmless, so it
must never let through a record Lambda would drop, and erring towards dropping keeps that proof
valid for Lambda.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

ABSENT = object()


class UnsupportedPattern(ValueError):
    """A pattern construct this matcher does not model."""


def passes(patterns: Sequence[str], record: Mapping[str, Any]) -> bool:
    """Whether Lambda would send ``record`` to the function under these filter patterns."""
    return any(matches(json.loads(pattern), record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether one pattern (parsed JSON) matches the event or the object inside it."""
    for name, rule in pattern.items():
        if name.startswith("$"):
            raise UnsupportedPattern(f"operator field {name!r} is not modelled")
        value = event.get(name, ABSENT) if isinstance(event, Mapping) else ABSENT
        if isinstance(rule, Mapping):
            if not _nested_matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not _leaf_matches(rule, value):
                return False
        else:
            raise UnsupportedPattern(f"field {name!r} has {rule!r}: a rule must be a list or an object")
    return True


def _nested_matches(rule: Mapping[str, Any], value: Any) -> bool:
    """A nested pattern matches an object, or any object in an array (arrays are flattened)."""
    if isinstance(value, list):
        return any(isinstance(element, Mapping) and matches(rule, element) for element in value)
    return isinstance(value, Mapping) and matches(rule, value)


def _leaf_matches(rules: list[Any], value: Any) -> bool:
    if value is ABSENT or isinstance(value, Mapping):
        return False  # absent, or an intermediate node, which no modelled rule matches
    leaves = value if isinstance(value, list) else [value]
    return any(_rule_matches(rule, leaf) for rule in rules for leaf in leaves if not isinstance(leaf, Mapping | list))


def _rule_matches(rule: Any, leaf: Any) -> bool:
    if isinstance(rule, Mapping):
        if rule == {"exists": True}:
            return leaf is not None  # whether null counts as existing is not documented: say no
        if set(rule) == {"anything-but"} and isinstance(rule["anything-but"], list):
            # Only strings are modelled (the documented case); any other leaf matches nothing here.
            return isinstance(leaf, str) and not any(_same_json(excluded, leaf) for excluded in rule["anything-but"])
        raise UnsupportedPattern(f"rule {rule!r} is not modelled")
    if isinstance(rule, float | int) and not isinstance(rule, bool):
        raise UnsupportedPattern(f"number rule {rule!r} is not modelled (Lambda compares numbers as text)")
    return _same_json(rule, leaf)


def _same_json(rule: Any, leaf: Any) -> bool:
    """Equal as JSON values: Python's True == 1 and 1 == 1.0 do not hold in a pattern."""
    return type(rule) is type(leaf) and rule == leaf
