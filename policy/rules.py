"""The project's rules as CrossGuard resource policies.

They apply to resources inside a StreamAggregator (the component's type is in their URN), so a
stack can hold other tables and queues with other rules. Props arrive camelCase, as the engine
sends them. Each validate function is plain, so the tests call it with resource args directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

COMPONENT_TYPE = "stream-aggregator:index:StreamAggregator"
"""A copy of components.stream_aggregator.TYPE_TOKEN (the pack runs in its own environment, without
the component); tests/repo/test_policy_pack.py fails if the two ever disagree."""
TABLE = "aws:dynamodb/table:Table"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
QUEUE = "aws:sqs/queue:Queue"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
IAM_POLICIES = {"aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"}
RESOURCE_STAR_ACTIONS = frozenset({"dynamodb:ListStreams", "xray:PutTelemetryRecords", "xray:PutTraceSegments"})
"""A copy of components.policies.RESOURCE_STAR_ACTIONS: the actions IAM defines no resource type for,
which the handler needs. tests/repo/test_policy_pack.py fails if the two ever disagree."""


def in_component(args: ResourceValidationArgs) -> bool:
    return f"{COMPONENT_TYPE}$" in args.urn


def stream_view_type(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == TABLE and in_component(args) and args.props.get("streamEnabled"):
        view = args.props.get("streamViewType")
        if view != "NEW_AND_OLD_IMAGES":
            report(
                f"the source stream must be NEW_AND_OLD_IMAGES (MODIFY and REMOVE need the old image), got {view!r}",
                None,
            )


def mapping_failure_handling(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != MAPPING or not in_component(args):
        return
    if "ReportBatchItemFailures" not in (args.props.get("functionResponseTypes") or []):
        report(
            "the event source mapping must use ReportBatchItemFailures, or one bad key retries the whole batch", None
        )
    destination = ((args.props.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
    if not destination:
        report("the event source mapping needs an on-failure destination, or exhausted batches vanish", None)


def point_in_time_recovery(args: ResourceValidationArgs, report: ReportViolation) -> None:
    enabled = (args.props.get("pointInTimeRecovery") or {}).get("enabled")
    if args.resource_type == TABLE and in_component(args) and not enabled:
        report("tables must have point-in-time recovery enabled", None)


def no_wildcard_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for statement in _statements(args, report):
        for action in _listed(statement, "Action"):
            if action == "*" or action.endswith(":*"):
                report(f"IAM action {action!r} is a wildcard: grant the actions the handler uses", None)


def resource_star_only_where_required(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Only actions IAM defines no resource type for may be granted on "*" (X-Ray's trace writes,
    ListStreams); everything else names the resources it touches."""
    for statement in _statements(args, report, report_bad_json=False):
        if statement.get("Effect") != "Allow" or "*" not in _listed(statement, "Resource"):
            continue
        for action in _listed(statement, "Action"):
            if action not in RESOURCE_STAR_ACTIONS:
                report(f"IAM action {action!r} is granted on '*': grant it on the resources it touches", None)


def alarms_described(args: ResourceValidationArgs, report: ReportViolation) -> None:
    description = args.props.get("alarmDescription")
    if (
        args.resource_type == ALARM
        and in_component(args)
        and not (isinstance(description, str) and description.strip())
    ):
        report("alarms must say what they mean and what to do first (alarmDescription): on-call reads it", None)


def encrypted_queues(args: ResourceValidationArgs, report: ReportViolation) -> None:
    encrypted = args.props.get("sqsManagedSseEnabled") or args.props.get("kmsMasterKeyId")
    if args.resource_type == QUEUE and in_component(args) and not encrypted:
        report("queues hold records with business data and must be encrypted (SSE-SQS or KMS)", None)


def _statements(
    args: ResourceValidationArgs, report: ReportViolation, report_bad_json: bool = True
) -> Iterator[dict[str, Any]]:
    """The statements of an IAM policy inside the component; a document that is not JSON is
    reported once (by the rule that asks), and has no statements."""
    if args.resource_type not in IAM_POLICIES or not in_component(args):
        return
    document = args.props.get("policy")
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except json.JSONDecodeError:
        if report_bad_json:
            report("the IAM policy is not valid JSON", None)
        return
    statements = (parsed or {}).get("Statement", [])
    yield from statements if isinstance(statements, list) else [statements]


def _listed(statement: dict[str, Any], element: str) -> list[str]:
    """An Action or Resource element, which IAM allows as one string or a list."""
    value = statement.get(element, [])
    return [value] if isinstance(value, str) else list(value)


def _policy(
    name: str, description: str, validate: Callable[[ResourceValidationArgs, ReportViolation], None]
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=EnforcementLevel.MANDATORY
    )


POLICIES = [
    _policy("stream-new-and-old-images", "The source stream carries old and new images.", stream_view_type),
    _policy(
        "mapping-partial-batch-and-destination",
        "Partial batch responses and an on-failure destination.",
        mapping_failure_handling,
    ),
    _policy("tables-point-in-time-recovery", "Tables have point-in-time recovery.", point_in_time_recovery),
    _policy("iam-no-wildcard-actions", "No IAM action is a wildcard.", no_wildcard_actions),
    _policy(
        "iam-resource-star-only-where-required",
        "Only actions without resource types are granted on '*'.",
        resource_star_only_where_required,
    ),
    _policy("alarms-described", "Every alarm says what it means and what to do.", alarms_described),
    _policy("queues-encrypted", "Queues are encrypted.", encrypted_queues),
]
