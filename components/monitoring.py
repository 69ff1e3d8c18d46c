"""The component's alarms and dashboard as Pulumi resources, from the tables in alarms.py and the
body in dashboard.py. Both are created with names already known, never inside an ``apply``: only
dimension values and the dashboard's body wait for the resources they describe."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .alarms import PERIOD_SECONDS, AlarmSpec, Watched, iterator_age_threshold_ms
from .dashboard import DashboardTargets, dashboard_body, dashboard_name, region_of
from .settings import Settings


@dataclass(frozen=True)
class Monitored:
    """What the component built, as the alarms and the dashboard need it."""

    name: str
    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    failure_queue: aws.sqs.Queue
    quarantine_queue: aws.sqs.Queue
    aggregate_table: aws.dynamodb.Table
    ledger_table: aws.dynamodb.Table | None
    extremes_table: aws.dynamodb.Table | None

    def names(self) -> dict[Watched, pulumi.Input[str]]:
        """Each watched resource's name; the aggregator's is the component's, which the handler
        receives as AGGREGATOR_NAME and emits as its metrics' dimension."""
        names: dict[Watched, pulumi.Input[str]] = {
            Watched.FUNCTION: self.function.name,
            Watched.AGGREGATOR: self.name,
            Watched.FAILURE_QUEUE: self.failure_queue.name,
            Watched.QUARANTINE_QUEUE: self.quarantine_queue.name,
            Watched.AGGREGATE_TABLE: self.aggregate_table.name,
        }
        if self.ledger_table is not None:
            names[Watched.LEDGER_TABLE] = self.ledger_table.name
        if self.extremes_table is not None:
            names[Watched.EXTREMES_TABLE] = self.extremes_table.name
        return names


def create_alarms(
    monitored: Monitored,
    specs: Sequence[AlarmSpec],
    actions: pulumi.Input[Sequence[pulumi.Input[str]]],
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]],
    opts: pulumi.ResourceOptions,
) -> list[aws.cloudwatch.MetricAlarm]:
    """One MetricAlarm per spec, notifying ``actions`` when it fires and when it clears. Actions and
    tags pass through as given: either may still be an Output."""
    names = monitored.names()
    return [
        aws.cloudwatch.MetricAlarm(
            f"{monitored.name}-{spec.role}",
            alarm_description=spec.description,
            **_watching(spec, _dimensions(spec, names[spec.watched])),
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints,
            comparison_operator="GreaterThanThreshold",
            threshold=spec.threshold,
            # No datapoint means no invocation, no message, no throttled write: nothing is wrong.
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            tags=tags,
            opts=opts,
        )
        for spec in specs
    ]


def _watching(spec: AlarmSpec, dimensions: pulumi.Output[dict[str, str]]) -> dict[str, Any]:
    """The metric itself, or the expression ``FILL(m, 0)`` over it (see ``AlarmSpec.fills_gaps``)."""
    if not spec.fills_gaps:
        return {
            "namespace": spec.namespace,
            "metric_name": spec.metric,
            "statistic": spec.statistic,
            "dimensions": dimensions,
            "period": PERIOD_SECONDS,
        }
    metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
        namespace=spec.namespace,
        metric_name=spec.metric,
        stat=spec.statistic,
        dimensions=dimensions,
        period=PERIOD_SECONDS,
    )
    return {
        "metric_queries": [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(id="m", metric=metric, return_data=False),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="filled", expression="FILL(m, 0)", label=f"{spec.metric}, 0 where none", return_data=True
            ),
        ]
    }


def _dimensions(spec: AlarmSpec, name: pulumi.Input[str]) -> pulumi.Output[dict[str, str]]:
    return pulumi.Output.from_input(name).apply(lambda resolved: spec.dimensions({spec.watched: resolved}))


def create_dashboard(
    monitored: Monitored,
    settings: Settings,
    alarms: Sequence[aws.cloudwatch.MetricAlarm],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.Dashboard:
    """The dashboard named after the project, stack and component (dashboards are per account)."""
    ledger, extremes = monitored.ledger_table, monitored.extremes_table
    body = pulumi.Output.all(
        monitored.function.arn,
        monitored.function.name,
        monitored.log_group.name,
        monitored.failure_queue.name,
        monitored.quarantine_queue.name,
        monitored.aggregate_table.name,
        ledger.name if ledger is not None else None,
        extremes.name if extremes is not None else None,
        *[alarm.arn for alarm in alarms],
    ).apply(
        lambda resolved: json.dumps(
            dashboard_body(
                DashboardTargets(
                    aggregator=monitored.name,
                    region=region_of(resolved[0]),
                    function_name=resolved[1],
                    log_group=resolved[2],
                    failure_queue=resolved[3],
                    quarantine_queue=resolved[4],
                    aggregate_table=resolved[5],
                    ledger_table=resolved[6],
                    timeout_seconds=settings.timeout,
                    iterator_age_threshold_ms=iterator_age_threshold_ms(
                        settings.timeout, settings.batching_window_seconds
                    ),
                    alarm_arns=tuple(resolved[8:]),
                    extremes_table=resolved[7],
                )
            )
        )
    )
    return aws.cloudwatch.Dashboard(
        f"{monitored.name}-dashboard",
        dashboard_name=dashboard_name(pulumi.get_project(), pulumi.get_stack(), monitored.name),
        dashboard_body=body,
        opts=opts,
    )
