"""The invoice stack: InvoiceTransactions feeds InvoiceTotal through a StreamAggregator."""

import pulumi

from aggregations import INVOICE_AGGREGATION
from components import StreamAggregator

config = pulumi.Config()
stack = pulumi.get_stack()

invoices = StreamAggregator(
    "invoices",
    {
        **INVOICE_AGGREGATION,
        "source_table_name": config.get("sourceTableName") or f"InvoiceTransactions-{stack}",
        "aggregate_table_name": config.get("aggregateTableName") or f"InvoiceTotal-{stack}",
        "batch_size": config.get_int("batchSize", 100),
        "batching_window_seconds": config.get_int("batchingWindowSeconds", 0),
        "max_retry_attempts": config.get_int("maxRetryAttempts", 10),
        "memory_size": config.get_int("memorySize", 256),
        "timeout": config.get_int("timeout", 60),
        "log_retention_days": config.get_int("logRetentionDays", 30),
        "deletion_protection": config.get_bool("deletionProtection", False),
        "alarm_actions": [config.get("alarmTopicArn")] if config.get("alarmTopicArn") else [],
        "tags": {"app": "invoicing", "stack": stack},
    },
)

pulumi.export("source_table_name", invoices.source_table.name)
pulumi.export("stream_arn", invoices.source_table.stream_arn)
pulumi.export("aggregate_table_name", invoices.aggregate_table.name)
pulumi.export("ledger_table_name", invoices.ledger_table.name if invoices.ledger_table else None)
pulumi.export("function_name", invoices.function.name)
pulumi.export("failure_queue_url", invoices.failure_queue.url)
pulumi.export("quarantine_queue_url", invoices.quarantine_queue.url)
