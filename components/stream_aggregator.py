"""StreamAggregator: everything one exact DynamoDB-stream aggregation needs, as one component.

No `from __future__ import annotations` here: Pulumi's component analyzer reads these annotations
at runtime to build the multi-language schema.
"""

import json
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ._lambda_code import EXTREMES_ITEM, EXTREMES_KEY, LEDGER_EXPIRY, LEDGER_KEY, HandlerConfig, table_of_stream
from .aggregate_table import aggregate_key_attributes, bucket_index, zone_assets
from .alarms import alarm_specs
from .argument_keys import check_keys
from .argument_rules import (
    ALARM_NAME,
    LAMBDA_NAME,
    LOG_GROUP_NAME,
    QUEUE_NAME,
    ROLE_NAME,
    ROLE_POLICY_NAME,
    TABLE_NAME,
    NameRule,
    component_name,
)
from .extremes_table import extremes_attributes, extremes_indexes
from .filter_criteria import filter_patterns
from .help_text import document_arguments, document_outputs
from .monitoring import Monitored, create_alarms, create_dashboard
from .policies import ASSUME_ROLE_POLICY, handler_policy
from .settings import Settings
from .stream_readers import STREAM_READERS
from .validation import aggregation_spec, check_settings

HANDLER_DIR = Path(__file__).resolve().parent.parent / "handler"
"""Found relative to this file, so a program in any folder deploys the right code."""
TYPE_TOKEN = "stream-aggregator:index:StreamAggregator"
FOURTEEN_DAYS = 14 * 24 * 3600
CHILDREN: dict[str, NameRule] = {
    "source": TABLE_NAME,
    "aggregate": TABLE_NAME,
    "ledger": TABLE_NAME,
    "extremes": TABLE_NAME,
    "quarantine": QUEUE_NAME,
    "failures": QUEUE_NAME,
    "logs": LOG_GROUP_NAME,
    "role": ROLE_NAME,
    "policy": ROLE_POLICY_NAME,
    "fn": LAMBDA_NAME,
}
"""The children Pulumi autonames from ``<component name>-<role>``, with what AWS allows each one's name
(the alarms are added from their table; the dashboard's name is derived valid, the mapping has none)."""


class ExistingSourceArgs(TypedDict):
    """A source table created elsewhere, to attach to."""

    table_name: pulumi.Input[str]
    """Name of a table created elsewhere."""
    stream_arn: pulumi.Input[str]
    """ARN of its stream; the stream must have view type NEW_AND_OLD_IMAGES."""


class MeasureArgs(TypedDict):
    """One value kept on each aggregate item."""

    name: str
    """The attribute it is kept in on the aggregate item (letters, digits, _ . -)."""
    op: str
    """"sum" of a number attribute, "count" of the items, "latest" value of an attribute, "avg" of a number
    attribute, or "min" or "max" of an attribute (exact when the extreme item is lowered, moved or removed)."""
    attribute: NotRequired[str]
    """The source attribute to sum, average, keep the latest value of, or take the min or max of; omitted for
    "count"."""
    type: NotRequired[str]
    """What a "min" or "max" compares (no other op takes it): "N" (default), numbers compared exactly; or "S",
    strings compared by their UTF-8 bytes, so ISO-8601 dates written in one form (2026-11-28) compare as dates.
    Other types cannot be ordered and are refused; a value of another type than declared is invalid data."""


class FilterArgs(TypedDict):
    """Which source items contribute: those whose attribute equals one of the values."""

    attribute: str
    """The source attribute compared."""
    values: list[Any]
    """Strings, numbers and booleans, compared with their DynamoDB type (true is never the number 1);
    {"N": "12.50"} gives a number exactly."""


class GroupPartArgs(TypedDict):
    """One part of a composite group: an attribute's value, or the time bucket its date falls in."""

    attribute: str
    """The source attribute."""
    bucket: NotRequired[str]
    """Group by the time bucket of this date attribute: "minute", "hour", "day", "week" (ISO), "month" or "year",
    labelled 2026-11-28T14:05, 2026-11-28T14, 2026-11-28, 2026-W48, 2026-11, 2026 in the aggregation's timezone."""
    date: NotRequired[str]
    """How a bucketed attribute holds its date: "iso8601" strings (default; without an offset they are wall-clock
    time in the timezone), "epoch_seconds" or "epoch_millis" numbers. A value in another form is invalid data."""
    format: NotRequired[str]
    """strptime directives for date strings that are not ISO 8601, such as "%m%d%Y" (bucketed parts only); it implies
    string dates. An offset is %z (%Z is refused: strptime matches it against the machine's own zone names and
    ignores it)."""
    type: NotRequired[str]
    """The type of an attribute part without a bucket: "S" (default) or "N"; a value of another type is invalid data."""


class StreamAggregatorArgs(TypedDict):
    """The aggregation (keys, group, measures, filter) and the settings of what the component creates."""

    partition_key: str
    """The source table's partition key attribute."""
    measures: list[MeasureArgs]
    """The values kept on each aggregate item: at most 50 attributes stored (an avg stores two), and at most 8
    min or max measures (each adds one write per source item to a transaction)."""
    sort_key: NotRequired[str | None]
    """The source table's sort key attribute, if it has one."""
    partition_key_type: NotRequired[str]
    """Type of the source table's partition key (of the existing_source's, when attaching): S (default), N or B."""
    sort_key_type: NotRequired[str]
    """Type of the source table's sort key: S (default), N or B."""
    group_by: NotRequired[str | list[str | GroupPartArgs] | None]
    """The attribute to aggregate by; defaults to partition_key. It becomes the aggregate table's key. In Python it
    may also be a list of up to 8 parts, as group_by_parts takes them."""
    group_by_parts: NotRequired[list[GroupPartArgs] | None]
    """Aggregate by several parts, at most 8 (instead of group_by; in languages other than Python, where group_by is one
    attribute, the only way): attributes and time buckets of date attributes, such as [{"attribute": "CustomerId"},
    {"attribute": "OrderDate", "bucket": "day"}]. The aggregate key is one string, the parts' values joined by "#"
    (C-17#2026-11-28), in an attribute named for the parts (CustomerId#OrderDate_day); each part is also written as its
    own attribute (CustomerId, OrderDate_day)."""
    timezone: NotRequired[str | None]
    """The zone time buckets are labelled in: UTC (default) or an IANA region name such as "Europe/Berlin"
    (localtime, posix/..., right/..., Etc/... zones, legacy aliases and paths are refused)."""
    index_by_bucket: NotRequired[bool]
    """Add a global secondary index on the first time-bucket part (OrderDate_day), sorted by the aggregate key and
    projecting every attribute, so every group of one bucket is one Query (default false)."""
    group_by_type: NotRequired[str]
    """Type of group_by when it is not one of the source table's keys: S (default), N or B. Grouping by the
    partition or sort key takes that key's type (given here too, it must match): the aggregate table is keyed
    by the values the source items hold, so any other type would make every write fail."""
    filter: NotRequired[FilterArgs | None]
    """Only items whose attribute equals one of the values contribute: {"attribute": "Status", "values": ["PAID"]}."""
    ttl_deletes: NotRequired[str]
    """What deletions by DynamoDB TTL do: "subtract" (default) or "ignore" (for tables that archive by TTL)."""
    source_table_name: NotRequired[pulumi.Input[str] | None]
    """Physical name of the source table (3-255 letters, digits, _ . -); by default Pulumi autonames it, so stacks
    and instances don't collide."""
    aggregate_table_name: NotRequired[pulumi.Input[str] | None]
    """Physical name of the aggregate table (3-255 letters, digits, _ . -); autonamed by default, so stacks and
    instances don't collide."""
    existing_source: NotRequired[ExistingSourceArgs | None]
    """Attach to a table made elsewhere instead of creating the source table; give its key types as
    partition_key_type and sort_key_type. Excludes the source table's settings (its name, kms_key_arn,
    point_in_time_recovery, deletion_protection). No other StreamAggregator of the program may read its stream
    (refused at construction): DynamoDB Streams advises at most two readers per shard, and the second is kept for
    the operator's tools (backfill, replay). Readers in other programs cannot be seen from here: count them first."""
    starting_position: NotRequired[str]
    """TRIM_HORIZON (default: for a table created here, nothing written before the mapping exists is missed) or
    LATEST."""
    batch_size: NotRequired[int]
    """Records per invocation, a whole number from 1 to 10000 (default 100)."""
    batching_window_seconds: NotRequired[int]
    """Seconds to gather a batch, a whole number from 0 to 300 (default 0)."""
    max_retry_attempts: NotRequired[int]
    """Retries of a failing batch before it goes to the failure queue: -1 (until the record expires) or a
    whole number up to 10000 (default 10)."""
    max_record_age_seconds: NotRequired[int]
    """Records older than this go to the failure queue: -1 (never) or a whole number from 60 to 604800
    (default 86400)."""
    filter_at_mapping: NotRequired[bool]
    """Set the mapping's filter criteria from the aggregation's filter (default true), so Lambda is not
    invoked, or billed, for records the handler would do nothing with: records whose old and new images
    both fail the filter. Every record that can change an aggregate or be quarantined still arrives. Numbers are
    not matched by value (a number filter lets every number through), TTL deletions cannot be told apart (with
    ttl_deletes "ignore" they arrive and are ignored), and a filter that would need more than Lambda's 5 patterns
    gets none; false sends every record (docs/design.md, "Filtering at the mapping")."""
    parallelization_factor: NotRequired[int]
    """Concurrent batches per shard, a whole number from 1 to 10 (default 1). Any value is exact: Lambda keeps
    each item's records in order."""
    memory_size: NotRequired[int]
    """Lambda memory in MB, a whole number from 128 to 10240 (default 256)."""
    timeout: NotRequired[int]
    """Lambda timeout in seconds, a whole number from 1 to 900 (default 60)."""
    log_retention_days: NotRequired[int]
    """Retention of the function's log group in days, one of CloudWatch's values: 1, 3, 5, 7, 14, 30 (default),
    60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."""
    alarm_actions: NotRequired[list[pulumi.Input[str]]]
    """ARNs (SNS topics, for example) notified by every alarm, at most 5."""
    tracing: NotRequired[bool]
    """Active X-Ray tracing of the function (default true): a sample of invocations, each with its
    initialization, invocation and overhead segments. Grants xray:PutTraceSegments and xray:PutTelemetryRecords."""
    dashboard: NotRequired[bool]
    """A CloudWatch dashboard named <project>-<stack>-<name> (default true): the alarms' states, lag, invocations,
    errors, throttles, duration, the handler's metrics, queue depths, table throttling, and the failure log."""
    point_in_time_recovery: NotRequired[bool]
    """Point-in-time recovery on the source table (default true). The aggregate table always has it."""
    deletion_protection: NotRequired[bool]
    """Deletion protection on every table the component creates (default false)."""
    kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """ARN of a customer managed KMS key for the tables (arn:<partition>:kms:<region>:<account>:key/<id>; not an
    alias, which IAM cannot grant kms:Decrypt on); AWS-owned keys by default."""
    tags: NotRequired[dict[str, str]]
    """Tags for every taggable resource: at most 50, keys of 1-128 characters not starting with "aws:",
    values of 0-256 characters."""


class StreamAggregator(pulumi.ComponentResource):
    """An exact, real-time aggregate of a DynamoDB table: a stream, a Lambda, an aggregate table (and,
    unless each aggregate has one source item, a ledger, and for a min or max an extremes table), queues for
    failures and bad data, alarms."""

    source_table: aws.dynamodb.Table | None
    """The source table, or None when attached to an existing_source."""
    aggregate_table: aws.dynamodb.Table
    """One item per group_by value with the measures (single-source aggregations add one position attribute)."""
    ledger_table: aws.dynamodb.Table | None
    """The stream position of each (aggregate key, source item), expired by DynamoDB TTL; None when the
    aggregation is single-source (no sort key, grouped by the partition key)."""
    extremes_table: aws.dynamodb.Table | None
    """One entry per (aggregate key, min/max measure, contributing source item), which readers Query by value
    (its indexes by_n and by_s); None unless a min or max is declared on an aggregation that is not
    single-source (a single-source aggregate item holds its one item's value itself)."""
    function: aws.lambda_.Function
    """The aggregator Lambda."""
    event_source_mapping: aws.lambda_.EventSourceMapping
    """Stream to Lambda, with partial batch responses, bisect and a failure destination."""
    failure_queue: aws.sqs.Queue
    """Where the mapping sends descriptions of batches it gave up on."""
    quarantine_queue: aws.sqs.Queue
    """Where the handler sends records with bad data, whole, with the reason."""
    dashboard: aws.cloudwatch.Dashboard | None
    """The component's CloudWatch dashboard; None when the dashboard argument is false."""

    def __init__(self, name: str, args: StreamAggregatorArgs, opts: pulumi.ResourceOptions | None = None):
        """Check the arguments, then create the resources, each named from ``<name>-<role>``.

        Parameters
        ----------
        name
            The component's name: letters, digits, '_' and '-', short enough for each child's name.
        args
            The aggregation and the settings: ``help(StreamAggregatorArgs)`` documents each one.
        opts
            Pulumi's resource options (a provider, a parent, protect, ...), passed to the component.

        Raises
        ------
        StreamAggregatorArgsError
            For an argument AWS or the handler would refuse, naming it and what it allows.
        """
        # Before anything is registered or read: an ignored key is a wrong total, a bad name a failed deploy.
        check_keys(args, StreamAggregatorArgs)
        component_name(name, NAMED_CHILDREN)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.spec = aggregation_spec(args)
        self._settings = settings = check_settings(args, self.spec)
        self._name = name
        self._tags = settings.tags
        child = pulumi.ResourceOptions(parent=self)

        self.source_table = self._create_source_table(child)
        stream_arn, source_name = self._source(settings)
        STREAM_READERS.claim(name, stream_arn, source_name)
        self.aggregate_table = self._create_aggregate_table(child)
        self.ledger_table = None if self.spec.single_source else self._create_ledger_table(child)
        self.extremes_table = self._create_extremes_table(child) if self.spec.uses_extremes_table else None
        self.quarantine_queue = self._create_queue("quarantine", child)
        self.failure_queue = self._create_queue("failures", child)
        log_group = aws.cloudwatch.LogGroup(
            self._child("logs"), retention_in_days=settings.log_retention_days, tags=self._tags, opts=child
        )
        role, policy = self._create_role(stream_arn, log_group, child)
        self.function = self._create_function(role, log_group, stream_arn, child)
        self.event_source_mapping = self._create_mapping(stream_arn, policy, child)
        self.dashboard = self._create_monitoring(log_group, child)
        # The outputs declared above (the schema's), by the same names: a user of another language
        # reads them as the schema says.
        self.register_outputs({name: getattr(self, name) for name in OUTPUTS})

    def _child(self, role: str) -> str:
        """A child's logical name, from which Pulumi autonames it: only roles whose names were checked."""
        if role not in CHILDREN:
            raise KeyError(f"{role!r} is not in CHILDREN, so its physical name was never checked")
        return f"{self._name}-{role}"

    def _source(self, settings: Settings) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        """The stream the mapping reads and its table's name: the source table's, or existing_source's."""
        if self.source_table is not None:
            return self.source_table.stream_arn, self.source_table.name
        existing = settings.existing_source
        if existing is None:  # _create_source_table creates the table exactly when there is none
            raise AssertionError("neither a source table nor existing_source")
        return existing["stream_arn"], existing["table_name"]

    def _create_source_table(self, opts: pulumi.ResourceOptions) -> aws.dynamodb.Table | None:
        settings, spec = self._settings, self.spec
        if settings.existing_source is not None:
            return None
        keys = {spec.partition_key: settings.partition_key_type}
        if spec.sort_key:
            keys[spec.sort_key] = settings.sort_key_type
        return aws.dynamodb.Table(
            self._child("source"),
            name=settings.source_table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=spec.partition_key,
            range_key=spec.sort_key,
            attributes=[aws.dynamodb.TableAttributeArgs(name=k, type=t) for k, t in keys.items()],
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=settings.point_in_time_recovery),
            server_side_encryption=self._encryption(),
            deletion_protection_enabled=settings.deletion_protection,
            tags=self._tags,
            opts=opts,
        )

    def _create_aggregate_table(self, opts: pulumi.ResourceOptions) -> aws.dynamodb.Table:
        spec, settings = self.spec, self._settings
        return aws.dynamodb.Table(
            self._child("aggregate"),
            name=settings.aggregate_table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=spec.group_by,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=n, type=t)
                for n, t in aggregate_key_attributes(settings.group_by_type, settings.index_by_bucket, spec)
            ],
            global_secondary_indexes=bucket_index(settings.index_by_bucket, spec),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=self._encryption(),
            deletion_protection_enabled=settings.deletion_protection,
            tags=self._tags,
            opts=opts,
        )

    def _create_ledger_table(self, opts: pulumi.ResourceOptions) -> aws.dynamodb.Table:
        """Small items (a 32-character key, a position, an expiry) that DynamoDB's TTL deletes for free
        once no redelivery or replay can reach them (see handler/position.py)."""
        return aws.dynamodb.Table(
            self._child("ledger"),
            billing_mode="PAY_PER_REQUEST",
            hash_key=LEDGER_KEY,
            attributes=[aws.dynamodb.TableAttributeArgs(name=LEDGER_KEY, type="S")],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=LEDGER_EXPIRY, enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=self._encryption(),
            deletion_protection_enabled=self._settings.deletion_protection,
            tags=self._tags,
            opts=opts,
        )

    def _create_extremes_table(self, opts: pulumi.ResourceOptions) -> aws.dynamodb.Table:
        """One entry per (aggregate key, measure, contributing source item), ordered by value in its
        indexes (components/extremes_table.py says why both, and the limit per group). Protected and
        encrypted as the aggregate table: it is part of every min and max."""
        return aws.dynamodb.Table(
            self._child("extremes"),
            billing_mode="PAY_PER_REQUEST",
            hash_key=EXTREMES_KEY,
            range_key=EXTREMES_ITEM,
            attributes=extremes_attributes(),
            local_secondary_indexes=extremes_indexes(),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=self._encryption(),
            deletion_protection_enabled=self._settings.deletion_protection,
            tags=self._tags,
            opts=opts,
        )

    def _encryption(self) -> aws.dynamodb.TableServerSideEncryptionArgs | None:
        """None leaves DynamoDB's default: encrypted at rest with an AWS-owned key."""
        key = self._settings.kms_key_arn
        return aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=key) if key else None

    def _create_queue(self, role: str, opts: pulumi.ResourceOptions) -> aws.sqs.Queue:
        return aws.sqs.Queue(
            self._child(role),
            sqs_managed_sse_enabled=True,
            message_retention_seconds=FOURTEEN_DAYS,
            tags=self._tags,
            opts=opts,
        )

    def _create_role(
        self, stream_arn: pulumi.Input[str], log_group: aws.cloudwatch.LogGroup, opts: pulumi.ResourceOptions
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        role = aws.iam.Role(
            self._child("role"), assume_role_policy=json.dumps(ASSUME_ROLE_POLICY), tags=self._tags, opts=opts
        )
        document = pulumi.Output.all(
            stream_arn,
            self.aggregate_table.arn,
            self.quarantine_queue.arn,
            self.failure_queue.arn,
            log_group.arn,
            self._settings.kms_key_arn,
            self.ledger_table.arn if self.ledger_table else None,
            self.extremes_table.arn if self.extremes_table else None,
        ).apply(
            lambda a: json.dumps(
                handler_policy(
                    a[0], a[1], [a[2], a[3]], a[4], a[5], a[6], tracing=self._settings.tracing, extremes_table_arn=a[7]
                )
            )
        )
        policy = aws.iam.RolePolicy(self._child("policy"), role=role.id, policy=document, opts=opts)
        return role, policy

    def _create_function(
        self,
        role: aws.iam.Role,
        log_group: aws.cloudwatch.LogGroup,
        stream_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> aws.lambda_.Function:
        # The source table by the stream the mapping reads: the handler quarantines records of any other.
        environment = pulumi.Output.all(
            self.aggregate_table.name,
            self.quarantine_queue.url,
            self.ledger_table.name if self.ledger_table else None,
            stream_arn,
            self.extremes_table.name if self.extremes_table else None,
        ).apply(
            lambda a: HandlerConfig(
                spec=self.spec,
                aggregate_table=a[0],
                quarantine_queue_url=a[1],
                source_table_arn=table_of_stream(a[3]),
                aggregator_name=self._name,
                ledger_table=a[2],
                extremes_table_name=a[4],
            ).environment()
        )
        return aws.lambda_.Function(
            self._child("fn"),
            runtime="python3.13",
            architectures=["arm64"],
            handler="handler.main.lambda_handler",
            code=handler_archive(self.spec.timezone),
            role=role.arn,
            memory_size=self._settings.memory_size,
            timeout=self._settings.timeout,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active") if self._settings.tracing else None,
            tags=self._tags,
            # Created after its log group, so the first invocation's logs land under the retention.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[log_group])),
        )

    def _create_mapping(
        self, stream_arn: pulumi.Input[str], policy: aws.iam.RolePolicy, opts: pulumi.ResourceOptions
    ) -> aws.lambda_.EventSourceMapping:
        settings = self._settings
        return aws.lambda_.EventSourceMapping(
            f"{self._name}-mapping",
            event_source_arn=stream_arn,
            function_name=self.function.arn,
            starting_position=settings.starting_position,
            batch_size=settings.batch_size,
            maximum_batching_window_in_seconds=settings.batching_window_seconds,
            maximum_retry_attempts=settings.max_retry_attempts,
            maximum_record_age_in_seconds=settings.max_record_age_seconds,
            parallelization_factor=settings.parallelization_factor,
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            filter_criteria=self._filter_criteria(),
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=self.failure_queue.arn
                )
            ),
            # AWS checks at creation that the role can read the stream, so the policy must exist first.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[policy])),
        )

    def _filter_criteria(self) -> pulumi.Input[aws.lambda_.EventSourceMappingFilterCriteriaArgs | None] | None:
        """Lambda skips records that match no pattern; none when every record may matter."""
        enabled, patterns = self._settings.filter_at_mapping, filter_patterns(self.spec)
        if patterns is None or enabled is False:
            return None
        filters = [aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(pattern=pattern) for pattern in patterns]
        criteria = aws.lambda_.EventSourceMappingFilterCriteriaArgs(filters=filters)
        if enabled is True:
            return criteria
        # An Output (another language's SDK may pass one) is decided once known, never by its truthiness.
        known: pulumi.Output[bool] = pulumi.Output.from_input(self._settings.filter_at_mapping)
        return known.apply(lambda on: criteria if on else None)

    def _create_monitoring(
        self, log_group: aws.cloudwatch.LogGroup, opts: pulumi.ResourceOptions
    ) -> aws.cloudwatch.Dashboard | None:
        """The alarms (components/alarms.py says why each number) and, unless turned off, the dashboard."""
        settings = self._settings
        monitored = Monitored(
            self._name,
            self.function,
            log_group,
            self.failure_queue,
            self.quarantine_queue,
            self.aggregate_table,
            self.ledger_table,
            self.extremes_table,
        )
        specs = alarm_specs(
            settings.timeout,
            settings.batching_window_seconds,
            ledger=self.ledger_table is not None,
            extremes=self.extremes_table is not None,
        )
        alarms = create_alarms(monitored, specs, settings.alarm_actions, self._tags, opts)
        return create_dashboard(monitored, settings, alarms, opts) if settings.dashboard else None


NAMED_CHILDREN = {
    **CHILDREN,
    **{spec.role: ALARM_NAME for spec in alarm_specs(Settings().timeout, 0, ledger=True, extremes=True)},
}
"""Every child autonamed from the component's name, the alarms included (their roles do not depend on the settings)."""
OUTPUTS = tuple(StreamAggregator.__annotations__)
"""The declared outputs; ``register_outputs`` uses exactly these names."""
document_arguments(StreamAggregatorArgs)  # help() shows each argument's docstring, read from this file
document_outputs(StreamAggregator)


def handler_archive(timezone: str | None = None) -> pulumi.AssetArchive:
    """The handler/ package alone: its .py files under handler/, no tests, no caches; and the file of the
    aggregation's time zone, if it names one (see handler/buckets.py, BUNDLED_ZONES)."""
    files = sorted(p for p in HANDLER_DIR.glob("*.py"))
    assets = {f"handler/{p.name}": pulumi.FileAsset(str(p)) for p in files}
    return pulumi.AssetArchive({**assets, **zone_assets(timezone)})
