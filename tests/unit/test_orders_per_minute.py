"""The per-minute orders view of `demo --watch`: its clock, window, orders and table (pure)."""

import random
from datetime import UTC, datetime
from decimal import Decimal

from rich.console import Console

from handler.grouping import composite_group
from handler.spec import parse_spec
from ops.local.orders_per_minute import (
    ORDERS_PER_MINUTE,
    MinuteTotal,
    OrderClock,
    generated_order,
    series_table,
    window,
)

STARTED = 1_795_874_700.0  # 2026-11-28T14:05:00Z


def test_the_order_clock_is_the_wall_clock_at_speed_one():
    assert OrderClock(started=STARTED).now(STARTED + 90.5) == datetime.fromtimestamp(STARTED + 90.5, UTC)


def test_a_faster_order_clock_scales_the_time_since_it_started():
    assert OrderClock(started=STARTED, speed=60).now(STARTED + 1.5) == datetime(2026, 11, 28, 14, 6, 30, tzinfo=UTC)


def test_the_window_is_the_last_minutes_and_none_before_the_first():
    first = datetime(2026, 11, 28, 14, 5, 30, tzinfo=UTC)
    assert window(first, datetime(2026, 11, 28, 14, 20, 10, tzinfo=UTC), 10) == ("2026-11-28T14:11", "2026-11-28T14:20")
    assert window(first, datetime(2026, 11, 28, 14, 7, tzinfo=UTC), 10) == ("2026-11-28T14:05", "2026-11-28T14:07")
    assert window(first, datetime(2026, 11, 28, 15, 0, tzinfo=UTC), 1) == ("2026-11-28T15:00", "2026-11-28T15:00")


def test_the_handler_keys_an_order_in_the_minute_its_date_says():
    """The date is written to the millisecond and truncated, never rounded into the next minute."""
    moment = datetime(2026, 11, 28, 14, 5, 59, 999_900, tzinfo=UTC)
    order = generated_order(random.Random(0), 7, moment)
    assert order["OrderId"] == "O0000007" and order["OrderDate"] == "2026-11-28T14:05:59.999+00:00"
    image = {name: {"N": value} if name == "Amount" else {"S": value} for name, value in order.items()}
    assert composite_group(parse_spec(ORDERS_PER_MINUTE), image).value == {"S": "2026-11-28T14:05"}


def test_the_table_shows_every_minute_of_the_series_with_its_count_and_revenue():
    series = [
        MinuteTotal("2026-11-28T14:05", 3, Decimal("120.50")),
        MinuteTotal("2026-11-28T14:06", 0, Decimal(0)),
        MinuteTotal("2026-11-28T14:07", 1, Decimal("9.99")),
    ]
    console = Console(record=True, width=120)
    console.print(series_table(series, speed=60))
    lines = console.export_text().splitlines()
    assert "OrdersPerMinute (UTC, order time runs 60x the wall clock)" in lines[0]
    rows = [[cell.strip() for cell in line.split("│")[1:4]] for line in lines if "2026-11-28T14:0" in line]
    assert rows == [
        ["2026-11-28T14:05", "3", "120.50"],
        ["2026-11-28T14:06", "0", "0"],
        ["2026-11-28T14:07", "1", "9.99"],
    ]
