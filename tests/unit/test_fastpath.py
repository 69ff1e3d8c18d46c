"""The fused fast path and the general path must plan every batch identically."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.fastpath import fast_reader
from handler.planner import plan_batch
from handler.spec import parse_spec
from tests.conftest import INVOICE_SPEC, invoice_image, stream_record

SPECS = [
    parse_spec(INVOICE_SPEC),
    parse_spec({**INVOICE_SPEC, "ttl_deletes": "ignore"}),
    parse_spec({"partition_key": "InvoiceNumber", "group_by": "Customer", "measures": [{"name": "C", "op": "count"}]}),
    parse_spec(
        {
            **INVOICE_SPEC,
            "group_by": ["Customer", {"attribute": "When", "bucket": "hour"}],
            "timezone": "Europe/Berlin",
        }
    ),
]

amount = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9).map(
        lambda d: {"N": format(d, "f")}
    ),
    st.sampled_from(
        [
            {"N": "NaN"},
            {"N": "1e5"},
            {"N": "x"},
            {"S": "12"},
            {"N": "9" * 39},
            {"N": "0.1"},
            {"N": "1E+200"},
            {"N": "1E-131"},
            {"N": "1" + "0" * 40},
        ]
    ),
    st.none(),
)
value = st.one_of(
    st.sampled_from(["A", "B", "C"]).map(lambda v: {"S": v}), st.sampled_from([{"N": "1"}, {"N": "1.0"}, None])
)

when = st.sampled_from(
    [
        {"S": "2026-10-25T00:30:00Z"},  # 02:30 CEST, the first of Berlin's two 02:xx hours
        {"S": "2026-10-25T01:30:00Z"},  # 02:30 CET, the second: the same hour label
        {"S": "2026-03-29T02:30"},  # a wall time inside the skipped hour, labelled as written
        {"S": "2026-11-28"},
        {"S": "06062016"},
        {"N": "1764300000"},
        None,
    ]
)


@st.composite
def image(draw):
    result = {"InvoiceNumber": draw(value), "TransactionId": {"S": "t"}, "Amount": draw(amount)}
    result["Customer"] = draw(value)
    result["When"] = draw(when)
    if draw(st.booleans()):
        result["InvoiceDate"] = {"S": draw(st.sampled_from(["d1", "d2"]))}
    return {k: v for k, v in result.items() if v is not None}


@st.composite
def record(draw, sequence):
    name = draw(st.sampled_from(["INSERT", "MODIFY", "REMOVE", "BOGUS"]))
    old = draw(image()) if name in ("MODIFY", "REMOVE") and draw(st.integers(0, 9)) else None
    new = draw(image()) if name in ("INSERT", "MODIFY", "BOGUS") and draw(st.integers(0, 9)) else None
    created = draw(st.sampled_from([None, 1_700_000_000, 1_700_000_000_123, 1.7e9]))
    raw = stream_record(sequence, name, new=new, old=old, ttl=draw(st.booleans()), created_at=created or 0)
    if created is None:
        del raw["dynamodb"]["ApproximateCreationDateTime"]
    if "InvoiceNumber" not in raw["dynamodb"]["Keys"]:
        raw["dynamodb"]["Keys"]["InvoiceNumber"] = draw(value) or {"S": "A"}
    return raw


@st.composite
def batch(draw):
    sequences = draw(st.lists(st.integers(1, 60), min_size=1, max_size=12))
    return [draw(record(sequence)) for sequence in sequences]


def plans_equal(a, b):
    assert {k: (v.group_value, v.deltas) for k, v in a.keys.items()} == {
        k: (v.group_value, v.deltas) for k, v in b.keys.items()
    }
    assert [(q.position, q.reason) for q in a.quarantine] == [(q.position, q.reason) for q in b.quarantine]
    assert a.counters == b.counters and a.sequence_numbers == b.sequence_numbers


@settings(max_examples=300)
@given(records=batch(), spec_index=st.integers(0, len(SPECS) - 1))
def test_fast_and_general_paths_agree(records, spec_index):
    spec = SPECS[spec_index]
    plans_equal(plan_batch(spec, records, now=1_800_000_000), plan_batch(spec, records, now=1_800_000_000, fast=False))


def test_fast_path_takes_the_common_shape_and_declines_the_rest():
    read = fast_reader(SPECS[0])
    good = stream_record(1, "INSERT", new=invoice_image("A", "t", "1", "d"))
    assert read(good, 0, 0) is not None
    without_sort_key = stream_record(1, "INSERT", new=invoice_image("A", "t", "1", "d"), keys=("InvoiceNumber",))
    assert read(without_sort_key, 0, 0) is None, "the general path quarantines it, naming the missing key"
    assert read(stream_record(1, "REMOVE", old=good["dynamodb"]["NewImage"], ttl=True), 0, 0) is None
    bad = stream_record(1, "INSERT", new={"InvoiceNumber": {"S": "A"}, "Amount": {"S": "1"}, "InvoiceDate": {"S": "d"}})
    assert read(bad, 0, 0) is None
    assert fast_reader(parse_spec({**INVOICE_SPEC, "filter": {"attribute": "S", "values": ["x"]}})) is None


@pytest.mark.parametrize("amount", ["1E+200", "1E-131", "1" + "0" * 40, "-0.000", "1e5", "9" * 38])
def test_both_paths_agree_on_numbers_at_dynamodb_s_limits(amount):
    """Named cases: the generated batches reach each of these only now and then."""
    records = [stream_record(1, "INSERT", new=invoice_image("A", "t", amount, "d"))]
    plans_equal(plan_batch(SPECS[0], records, now=0), plan_batch(SPECS[0], records, now=0, fast=False))
