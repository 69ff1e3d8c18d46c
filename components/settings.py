"""The component's settings, everything outside the aggregation, in one place: each one's type, its
default and its rule.

``Settings`` is what validation returns (``validation.check_settings``) and what the ``_create_*``
methods read, field by field: its field defaults are the defaults, and nothing else states them.
What each setting does is its argument's docstring on ``StreamAggregatorArgs`` (the schema's and
help()'s text); ``tools/configuration_doc.py`` writes docs/configuration.md from both. The
aggregation's own arguments (keys, group, measures, filter, time zone, TTL deletions) are the
handler's parser's (``handler/spec.py``), with its defaults.

A setting another program may hand over unresolved (a table name from another stack, a key ARN,
alarm topics) is typed ``pulumi.Input``: its rule checks it once it is a plain value, and it reaches
the resource as given. Those the component decides on while it is built (``DECIDED_AT_CONSTRUCTION``
in validation.py) are plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import Field, dataclass, field, fields
from typing import Any

import pulumi

from . import argument_rules as rules

RULE = "rule"
"""The metadata key under which each field holds its argument's rule."""
KEY_TYPE = rules.one_of("S", "N", "B")


def _rule(field_: Field[Any]) -> rules.Rule:
    rule: rules.Rule = field_.metadata[RULE]
    return rule


@dataclass(frozen=True)
class Settings:
    """Every argument outside the aggregation, given or defaulted, with its rule in its field's metadata."""

    partition_key_type: pulumi.Input[str] = field(default="S", metadata={RULE: KEY_TYPE})
    sort_key_type: pulumi.Input[str] = field(default="S", metadata={RULE: KEY_TYPE})
    group_by_type: pulumi.Input[str] = field(default="S", metadata={RULE: KEY_TYPE})
    """As given (or this default) until validation replaces it by the aggregate table's key type:
    the source key's type when group_by is one (``validation.aggregate_key_type``)."""
    source_table_name: pulumi.Input[str] | None = field(default=None, metadata={RULE: rules.table_name})
    aggregate_table_name: pulumi.Input[str] | None = field(default=None, metadata={RULE: rules.table_name})
    existing_source: Mapping[str, pulumi.Input[str]] | None = field(
        default=None, metadata={RULE: rules.existing_source}
    )
    starting_position: pulumi.Input[str] = field(
        default="TRIM_HORIZON", metadata={RULE: rules.one_of("TRIM_HORIZON", "LATEST")}
    )
    batch_size: pulumi.Input[int] = field(default=100, metadata={RULE: rules.whole_number(1, 10000)})
    batching_window_seconds: int = field(default=0, metadata={RULE: rules.whole_number(0, 300)})
    max_retry_attempts: pulumi.Input[int] = field(default=10, metadata={RULE: rules.whole_number(-1, 10000)})
    max_record_age_seconds: pulumi.Input[int] = field(default=86400, metadata={RULE: rules.record_age})
    parallelization_factor: pulumi.Input[int] = field(default=1, metadata={RULE: rules.whole_number(1, 10)})
    memory_size: pulumi.Input[int] = field(default=256, metadata={RULE: rules.whole_number(128, 10240)})
    timeout: int = field(default=60, metadata={RULE: rules.whole_number(1, 900)})
    log_retention_days: pulumi.Input[int] = field(default=30, metadata={RULE: rules.log_retention})
    alarm_actions: pulumi.Input[Sequence[pulumi.Input[str]]] = field(
        default_factory=list, metadata={RULE: rules.alarm_actions}
    )
    tracing: bool = field(default=True, metadata={RULE: rules.boolean})
    dashboard: bool = field(default=True, metadata={RULE: rules.boolean})
    point_in_time_recovery: pulumi.Input[bool] = field(default=True, metadata={RULE: rules.boolean})
    filter_at_mapping: pulumi.Input[bool] = field(default=True, metadata={RULE: rules.boolean})
    """An Output is decided once known (``StreamAggregator._filter_criteria``), never by its truthiness."""
    index_by_bucket: bool = field(default=False, metadata={RULE: rules.boolean})
    deletion_protection: pulumi.Input[bool] = field(default=False, metadata={RULE: rules.boolean})
    kms_key_arn: pulumi.Input[str] | None = field(default=None, metadata={RULE: rules.kms_key_arn})
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] = field(default_factory=dict, metadata={RULE: rules.tags})


SETTING_RULES: dict[str, rules.Rule] = {setting.name: _rule(setting) for setting in fields(Settings)}
"""Every argument outside the aggregation, with its rule, in the order they are checked."""
