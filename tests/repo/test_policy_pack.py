"""Each CrossGuard policy, called with resource args directly: one passing and one failing case
at least, and the invoice stack's whole resource graph passing every policy."""

import json

import pytest
from pulumi_policy import ResourceValidationArgs

from components import StreamAggregator
from components.policies import RESOURCE_STAR_ACTIONS as COMPONENT_RESOURCE_STAR_ACTIONS
from components.stream_aggregator import TYPE_TOKEN
from policy.rules import (
    COMPONENT_TYPE,
    POLICIES,
    RESOURCE_STAR_ACTIONS,
    alarms_described,
    encrypted_queues,
    mapping_failure_handling,
    no_wildcard_actions,
    point_in_time_recovery,
    resource_star_only_where_required,
    stream_view_type,
)
from tests.component.conftest import deploy  # noqa: F401 - the fixture
from tests.conftest import INVOICE_SPEC

COMPONENT = TYPE_TOKEN


def test_the_policy_pack_names_the_component_by_its_type_token():
    """The pack runs in its own environment and keeps a copy of the token: renamed on one side
    only, every rule would silently pass every resource, so the copy is checked here."""
    assert COMPONENT_TYPE == TYPE_TOKEN


def test_the_policy_pack_allows_star_for_exactly_the_actions_the_component_grants_on_it():
    """Another copy the pack must keep: if they drift, the pack refuses the component's own
    policy (caught by the whole-stack test) or lets a new "*" grant pass unnoticed."""
    assert RESOURCE_STAR_ACTIONS == COMPONENT_RESOURCE_STAR_ACTIONS


def resource(typ: str, props: dict, inside: bool = True) -> ResourceValidationArgs:
    parent = f"{COMPONENT}$" if inside else ""
    urn = f"urn:pulumi:prod::stream-aggregator::{parent}{typ}::r"
    return ResourceValidationArgs(typ, props, urn, "r", None, None)


def violations(validate, args: ResourceValidationArgs) -> list[str]:
    found: list[str] = []
    validate(args, lambda message, urn=None: found.append(message))
    return found


TABLE, MAPPING, QUEUE = (
    "aws:dynamodb/table:Table",
    "aws:lambda/eventSourceMapping:EventSourceMapping",
    "aws:sqs/queue:Queue",
)
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
GOOD_MAPPING = {
    "functionResponseTypes": ["ReportBatchItemFailures"],
    "destinationConfig": {"onFailure": {"destinationArn": "arn:q"}},
}


def policy_json(*actions: str, resource: str | list[str] = "*", effect: str = "Allow") -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": list(actions), "Resource": resource}]}
    )


@pytest.mark.parametrize(
    ("validate", "args", "expected"),
    [
        pytest.param(
            stream_view_type,
            resource(TABLE, {"streamEnabled": True, "streamViewType": "NEW_AND_OLD_IMAGES"}),
            [],
            id="view-ok",
        ),
        pytest.param(
            stream_view_type,
            resource(TABLE, {"streamEnabled": True, "streamViewType": "NEW_IMAGE"}),
            ["NEW_AND_OLD_IMAGES"],
            id="view-new-only",
        ),
        pytest.param(
            stream_view_type,
            resource(TABLE, {"streamEnabled": True, "streamViewType": "KEYS_ONLY"}, inside=False),
            [],
            id="view-outside",
        ),
        pytest.param(mapping_failure_handling, resource(MAPPING, GOOD_MAPPING), [], id="mapping-ok"),
        pytest.param(
            mapping_failure_handling,
            resource(MAPPING, {"functionResponseTypes": []}),
            ["ReportBatchItemFailures", "on-failure"],
            id="mapping-bare",
        ),
        pytest.param(
            mapping_failure_handling,
            resource(MAPPING, {**GOOD_MAPPING, "destinationConfig": {}}),
            ["on-failure"],
            id="mapping-no-destination",
        ),
        pytest.param(
            point_in_time_recovery, resource(TABLE, {"pointInTimeRecovery": {"enabled": True}}), [], id="pitr-ok"
        ),
        pytest.param(point_in_time_recovery, resource(TABLE, {}), ["point-in-time"], id="pitr-missing"),
        pytest.param(
            no_wildcard_actions, resource(ROLE_POLICY, {"policy": policy_json("dynamodb:ListStreams")}), [], id="iam-ok"
        ),
        pytest.param(
            no_wildcard_actions,
            resource(ROLE_POLICY, {"policy": policy_json("dynamodb:*")}),
            ["dynamodb:*"],
            id="iam-service-star",
        ),
        pytest.param(no_wildcard_actions, resource(ROLE_POLICY, {"policy": policy_json("*")}), ["'*'"], id="iam-star"),
        pytest.param(
            no_wildcard_actions, resource(ROLE_POLICY, {"policy": "{oops"}), ["not valid JSON"], id="iam-bad-json"
        ),
        pytest.param(
            resource_star_only_where_required,
            resource(ROLE_POLICY, {"policy": policy_json("xray:PutTraceSegments", "xray:PutTelemetryRecords")}),
            [],
            id="star-xray",
        ),
        pytest.param(
            resource_star_only_where_required,
            resource(ROLE_POLICY, {"policy": policy_json("dynamodb:ListStreams")}),
            [],
            id="star-list-streams",
        ),
        pytest.param(
            resource_star_only_where_required,
            resource(ROLE_POLICY, {"policy": policy_json("dynamodb:GetItem", "xray:PutTraceSegments")}),
            ["'dynamodb:GetItem' is granted on '*'"],
            id="star-item-read",
        ),
        pytest.param(
            resource_star_only_where_required,
            resource(ROLE_POLICY, {"policy": policy_json("sqs:SendMessage", resource=["arn:aws:sqs:r:1:q", "*"])}),
            ["'sqs:SendMessage'"],
            id="star-in-a-list",
        ),
        pytest.param(
            resource_star_only_where_required,
            resource(ROLE_POLICY, {"policy": policy_json("dynamodb:GetItem", resource="arn:aws:dynamodb:r:1:table/t")}),
            [],
            id="star-absent",
        ),
        pytest.param(
            resource_star_only_where_required,
            resource(ROLE_POLICY, {"policy": policy_json("dynamodb:DeleteTable", effect="Deny")}),
            [],
            id="star-deny",
        ),
        pytest.param(
            resource_star_only_where_required,
            resource(ROLE_POLICY, {"policy": policy_json("s3:GetObject")}, inside=False),
            [],
            id="star-outside",
        ),
        pytest.param(
            resource_star_only_where_required, resource(ROLE_POLICY, {"policy": "{oops"}), [], id="star-bad-json"
        ),
        pytest.param(alarms_described, resource(ALARM, {"alarmDescription": "Lag. Runbook: Alarms."}), [], id="alarm"),
        pytest.param(alarms_described, resource(ALARM, {}), ["alarmDescription"], id="alarm-undescribed"),
        pytest.param(
            alarms_described, resource(ALARM, {"alarmDescription": "  "}), ["alarmDescription"], id="alarm-blank"
        ),
        pytest.param(alarms_described, resource(ALARM, {}, inside=False), [], id="alarm-outside"),
        pytest.param(encrypted_queues, resource(QUEUE, {"sqsManagedSseEnabled": True}), [], id="queue-sse"),
        pytest.param(encrypted_queues, resource(QUEUE, {"kmsMasterKeyId": "alias/k"}), [], id="queue-kms"),
        pytest.param(
            encrypted_queues, resource(QUEUE, {"sqsManagedSseEnabled": False}), ["encrypted"], id="queue-plain"
        ),
    ],
)
def test_policy_cases(validate, args, expected):
    found = violations(validate, args)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


def test_the_invoice_stack_passes_every_policy(deploy):  # noqa: F811 - the fixture
    resources = deploy(lambda: StreamAggregator("inv", INVOICE_SPEC))
    checked = 0
    for recorded in resources:
        if recorded.typ == COMPONENT:
            continue
        args = resource(recorded.typ, recorded.inputs)
        for policy in POLICIES:
            assert violations(policy.validate, args) == [], (policy.name, recorded.name)
        checked += 1
    assert checked == 24, (
        "every resource of the component: the ledger and extremes tables, 12 alarms and the dashboard included"
    )
