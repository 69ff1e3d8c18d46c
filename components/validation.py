"""Checking the component's arguments at construction time, so `pulumi preview` fails early with a
message that names the argument. The aggregation rules themselves live in handler/spec.py; the rule
for each other setting lives in argument_rules.py, and this module says which setting gets which."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import argument_rules as rules
from ._lambda_code import AggregationSpec, DateForm, GroupPart, MeasureOp, SpecError, bucket_index_name, parse_spec
from .argument_rules import fail, is_known
from .errors import StreamAggregatorArgsError

__all__ = ["StreamAggregatorArgsError", "aggregate_key_type", "aggregation_spec", "check_settings"]

KEY_TYPE = rules.one_of("S", "N", "B")
SETTING_RULES: dict[str, rules.Rule] = {
    "partition_key_type": KEY_TYPE,
    "sort_key_type": KEY_TYPE,
    "group_by_type": KEY_TYPE,
    "source_table_name": rules.table_name,
    "aggregate_table_name": rules.table_name,
    "existing_source": rules.existing_source,
    "starting_position": rules.one_of("TRIM_HORIZON", "LATEST"),
    "batch_size": rules.whole_number(1, 10000),
    "batching_window_seconds": rules.whole_number(0, 300),
    "max_retry_attempts": rules.whole_number(-1, 10000),
    "max_record_age_seconds": rules.record_age,
    "parallelization_factor": rules.whole_number(1, 10),
    "memory_size": rules.whole_number(128, 10240),
    "timeout": rules.whole_number(1, 900),
    "log_retention_days": rules.log_retention,
    "alarm_actions": rules.alarm_actions,
    "tracing": rules.boolean,
    "dashboard": rules.boolean,
    "point_in_time_recovery": rules.boolean,
    "filter_at_mapping": rules.boolean,
    "index_by_bucket": rules.boolean,
    "deletion_protection": rules.boolean,
    "kms_key_arn": rules.kms_key_arn,
    "tags": rules.tags,
}
"""Every argument outside the aggregation, with its rule."""
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


def check_settings(args: Mapping[str, Any], spec: AggregationSpec) -> None:
    """Everything outside the aggregation itself. Values that are still unknown Outputs are skipped:
    they cannot be read at construction, and in a preview most resource outputs are unknown."""
    for name, rule in SETTING_RULES.items():
        if is_known(args.get(name)):
            rule(name, args[name])
    for name, why in DECIDED_AT_CONSTRUCTION.items():
        if args.get(name) is not None and not is_known(args[name]):
            fail(name, f"must be a plain value, not an Output: {why}")
    _tables_are_distinct(args)
    if args.get("existing_source") is not None:
        for conflicting in SOURCE_TABLE_SETTINGS:
            if args.get(conflicting) is not None:
                fail(conflicting, "configures the source table, which existing_source says is made elsewhere")
    if args.get("index_by_bucket") and spec.first_bucket_part is None:
        fail("index_by_bucket", "indexes the first group_by part with a time bucket, and group_by has none")
    if args.get("index_by_bucket") is True:
        _index_name_is_valid(spec)
    aggregate_key_type(args, spec)
    _aggregation_reads_declared_types(args, spec)
    _fits_the_environment(spec)


def _tables_are_distinct(args: Mapping[str, Any]) -> None:
    """The aggregate table named as the source table would be a second CreateTable of one name, refused by
    AWS after the source table exists: a deployment stopped halfway."""
    existing = args.get("existing_source")
    sources = {
        "source_table_name": args.get("source_table_name"),
        "existing_source.table_name": existing.get("table_name") if isinstance(existing, Mapping) else None,
    }
    aggregate = args.get("aggregate_table_name")
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


def aggregate_key_type(args: Mapping[str, Any], spec: AggregationSpec) -> Any:
    """The aggregate table's key type, given the settings with DEFAULTS applied.

    The handler writes the group_by value with the type it has in the source item, so when group_by
    is one of the source table's keys the aggregate key must have that key's type: it is derived
    from partition_key_type or sort_key_type, and a group_by_type that says otherwise is an error
    (the table would be created, and every write to it refused). Only for another attribute is
    group_by_type the sole source, S by default. A composite group's key is always a string.
    """
    given = args.get("group_by_type")
    if spec.group_parts:
        if is_known(given) and given not in (None, "S"):
            fail("group_by_type", f"is {given!r}, but a composite group's key is a string (S): leave it out")
        _parts_read_keys_as_typed(args, spec)
        return "S"
    source_keys = {spec.partition_key: "partition_key_type", spec.sort_key: "sort_key_type"}
    key_setting = source_keys.get(spec.group_by)
    if key_setting is None:
        return given or "S"
    derived = args[key_setting]
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


def _typed_source_keys(args: Mapping[str, Any], spec: AggregationSpec) -> dict[str, tuple[str, str]]:
    """The source table's key attributes whose type is known here, each with its role and type. A key's
    type is the same in every item, so anything that reads a key as another type can never work."""
    keys = {spec.partition_key: ("partition key", "partition_key_type"), spec.sort_key: ("sort key", "sort_key_type")}
    return {
        attribute: (f"the {role}", args[setting])
        for attribute, (role, setting) in keys.items()
        if attribute is not None and is_known(args.get(setting))
    }


def _declared_types(args: Mapping[str, Any], spec: AggregationSpec) -> dict[str, tuple[str, str]]:
    """Every attribute whose type the arguments fix, with what fixes it: the source keys, group_by with
    its type (the aggregate table's key), what each group_by part reads its attribute as, and a sum's
    number. An item whose attribute has another type fails that reading (quarantined, or its write
    refused). The first to fix a type is named; the sums are checked against the others."""
    declared = _typed_source_keys(args, spec)
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
        key_type = aggregate_key_type(args, spec)
        if is_known(key_type):
            given = "group_by_type" if args.get("group_by_type") is not None else "group_by_type's default"
            declared[spec.group_by] = (f"group_by, keying the aggregate table as {given} says", key_type)
    for index, measure in enumerate(spec.measures):
        if measure.op is MeasureOp.SUM and measure.attribute is not None:
            declared.setdefault(measure.attribute, (f"summed by measures[{index}]", "N"))
    return declared


def _aggregation_reads_declared_types(args: Mapping[str, Any], spec: AggregationSpec) -> None:
    """A filter on an attribute of a declared type compares values of that type, and a sum needs a number:
    otherwise no item passes the filter (nothing is counted), or every record is quarantined."""
    declared = _declared_types(args, spec)
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
        if measure.op is not MeasureOp.SUM or measure.attribute not in declared:
            continue
        what, declared_type = declared[measure.attribute]
        if declared_type != "N":
            raise StreamAggregatorArgsError(
                f"StreamAggregator: measures[{index}] sums {measure.attribute!r}, but it is {what}, of type "
                f"{declared_type!r}, not a number: every record would be quarantined"
            )


def _part_reads(part: GroupPart) -> tuple[str, str]:
    """The type a part reads its attribute as, and how a message says so."""
    if part.bucket is None:
        return part.type, ""
    if part.date in (DateForm.EPOCH_SECONDS, DateForm.EPOCH_MILLIS):
        return "N", f" ({part.date.value})"
    return "S", f" (a date in the format {part.format!r})" if part.format else " (an ISO date)"


def _parts_read_keys_as_typed(args: Mapping[str, Any], spec: AggregationSpec) -> None:
    """A part on one of the source table's keys must read it as the key's type: a key's type is the
    same in every item, so otherwise every record would be quarantined."""
    keys = _typed_source_keys(args, spec)
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
