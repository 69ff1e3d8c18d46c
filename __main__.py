"""The invoice stack: InvoiceTransactions feeds InvoiceTotal through a StreamAggregator."""

from typing import Any

import pulumi

from aggregations import INVOICE_AGGREGATION
from components import StreamAggregator

config = pulumi.Config()
stack = pulumi.get_stack()

WHOLE_NUMBER_SETTINGS = {
    "batchSize": "batch_size",
    "batchingWindowSeconds": "batching_window_seconds",
    "maxRetryAttempts": "max_retry_attempts",
    "memorySize": "memory_size",
    "timeout": "timeout",
    "logRetentionDays": "log_retention_days",
}
"""Stack config key -> component argument."""


def configured() -> dict[str, Any]:
    """The arguments this stack's config sets. Unset keys are left out, so the component's own
    defaults (components/settings.py, Settings) are the only ones."""
    settings: dict[str, Any] = {arg: config.get_int(key) for key, arg in WHOLE_NUMBER_SETTINGS.items()}
    settings["deletion_protection"] = config.get_bool("deletionProtection")
    settings["tracing"] = config.get_bool("tracing")
    settings["dashboard"] = config.get_bool("dashboard")
    if config.get("alarmTopicArn"):
        settings["alarm_actions"] = [config.get("alarmTopicArn")]
    return {name: value for name, value in settings.items() if value is not None}


invoices = StreamAggregator(
    "invoices",
    {
        **INVOICE_AGGREGATION,
        "source_table_name": config.get("sourceTableName") or f"InvoiceTransactions-{stack}",
        "aggregate_table_name": config.get("aggregateTableName") or f"InvoiceTotal-{stack}",
        **configured(),
        "tags": {"app": "invoicing", "stack": stack},
    },
)

pulumi.export("source_table_name", invoices.source_table.name)
pulumi.export("stream_arn", invoices.source_table.stream_arn)
pulumi.export("aggregate_table_name", invoices.aggregate_table.name)
pulumi.export("ledger_table_name", invoices.ledger_table.name if invoices.ledger_table else None)
# The invoices' LargestTransaction entries; the output name is the one ops' targets read (issue 20's contract).
pulumi.export("extremes_table_name", invoices.extremes_table.name if invoices.extremes_table else None)
pulumi.export("aggregation", invoices.spec.to_json())  # what `python -m ops ... --aws` works with
pulumi.export("function_name", invoices.function.name)
pulumi.export("failure_queue_url", invoices.failure_queue.url)
pulumi.export("quarantine_queue_url", invoices.quarantine_queue.url)
pulumi.export("dashboard_name", invoices.dashboard.dashboard_name if invoices.dashboard else None)
