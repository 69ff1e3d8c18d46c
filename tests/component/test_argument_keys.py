"""Property: a one-character misspelling of any declared argument, at any nesting level, is refused
with a message naming it (and the intended name), on the Python path and on the multi-language one.

The declared names are read from the TypedDicts (Python) and from the schema Pulumi infers from them
(camelCase, other languages and YAML); a nested TypedDict no test below places is itself a failure.
"""

from __future__ import annotations

import string
import typing
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from components import StreamAggregator
from components._version import __version__
from components.argument_keys import UnknownArgumentError
from components.errors import StreamAggregatorArgsError
from components.multi_language import provider
from components.settings import Settings
from components.stream_aggregator import (
    ExistingSourceArgs,
    FilterArgs,
    GroupPartArgs,
    MeasureArgs,
    StreamAggregatorArgs,
)
from components.validation import DECIDED_AT_CONSTRUCTION, SETTING_RULES, SOURCE_TABLE_SETTINGS

BASE: dict[str, Any] = {
    "partition_key": "OrderId",
    "group_by": "CustomerId",
    "measures": [{"name": "Revenue", "op": "sum", "attribute": "Amount"}],
}
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Legacy/stream/2020-01-01T00:00:00.000"
VALID: dict[type, dict[str, Any]] = {
    MeasureArgs: {"name": "Largest", "op": "max", "attribute": "Amount", "type": "N"},
    FilterArgs: {"attribute": "Status", "values": ["PAID"]},
    GroupPartArgs: {"attribute": "OrderDate", "bucket": "day", "date": "iso8601", "format": "%Y", "type": "S"},
    ExistingSourceArgs: {"table_name": "Legacy", "stream_arn": STREAM_ARN},
}
"""A valid object of each nested TypedDict, every declared key present."""
PLACES: list[tuple[type, Callable[[dict[str, Any]], dict[str, Any]]]] = [
    (StreamAggregatorArgs, lambda args: args),
    (MeasureArgs, lambda obj: {**BASE, "measures": [VALID[MeasureArgs], obj]}),
    (FilterArgs, lambda obj: {**BASE, "filter": obj}),
    (GroupPartArgs, lambda obj: {**BASE, "group_by": None, "group_by_parts": ["CustomerId", obj]}),
    (GroupPartArgs, lambda obj: {**BASE, "group_by": ["CustomerId", obj]}),
    (ExistingSourceArgs, lambda obj: {**BASE, "existing_source": obj}),
]
"""Where an object of each TypedDict goes in a program's arguments (group parts: both arguments that take them)."""
WHERE = {
    MeasureArgs: "measures[1].",
    FilterArgs: "filter.",
    GroupPartArgs: ("group_by_parts[1].", "group_by[1]."),
    ExistingSourceArgs: "existing_source.",
}


def nested_typed_dicts(annotation: Any) -> set[type]:
    if typing.is_typeddict(annotation):
        return {annotation} | {n for a in annotation.__annotations__.values() for n in nested_typed_dicts(a)}
    return {n for argument in typing.get_args(annotation) for n in nested_typed_dicts(argument)}


def test_every_nested_argument_object_is_placed():
    assert nested_typed_dicts(StreamAggregatorArgs) == {typed for typed, _ in PLACES}
    for typed, sample in VALID.items():
        assert set(sample) == set(typed.__annotations__), f"{typed.__name__}'s sample must hold every key"


@st.composite
def misspelling(draw: st.DrawFn, name: str, declared: frozenset[str]) -> str:
    """``name`` with one character inserted, deleted, substituted, or two neighbours transposed."""
    alphabet = string.ascii_letters + string.digits + "_"
    edit = draw(st.sampled_from(["insert", "delete", "substitute", "transpose"]))
    index = draw(st.integers(1 if edit == "transpose" else 0, len(name) - 1 if edit != "insert" else len(name)))
    char = draw(st.sampled_from(alphabet))
    if edit == "insert":
        wrong = name[:index] + char + name[index:]
    elif edit == "delete":
        wrong = name[:index] + name[index + 1 :]
    elif edit == "substitute":
        wrong = name[:index] + char + name[index + 1 :]
    else:
        wrong = name[: index - 1] + name[index] + name[index - 1] + name[index + 1 :]
    assume(wrong and wrong not in declared)
    return wrong


def assert_names_it(message: str, path: str, intended: str, declared: frozenset[str]) -> None:
    assert repr(path) in message, message
    assert f"did you mean {intended!r}?" in message or ", ".join(sorted(declared)) in message, message


@st.composite
def python_case(draw: st.DrawFn) -> tuple[dict[str, Any], str, str, frozenset[str]]:
    typed, place = draw(st.sampled_from(PLACES))
    declared = frozenset(typed.__annotations__)
    intended = draw(st.sampled_from(sorted(declared)))
    wrong = draw(misspelling(intended, declared))
    if typed is StreamAggregatorArgs:
        obj = {key: value for key, value in BASE.items() if key != intended}
        return {**obj, wrong: BASE.get(intended, "x")}, wrong, intended, declared
    obj = {key: value for key, value in VALID[typed].items() if key != intended}
    args = place({**obj, wrong: VALID[typed][intended]})
    where = WHERE[typed]
    prefix = where if isinstance(where, str) else where[0 if "group_by_parts" in args else 1]
    return args, prefix + wrong, intended, declared


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(case=python_case())
def test_a_misspelt_argument_is_refused_and_named_at_every_level(deploy, case):
    args, path, intended, declared = case
    with pytest.raises(UnknownArgumentError) as refused:
        deploy(lambda: StreamAggregator("typo", args))
    assert_names_it(str(refused.value), path, intended, declared)


PROVIDER = provider(__version__)
COMPONENT = PROVIDER._component_defs["StreamAggregator"]
SCHEMA_BASE = {"partitionKey": "OrderId", "groupBy": "CustomerId", "measures": [{"name": "R", "op": "count"}]}
SCHEMA_PLACES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "MeasureArgs": ("measures[1].", lambda obj: {**SCHEMA_BASE, "measures": [{"name": "N", "op": "count"}, obj]}),
    "FilterArgs": ("filter.", lambda obj: {**SCHEMA_BASE, "filter": obj}),
    "GroupPartArgs": ("groupByParts[0].", lambda obj: {**SCHEMA_BASE, "groupBy": None, "groupByParts": [obj]}),
    "ExistingSourceArgs": ("existingSource.", lambda obj: {**SCHEMA_BASE, "existingSource": obj}),
}


def test_every_schema_type_is_placed():
    assert set(PROVIDER._type_defs) == set(SCHEMA_PLACES)


@st.composite
def schema_case(draw: st.DrawFn) -> tuple[dict[str, Any], str, str, frozenset[str]]:
    type_name = draw(st.sampled_from([None, *sorted(SCHEMA_PLACES)]))
    properties = COMPONENT.inputs if type_name is None else PROVIDER._type_defs[type_name].properties
    declared = frozenset(properties)
    intended = draw(st.sampled_from(sorted(declared)))
    wrong = draw(misspelling(intended, declared))
    if type_name is None:
        return {**SCHEMA_BASE, wrong: "x"}, wrong, intended, declared
    prefix, place = SCHEMA_PLACES[type_name]
    return place({wrong: "x"}), prefix + wrong, intended, declared


@settings(max_examples=300, deadline=None)
@given(case=schema_case())
def test_a_misspelt_input_is_refused_and_named_by_the_multi_language_host(case):
    """Pulumi's own mapping would drop the key; the host refuses it with its camelCase name."""
    inputs, path, intended, declared = case
    with pytest.raises(pulumi.InputPropertyError) as refused:
        PROVIDER.map_inputs(inputs, COMPONENT)
    assert refused.value.property_path == path
    assert_names_it(refused.value.reason, path, intended, declared)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            {"filters": {"attribute": "S", "values": ["P"]}}, "'filters' is not declared: did you mean 'filter'?"
        ),
        pytest.param({"time_zone": "Europe/Berlin"}, "'time_zone' is not declared: did you mean 'timezone'?"),
        pytest.param({"groupBy": "CustomerId"}, "'groupBy' is not declared: did you mean 'group_by'?"),
        pytest.param({"index_by_buckets": True}, "did you mean 'index_by_bucket'?"),
        pytest.param({"ttl_delete": "ignore"}, "did you mean 'ttl_deletes'?"),
        pytest.param({"memory_sise": 512}, "did you mean 'memory_size'?"),
        pytest.param({"filters": None}, "did you mean 'filter'?", id="none-is-still-a-typo"),
    ],
)
def test_the_issues_misspellings_are_refused(deploy, args, message):
    with pytest.raises(UnknownArgumentError, match=message.replace("?", r"\?")):
        deploy(lambda: StreamAggregator("typo", {**BASE, **args}))


@pytest.mark.parametrize("value", [7.5, True, "100", [100]])
def test_an_integer_input_that_is_not_whole_is_refused_by_the_host(value):
    """Pulumi's mapping calls int() on integer inputs (7.5 would be 7, true 1); the host refuses them first."""
    with pytest.raises(pulumi.InputPropertyError) as refused:
        PROVIDER.map_inputs({**SCHEMA_BASE, "batchSize": value}, COMPONENT)
    assert refused.value.property_path == "batchSize" and "must be a whole number" in refused.value.reason


def test_whole_integer_inputs_pass_the_host_as_the_engine_sends_them():
    mapped = PROVIDER.map_inputs({**SCHEMA_BASE, "batchSize": 100.0, "maxRetryAttempts": -1.0}, COMPONENT)
    assert mapped["batch_size"] == 100 and mapped["max_retry_attempts"] == -1


@pytest.mark.parametrize("args", [None, ["partition_key", "OrderId"], "OrderId"])
def test_arguments_that_are_not_a_mapping_are_refused_in_one_line(deploy, args):
    with pytest.raises(StreamAggregatorArgsError, match=r"arguments must be a mapping \(StreamAggregatorArgs\)"):
        deploy(lambda: StreamAggregator("typo", args))


def test_every_argument_the_component_reads_is_declared():
    """A default or a rule under a name the TypedDict does not declare would never apply: the key check
    refuses that name, so the argument it meant would keep no default, or no check."""
    declared = set(StreamAggregatorArgs.__annotations__)
    for names in (Settings.__dataclass_fields__, SETTING_RULES, DECIDED_AT_CONSTRUCTION, SOURCE_TABLE_SETTINGS):
        assert set(names) <= declared, sorted(set(names) - declared)


@pytest.mark.parametrize(
    ("wrong", "intended"), [("yp", "op"), ("tp", "op"), ("o", "op"), ("opp", "op"), ("tpye", "type"), ("typ", "type")]
)
def test_a_measures_op_and_type_are_told_apart_by_edits(deploy, wrong, intended):
    """difflib's ratio alone offered 'type' for 'yp': it shares 'yp' with 'type' and only 'p' with 'op'."""
    measure = {**{k: v for k, v in VALID[MeasureArgs].items() if k != intended}, wrong: VALID[MeasureArgs][intended]}
    with pytest.raises(
        UnknownArgumentError, match=rf"'measures\[0\]\.{wrong}' is not declared: did you mean '{intended}'\?"
    ):
        deploy(lambda: StreamAggregator("typo", {**BASE, "measures": [measure]}))
