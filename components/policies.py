"""IAM policy documents as pure functions of ARNs, so they can be tested without Pulumi."""

from __future__ import annotations

from typing import Any

from .errors import StreamAggregatorArgsError, StreamAggregatorError

ASSUME_ROLE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

INLINE_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
"""Single-source mode (handler/inline_store.py): a conditional UpdateItem, and a GetItem after a
failed condition when the item did not come back with the error."""
TRACE_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
"""What Lambda's active tracing sends with the function's role. The X-Ray SDK's sampling reads
(xray:GetSampling*) are left out: the handler does not use the SDK, and Lambda samples by itself."""
RESOURCE_STAR_ACTIONS = frozenset({"dynamodb:ListStreams", *TRACE_ACTIONS})
"""The actions granted on "*", because IAM defines no resource type for them (Service Authorization
Reference, DynamoDB and X-Ray). policy/rules.py keeps a copy; tests/repo/test_policy_pack.py compares."""
TRANSACTION_ONLY = {"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}}
"""Ledger mode writes its tables only inside TransactWriteItems, whose actions IAM authorises as the
underlying UpdateItem, PutItem and DeleteItem ("Using IAM with DynamoDB transactions"); this condition
refuses the same calls made on their own."""
EXTREMES_ACTIONS = ["dynamodb:DeleteItem", "dynamodb:PutItem"]
"""The extremes table's entries, in the transactions that write the ledger: a Put when a source item
contributes to a min/max, a Delete when it stops. The handler never reads the table (readers do:
ops' query and reconcile Query its indexes), so it is granted no Query, GetItem or UpdateItem."""


def table_streams(stream_arn: str) -> str:
    """The streams of the one table that ``stream_arn`` belongs to: ``<table ARN>/stream/*``.

    Why not the stream ARN itself: its label is a timestamp with colons
    (``.../stream/2015-05-11T21:21:33.291``), which IAM linters that split ARNs on ':' misread,
    and a re-enabled stream gets a new label. The grant still covers this table's streams only.
    """
    table, separator, _ = stream_arn.partition("/stream/")
    if not separator:
        raise StreamAggregatorArgsError(
            f"StreamAggregator argument existing_source.stream_arn is not a DynamoDB stream ARN: {stream_arn!r}"
        )
    return f"{table}/stream/*"


def table_statements(
    aggregate_table_arn: str, ledger_table_arn: str | None, extremes_table_arn: str | None = None
) -> list[dict[str, Any]]:
    """Exactly the item calls the handler's store makes, on exactly its tables. The extremes table
    exists only beside a ledger (a single-source aggregate item holds its min and max itself)."""
    if ledger_table_arn is None:
        if extremes_table_arn is not None:
            raise StreamAggregatorError("an extremes table without a ledger: single-source aggregates hold their own")
        return [
            {
                "Sid": "WriteAggregates",
                "Effect": "Allow",
                "Action": INLINE_TABLE_ACTIONS,
                "Resource": aggregate_table_arn,
            }
        ]
    return [
        {
            "Sid": "WriteAggregatesInTransactions",
            "Effect": "Allow",
            "Action": "dynamodb:UpdateItem",
            "Resource": [aggregate_table_arn, ledger_table_arn],
            "Condition": TRANSACTION_ONLY,
        },
        {"Sid": "ReadLedgerEntries", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": ledger_table_arn},
        *_extremes_statements(extremes_table_arn),
    ]


def _extremes_statements(extremes_table_arn: str | None) -> list[dict[str, Any]]:
    if extremes_table_arn is None:
        return []
    return [
        {
            "Sid": "WriteExtremesInTransactions",
            "Effect": "Allow",
            "Action": EXTREMES_ACTIONS,
            "Resource": extremes_table_arn,
            "Condition": TRANSACTION_ONLY,
        }
    ]


def handler_policy(
    stream_arn: str,
    aggregate_table_arn: str,
    queue_arns: list[str],
    log_group_arn: str,
    kms_key_arn: str | None = None,
    ledger_table_arn: str | None = None,
    tracing: bool = False,
    extremes_table_arn: str | None = None,
) -> dict[str, Any]:
    """Least privilege for the aggregator Lambda: read its stream, update its tables, send to its
    two queues (the mapping's on-failure destination is sent with the function's role), log, and
    send traces when active tracing is on."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadSourceStream",
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            "Resource": table_streams(stream_arn),
        },
        {"Sid": "ListStreams", "Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"},
        *table_statements(aggregate_table_arn, ledger_table_arn, extremes_table_arn),
        {"Sid": "SendToQueues", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": sorted(queue_arns)},
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        },
    ]
    if kms_key_arn:
        statements.append({"Sid": "DecryptStream", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key_arn})
    if tracing:
        statements.append({"Sid": "WriteTraces", "Effect": "Allow", "Action": TRACE_ACTIONS, "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}
