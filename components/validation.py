"""Checking the component's arguments at construction time, so `pulumi preview` fails early with a
message that names the argument. The aggregation rules themselves live in handler/spec.py; each other
setting's type, default and rule live in settings.py, and this module checks how they combine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from . import argument_rules as rules
from ._lambda_code import (
    AggregationSpec,
    DateForm,
    GroupPart,
    Measure,
    MeasureOp,
    OrderedType,
    SpecError,
    bucket_index_name,
    parse_spec,
)
from .argument_rules import fail, is_known
from .errors import StreamAggregatorArgsError
from .settings import SETTING_RULES, Settings

__all__ = ["SETTING_RULES", "Settings", "StreamAggregatorArgsError", "aggregation_spec", "check_settings"]

DECIDED_AT_CONSTRUCTION = {
    "tracing": "it decides whether the function is traced and granted X-Ray",
    "dashboard": "it decides whether the dashboard exists",
    "timeout": "the iterator-age alarm's threshold is computed from it",
    "batching_window_seconds": "the iterator-age alarm's threshold is computed from it",
    "index_by_bucket": "it decides whether the aggregate table has the index (an Output would always add it)",
}
"""Settings the component reads while it is built, so they cannot wait for an Output, with why."""
SOURCE_TABLE_SETTINGS = ("source_table_name", "kms_key_arn", "point_in_time_recovery", "deletion_protection")


def aggregation_spec(args: Mapping[str, Any]) -> AggregationSpec:
    """The handler's spec from the component's arguments, with errors named after the arguments."""
    keys = ("partition_key", "sort_key", "group_by", "timezone", "measures", "filter", "ttl_deletes")
    fields = {key: args.get(key) for key in keys}
    if args.get("group_by_parts") is not None:
        if fields["group_by"] is not None:
            fail("group_by_parts", "replaces group_by: give one of them, not both")
        fields["group_by"] = args["group_by_parts"]
    try:
        return parse_spec({key: value for key, value in fields.items() if value is not None})
    except SpecError as error:
        raise StreamAggregatorArgsError(f"StreamAggregator: {error}") from None


def check_settings(args: Mapping[str, Any], spec: AggregationSpec) -> Settings:
    """Everything outside the aggregation, as ``Settings``: the arguments given (None is not given),
    the defaults for the rest, and ``group_by_type`` the aggregate table's key type. Values that are
    still unknown Outputs are skipped: they cannot be read at construction, and in a preview most
    resource outputs are unknown."""
    given = {name: value for name, value in args.items() if name in SETTING_RULES and value is not None}
    for name, rule in SETTING_RULES.items():
        if is_known(given.get(name)):
            rule(name, given[name])
    for name, why in DECIDED_AT_CONSTRUCTION.items():
        if name in given and not is_known(given[name]):
            fail(name, f"must be a plain value, not an Output: {why}")
    settings = Settings(**given)
    _tables_are_distinct(settings)
    if settings.existing_source is not None:
        for conflicting in SOURCE_TABLE_SETTINGS:
            if conflicting in given:
                fail(conflicting, "configures the source table, which existing_source says is made elsewhere")
    if settings.index_by_bucket and spec.first_bucket_part is None:
        fail("index_by_bucket", "indexes the first group_by part with a time bucket, and group_by has none")
    if settings.index_by_bucket:
        _index_name_is_valid(spec)
    type_given = "group_by_type" in given
    settings = replace(settings, group_by_type=aggregate_key_type(settings, spec, type_given))
    _aggregation_reads_declared_types(settings, spec, type_given)
    _fits_the_environment(spec)
    return settings


def _tables_are_distinct(settings: Settings) -> None:
    """The aggregate table named as the source table would be a second CreateTable of one name, refused by
    AWS after the source table exists: a deployment stopped halfway."""
    existing = settings.existing_source
    sources = {
        "source_table_name": settings.source_table_name,
        "existing_source.table_name": existing.get("table_name") if isinstance(existing, Mapping) else None,
    }
    aggregate = settings.aggregate_table_name
    for setting, source in sources.items():
        if is_known(aggregate) and is_known(source) and aggregate == source:
            fail("aggregate_table_name", f"is {aggregate!r}, the same as {setting}: the aggregate needs its own table")


MAX_SPEC_BYTES = 3 * 1024
"""Lambda holds 4 KB for all environment variables; the rest goes to the table names, queue URL
and settings the component sets beside the aggregation (see handler/config.py)."""


def _fits_the_environment(spec: AggregationSpec) -> None:
    size = len(spec.to_json().encode())
    if size > MAX_SPEC_BYTES:
        fail(
            "measures/filter/group_by",
            f"make the aggregation {size} bytes as JSON; it must fit in {MAX_SPEC_BYTES} bytes of the Lambda's 4 KB "
            "environment (fewer filter values or shorter names)",
        )


def aggregate_key_type(settings: Settings, spec: AggregationSpec, type_given: bool) -> Any:
    """The aggregate table's key type, from the settings as given or defaulted.

    The handler writes the group_by value with the type it has in the source item, so when group_by
    is one of the source table's keys the aggregate key must have that key's type: it is derived
    from partition_key_type or sort_key_type, and a group_by_type given that says otherwise is an error
    (the table would be created, and every write to it refused). Only for another attribute is
    group_by_type the sole source, by its default when not given. A composite group's key is always a string.
    """
    given = settings.group_by_type if type_given else None
    if spec.group_parts:
        if is_known(given) and given not in (None, "S"):
            fail("group_by_type", f"is {given!r}, but a composite group's key is a string (S): leave it out")
        _parts_read_keys_as_typed(settings, spec)
        return "S"
    source_keys = {
        spec.partition_key: ("partition_key_type", settings.partition_key_type),
        spec.sort_key: ("sort_key_type", settings.sort_key_type),
    }
    if spec.group_by not in source_keys:
        return settings.group_by_type
    key_setting, derived = source_keys[spec.group_by]
    if is_known(given) and is_known(derived) and given != derived:
        fail(
            "group_by_type",
            f"{given!r} differs from {key_setting} {derived!r}: group_by {spec.group_by!r} is that key, "
            f"so its values are {derived!r}; give the same type to both arguments, or leave group_by_type out",
        )
    return derived


def _index_name_is_valid(spec: AggregationSpec) -> None:
    """The index is named for its part (``OrderDate_day-by-bucket``), so the attribute must make a valid
    index name: an attribute may hold any character, an index name only a few."""
    part = spec.first_bucket_part
    if part is None:  # refused before this, as an index_by_bucket without a bucket part
        return
    index, name = spec.group_parts.index(part), bucket_index_name(part)
    problem = rules.TABLE_NAME.problem(name)
    if problem:
        raise StreamAggregatorArgsError(
            f"StreamAggregator: group_by[{index}].attribute {part.attribute!r} names the index_by_bucket index "
            f"{name!r}, and {problem}: rename the attribute, or leave index_by_bucket out"
        )


def _typed_source_keys(settings: Settings, spec: AggregationSpec) -> dict[str, tuple[str, str]]:
    """The source table's key attributes whose type is known here, each with its role and type. A key's
    type is the same in every item, so anything that reads a key as another type can never work."""
    keys = {
        spec.partition_key: ("partition key", settings.partition_key_type),
        spec.sort_key: ("sort key", settings.sort_key_type),
    }
    return {
        attribute: (f"the {role}", cast(str, key_type))  # known, so it passed KEY_TYPE
        for attribute, (role, key_type) in keys.items()
        if attribute is not None and is_known(key_type)
    }


def _declared_types(settings: Settings, spec: AggregationSpec, type_given: bool) -> dict[str, tuple[str, str]]:
    """Every attribute whose type the arguments fix, with what fixes it: the source keys, group_by with
    its type (the aggregate table's key), what each group_by part reads its attribute as, and what each
    measure reads (a sum's or avg's number, a min's or max's declared type). An item whose attribute has
    another type fails that reading (quarantined, or its write refused). The first to fix a type is named;
    the measures are checked against the others."""
    declared = _typed_source_keys(settings, spec)
    if spec.group_parts:
        for index, part in enumerate(spec.group_parts):
            reads, how = _part_reads(part)
            what = f"read by group_by[{index}] as {reads}{how}"
            earlier = declared.setdefault(part.attribute, (what, reads))
            if earlier[1] != reads:
                raise StreamAggregatorArgsError(
                    f"StreamAggregator: group_by[{index}] reads {part.attribute!r} as {reads}{how}, but it is "
                    f"{earlier[0]}: no item can satisfy both, so every record would be quarantined"
                )
    elif spec.group_by not in declared:
        key_type = settings.group_by_type  # the aggregate table's, once check_settings derived it
        if is_known(key_type):
            given = "group_by_type" if type_given else "group_by_type's default"
            declared[spec.group_by] = (f"group_by, keying the aggregate table as {given} says", cast(str, key_type))
    for index, measure in enumerate(spec.measures):
        reading = _measure_reads(measure)
        if reading is not None and measure.attribute is not None:
            declared.setdefault(measure.attribute, (reading.by(index), reading.kind))
    return declared


def _aggregation_reads_declared_types(settings: Settings, spec: AggregationSpec, type_given: bool) -> None:
    """A filter on an attribute of a declared type compares values of that type, a sum or an avg needs a
    number, and a min or max the type it declares, one DynamoDB can order: otherwise no item passes the
    filter (nothing is counted), or every record is quarantined."""
    declared = _declared_types(settings, spec, type_given)
    item_filter = spec.item_filter
    if item_filter is not None and item_filter.attribute in declared:
        what, declared_type = declared[item_filter.attribute]
        for kind, value in sorted(item_filter.values, key=repr):
            if kind != declared_type:
                shown = str(value) if kind == "N" else repr(value)
                raise StreamAggregatorArgsError(
                    f"StreamAggregator: filter.values holds {shown} ({kind}), but filter.attribute "
                    f"{item_filter.attribute!r} is {what}, of type {declared_type!r}: no item could ever match "
                    "it and count"
                )
    for index, measure in enumerate(spec.measures):
        reading = _measure_reads(measure)
        if reading is None or measure.attribute not in declared:
            continue
        what, declared_type = declared[measure.attribute]
        if declared_type != reading.kind:
            raise StreamAggregatorArgsError(
                f"StreamAggregator: measures[{index}] {reading.verb} {measure.attribute!r}{reading.as_type}, but it "
                f"is {what}, of type {declared_type!r}, {reading.refusal(declared_type)}: every record would be "
                "quarantined"
            )


@dataclass(frozen=True)
class _Reading:
    """How a measure reads its attribute: the type it needs, whether it orders values (a min or max),
    and the words its messages use."""

    kind: str
    verb: str
    passive: str
    ordered: bool = False

    @property
    def as_type(self) -> str:
        return f" as {self.kind}" if self.ordered else ""

    def by(self, index: int) -> str:
        return f"{self.passive} by measures[{index}]"

    def refusal(self, declared_type: str) -> str:
        if self.ordered and declared_type not in ORDERED_TYPES:
            return "which cannot be ordered"
        return "not a number" if self.kind == OrderedType.NUMBER.value else "not a string"


ORDERED_TYPES = frozenset(kind.value for kind in OrderedType)
"""The types a min or max compares (the handler's ``OrderedType``)."""


def _measure_reads(measure: Measure) -> _Reading | None:
    """The type a measure reads its attribute as; None for count and latest, which take any value."""
    if measure.op is MeasureOp.SUM:
        return _Reading(OrderedType.NUMBER.value, "sums", "summed")
    if measure.op is MeasureOp.AVG:
        return _Reading(OrderedType.NUMBER.value, "averages", "averaged")
    if measure.type is not None:  # a min or max: the handler's parser gives them, and only them, a type
        kind = measure.type.value
        return _Reading(kind, f"takes the {measure.op.value} of", f"ordered as {kind}", ordered=True)
    return None


def _part_reads(part: GroupPart) -> tuple[str, str]:
    """The type a part reads its attribute as, and how a message says so."""
    if part.bucket is None:
        return part.type, ""
    if part.date in (DateForm.EPOCH_SECONDS, DateForm.EPOCH_MILLIS):
        return "N", f" ({part.date.value})"
    return "S", f" (a date in the format {part.format!r})" if part.format else " (an ISO date)"


def _parts_read_keys_as_typed(settings: Settings, spec: AggregationSpec) -> None:
    """A part on one of the source table's keys must read it as the key's type: a key's type is the
    same in every item, so otherwise every record would be quarantined."""
    keys = _typed_source_keys(settings, spec)
    for index, part in enumerate(spec.group_parts):
        if part.attribute not in keys:
            continue
        role, key_type = keys[part.attribute]
        reads, how = _part_reads(part)
        if reads != key_type:
            raise StreamAggregatorArgsError(
                f"StreamAggregator: group_by[{index}] reads {part.attribute!r} as {reads}{how}, but it is "
                f"{role}, of type {key_type!r}: every record would be quarantined"
            )
