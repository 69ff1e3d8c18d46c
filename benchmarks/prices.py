"""The on-demand prices the capacity model uses: US East (N. Virginia), as published on AWS's pricing
pages and read on 2026-11-28. Prices change and differ by region: pass your own to ``capacity.run``.

Sources: aws.amazon.com/lambda/pricing (Arm duration, first tier; requests), aws.amazon.com/dynamodb/pricing/on-demand
(write request units since the November 2024 reduction; storage; DynamoDB Streams read request units, "GetRecords API
calls invoked by AWS Lambda as part of DynamoDB triggers" not charged), aws.amazon.com/sqs/pricing (standard queue,
each 64 KB chunk of a request billed as one request).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prices:
    region: str = "us-east-1"
    read_on: str = "2026-11-28"
    lambda_per_million_requests: float = 0.20
    lambda_per_gb_second_arm: float = 0.0000133334
    dynamodb_per_million_write_units: float = 0.625
    dynamodb_per_gb_month: float = 0.25
    stream_reads_per_100k: float = 0.02
    """Stream read request units for readers other than a Lambda trigger: ``backfill`` and ``replay``."""
    sqs_per_million_requests: float = 0.40


ON_DEMAND_US_EAST_1 = Prices()
