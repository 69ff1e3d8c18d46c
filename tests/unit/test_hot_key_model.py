"""One aggregate key's ceiling (``capacity_model.hot_key_ceiling``), on inputs worked by hand."""

import pytest

from benchmarks.capacity_model import hot_key_ceiling


def test_a_batch_of_100_items_is_two_transactions_so_a_key_takes_half_the_records_a_second():
    # 99 items and the aggregate in one transaction, the 100th item in a second: 50 records a transaction
    ceiling = hot_key_ceiling(service_seconds=0.050, records_per_batch=100)
    assert ceiling.transactions_per_batch == 2
    assert ceiling.transactions_per_second == pytest.approx(20)
    assert ceiling.records_per_second == pytest.approx(1000)
    assert ceiling.bound == "service time"


def test_99_items_fill_one_transaction():
    ceiling = hot_key_ceiling(service_seconds=0.050, records_per_batch=99)
    assert ceiling.transactions_per_batch == 1
    assert ceiling.records_per_second == pytest.approx(99 * 20)


def test_small_batches_carry_few_records_a_transaction():
    assert hot_key_ceiling(0.050, records_per_batch=10).records_per_second == pytest.approx(10 * 20)
    assert hot_key_ceiling(0.050, records_per_batch=198).records_per_second == pytest.approx(99 * 20)


def test_fewer_actions_a_transaction_mean_more_transactions_a_batch():
    ceiling = hot_key_ceiling(0.010, records_per_batch=100, max_actions=26)
    assert ceiling.transactions_per_batch == 4  # 25 items each
    assert ceiling.records_per_second == pytest.approx(25 * 100)


def test_a_short_service_time_meets_the_partitions_1000_write_units_a_second():
    # each transaction writes the aggregate twice (prepare, commit): 1,000 / 2 = 500 transactions a second
    ceiling = hot_key_ceiling(service_seconds=0.001, records_per_batch=100)
    assert ceiling.bound == "partition"
    assert ceiling.transactions_per_second == pytest.approx(500)
    assert ceiling.records_per_second == pytest.approx(500 * 50)
    # an aggregate item over 1 KB costs 2 units a write, halving it
    assert hot_key_ceiling(0.001, 100, aggregate_write_units=2).transactions_per_second == pytest.approx(250)
    # at 2 ms the two bounds meet
    assert hot_key_ceiling(0.002, 100).transactions_per_second == pytest.approx(500)


def test_the_ceiling_is_inverse_in_the_service_time():
    assert hot_key_ceiling(0.600, 100).records_per_second == pytest.approx(
        hot_key_ceiling(0.300, 100).records_per_second / 2
    )


@pytest.mark.parametrize(
    ("service_seconds", "records", "actions"),
    [
        pytest.param(0, 100, 100, id="no service time"),
        pytest.param(0.01, 0, 100, id="no records"),
        pytest.param(0.01, 100, 1, id="no room for an item"),
    ],
)
def test_inputs_that_mean_nothing_are_refused(service_seconds, records, actions):
    with pytest.raises(ValueError):
        hot_key_ceiling(service_seconds, records, max_actions=actions)
