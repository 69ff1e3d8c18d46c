"""The capacity model's arithmetic, on inputs worked by hand."""

import pytest

from benchmarks.capacity_model import (
    ONE_VCPU_MB,
    Assumptions,
    Measured,
    cpu_share,
    lambda_seconds,
    ledger_storage_dollars,
    per_million,
    quarantine_dollars,
    stream_read_dollars,
)
from benchmarks.client_cpu import BatchCpu, ClientCpu, print_client_cpu
from benchmarks.cost import batches
from benchmarks.prices import Prices

PRICES = Prices()


def test_a_million_records_in_batches_of_100():
    # 10,000 invocations; CPU 1 s in all at one vCPU is 0.01 s each at 1769 MB; one 10 ms round trip each.
    measured = Measured(
        records=1_000_000, invocations=10_000, write_units=2_000_000, write_rounds=10_000, cpu_seconds=100
    )
    cost = per_million(measured, Assumptions(memory_mb=1769, write_round_trip_seconds=0.01), PRICES)
    assert cost.invocations == 10_000
    assert cost.duration_seconds == pytest.approx(0.02)
    assert cost.gb_seconds == pytest.approx(10_000 * 0.02 * 1769 / 1024)
    assert cost.dynamodb_dollars == pytest.approx(2 * 0.625)
    assert cost.lambda_dollars == pytest.approx(0.01 * 0.20 + cost.gb_seconds * 0.0000133334)


def test_less_memory_is_less_cpu_so_longer_cpu_time():
    measured = Measured(records=100, invocations=1, write_units=200, write_rounds=0, cpu_seconds=0.01)
    full = per_million(measured, Assumptions(memory_mb=1769), PRICES)
    eighth = per_million(measured, Assumptions(memory_mb=1769 // 8), PRICES)
    assert eighth.duration_seconds == pytest.approx(full.duration_seconds * 1769 / (1769 // 8))


def test_lambdas_share_of_a_vcpu_grows_with_memory_up_to_one_core():
    assert cpu_share(ONE_VCPU_MB) == 1.0
    assert cpu_share(128) == pytest.approx(128 / 1769)
    # above 1,769 MB Lambda adds a second core, which the handler's one thread (the GIL) cannot use
    assert cpu_share(3008) == 1.0
    # issue 18's arithmetic: 50 ms of CPU on a full core is about 345 ms at 256 MB
    assert lambda_seconds(0.050, 256) == pytest.approx(0.050 * 1769 / 256)


def test_the_duration_is_the_cpu_at_lambdas_share_plus_the_round_trips():
    measured = Measured(records=100, invocations=1, write_units=200, write_rounds=3, cpu_seconds=0.05)
    cost = per_million(measured, Assumptions(memory_mb=512, write_round_trip_seconds=0.01), PRICES)
    assert cost.duration_seconds == pytest.approx(lambda_seconds(0.05, 512) + 0.03)


def test_client_cpu_is_counted_in_put_items_and_a_missed_target_marked(capsys):
    over = ClientCpu(
        BatchCpu("invoices", 10, 50, 50, cpu_seconds=0.030, plan_fold_seconds=0.002, put_items=28), 10, 0.001
    )
    under = ClientCpu(BatchCpu("fan-in", 10, 2, 2, cpu_seconds=0.004, plan_fold_seconds=0.001, put_items=4.5), 5, 0.001)
    print_client_cpu([over, under])
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")}
    assert "<= 10!" in rows["invoices"] and "<= 5!" not in rows["fan-in"] and "<= 5" in rows["fan-in"]
    assert " 28.0 " in rows["invoices"] and " 4.5 " in rows["fan-in"], "the batches' own ratios, not ms / the unit"
    assert " 2.0 " in rows["invoices"], "plan+fold: its ms / the run's unit"
    # at 128 MB the 30 ms of a full core take 30 * 1769 / 128 ms
    assert f"{0.030 * 1769 / 128 * 1000:.0f}ms" in rows["invoices"]


def test_the_other_costs():
    assert stream_read_dollars(1_000_000, PRICES) == pytest.approx(1000 / 100_000 * 0.02)
    # 10 messages of 10 KB: one SendMessageBatch of 100 KB is two 64 KB requests; a receive and a delete each.
    assert quarantine_dollars(10, 10 * 1024, PRICES) == pytest.approx((2 + 20) / 1e6 * 0.40)
    assert ledger_storage_dollars(2**30 // 222, 122, PRICES) == pytest.approx(0.25, rel=1e-6)


def test_lanes_keep_each_items_records_in_order_and_lose_none():
    records = [{"dynamodb": {"Keys": {"Id": {"S": f"i{n % 7}"}}, "SequenceNumber": str(n)}} for n in range(50)]
    dealt = list(batches(records, batch_size=5, lanes=3))
    assert sorted(int(r["dynamodb"]["SequenceNumber"]) for b in dealt for r in b) == list(range(50))
    for item in {r["dynamodb"]["Keys"]["Id"]["S"] for r in records}:
        order = [
            int(r["dynamodb"]["SequenceNumber"]) for b in dealt for r in b if r["dynamodb"]["Keys"]["Id"]["S"] == item
        ]
        assert order == sorted(order)
