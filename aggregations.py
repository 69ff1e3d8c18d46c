"""The invoice aggregation, defined once: the Pulumi stack deploys it and `make demo` runs it."""

from __future__ import annotations

from typing import Any

INVOICE_AGGREGATION: dict[str, Any] = {
    "partition_key": "InvoiceNumber",
    "sort_key": "TransactionId",
    "measures": [
        {"name": "Total", "op": "sum", "attribute": "Amount"},
        {"name": "TransactionCount", "op": "count"},
        {"name": "UpdateDate", "op": "latest", "attribute": "InvoiceDate"},
        {"name": "LargestTransaction", "op": "max", "attribute": "Amount"},
    ],
}
"""InvoiceTransactions (InvoiceNumber, TransactionId, Amount, InvoiceDate) -> InvoiceTotal, with the
largest transaction per invoice (a max, exact when that transaction is lowered or removed)."""

ORDERS_AGGREGATION: dict[str, Any] = {
    "partition_key": "OrderId",
    "group_by": "CustomerId",
    "measures": [
        {"name": "Revenue", "op": "sum", "attribute": "Amount"},
        {"name": "OrderCount", "op": "count"},
        {"name": "LastOrderDate", "op": "latest", "attribute": "OrderDate"},
    ],
    "filter": {"attribute": "Status", "values": ["PAID"]},
}
"""The README's example of reuse: revenue, order count and last order date per customer, paid orders only."""

DAILY_REVENUE_AGGREGATION: dict[str, Any] = {
    "partition_key": "OrderId",
    "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}],
    "timezone": "Europe/Berlin",
    "measures": [
        {"name": "Revenue", "op": "sum", "attribute": "Amount"},
        {"name": "OrderCount", "op": "count"},
    ],
}
"""Revenue and order count per customer per day (Berlin's days) from an Orders table (OrderId,
CustomerId, OrderDate as ISO 8601, Amount): the aggregate key is CustomerId#OrderDate_day, e.g.
C-17#2026-11-28, and each item also carries CustomerId and OrderDate_day."""
