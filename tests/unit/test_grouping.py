"""group_by parts: the spec's rules, the composite key, bucket labels in a time zone, and bad dates."""

import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

import ops.__main__ as cli
from handler.buckets import REGION_AREAS, Bucket, label, region_zone_problem, zone, zone_file
from handler.config import HandlerConfig
from handler.contribution import image_contribution
from handler.errors import InvalidImage, MalformedKey
from handler.fastpath import fast_reader
from handler.grouping import composite_group, decode_key, encode_key, part_attributes
from handler.planner import plan_batch
from handler.processor import store_for
from handler.spec import SpecError, parse_spec
from ops.errors import CommandError
from ops.query import bucket_start, labels_between
from tests.conftest import SOURCE_TABLE_ARN, stream_record

ORDERS = {
    "partition_key": "OrderId",
    "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}],
    "measures": [{"name": "Revenue", "op": "sum", "attribute": "Amount"}, {"name": "OrderCount", "op": "count"}],
}


def spec_with(**changes):
    return parse_spec({**ORDERS, **changes})


def key_of(spec, **attributes):
    return composite_group(spec, attributes).value["S"]


def test_a_composite_group_is_keyed_by_one_string_and_names_its_parts():
    spec = spec_with()
    assert spec.group_by == "CustomerId#OrderDate_day"
    assert [part.name for part in spec.group_parts] == ["CustomerId", "OrderDate_day"]
    assert not spec.single_source, "an item can move between buckets: the ledger keeps its positions"
    group = composite_group(spec, {"CustomerId": {"S": "C-17"}, "OrderDate": {"S": "2026-11-28T09:30:00Z"}})
    assert group.value == {"S": "C-17#2026-11-28"} and group.token == "S:C-17#2026-11-28"
    assert part_attributes(spec, group.value) == {"CustomerId": {"S": "C-17"}, "OrderDate_day": {"S": "2026-11-28"}}


def test_the_single_attribute_form_is_unchanged():
    spec = parse_spec({**ORDERS, "group_by": "CustomerId"})
    assert spec.group_parts == () and spec.group_by == "CustomerId"
    assert json.loads(spec.to_json())["group_by"] == "CustomerId"
    contribution = image_contribution(spec, {"CustomerId": {"N": "1.50"}, "Amount": {"N": "1"}})
    assert contribution.group_value == {"N": "1.5"} and contribution.group_token == "N:1.5"


def test_the_spec_round_trips_through_the_lambda_environment():
    spec = spec_with(
        group_by=[
            {"attribute": "StoreId", "type": "N"},
            {"attribute": "At", "bucket": "hour", "date": "epoch_millis"},
            {"attribute": "Legacy", "bucket": "month", "format": "%m%d%Y"},
        ],
        timezone="America/New_York",
    )
    assert parse_spec(spec.to_json()) == spec
    assert spec.group_by == "StoreId#At_hour#Legacy_month"


@pytest.mark.parametrize(
    ("group_by", "extra", "message"),
    [
        pytest.param(
            [{"attribute": "D", "bucket": "fortnight"}], {}, r"group_by\[0\]\.bucket must be one of", id="bucket"
        ),
        pytest.param(
            ["C", {"attribute": "D", "format": "%Y"}], {}, r"group_by\[1\]\.format .*no bucket", id="fmt-no-b"
        ),
        pytest.param(["C", {"attribute": "D", "date": "epoch_seconds"}], {}, r"group_by\[1\]\.date", id="date-no-b"),
        pytest.param(
            ["C", {"attribute": "D", "bucket": "day", "format": "%m%d%Y", "date": "epoch_seconds"}],
            {},
            r"group_by\[1\]\.format reads date strings",
            id="format-with-epoch",
        ),
        pytest.param(
            ["C", {"attribute": "D", "bucket": "day", "format": "%Y-%m"}],
            {},
            r"group_by\[1\]\.format '%Y-%m' cannot tell day buckets apart",
            id="format-too-coarse",
        ),
        pytest.param(["C", {"attribute": "D", "bucket": "day", "format": "day"}], {}, r"\.format must be", id="no-%"),
        pytest.param(
            ["C", {"attribute": "D", "bucket": "day", "format": "%Y-%m-%d %H:%M %Z"}],
            {"timezone": "Europe/Berlin"},
            r"group_by\[1\]\.format .*%Z.*%z",
            id="zone-name-directive",
        ),
        pytest.param(["C", {"attribute": "D", "bucket": "day", "date": "rfc822"}], {}, r"\.date must be", id="date"),
        pytest.param(["C", {"attribute": "D", "bucket": "day"}], {"timezone": "Europe/Berln"}, "timezone", id="tz"),
        pytest.param(["C", "D"], {"timezone": "UTC"}, "timezone applies to time buckets", id="tz-no-bucket"),
        pytest.param(["C"], {}, "give it as a string", id="one-attribute"),
        pytest.param([], {}, "non-empty list", id="empty"),
        pytest.param(["C", "C"], {}, r"group_by\[0\] and group_by\[1\] both write the attribute 'C'", id="twice"),
        pytest.param(["C", {"attribute": "C", "type": "B"}], {}, r"group_by\[1\]\.type must be", id="type"),
        pytest.param(["C", {"attribute": "D", "bucket": "day", "type": "N"}], {}, r"group_by\[1\]\.type", id="b-type"),
        pytest.param(["C", {"bucket": "day"}], {}, r"group_by\[1\]\.attribute", id="no-attribute"),
        pytest.param(["C", {"attribute": "D", "colour": 1}], {}, r"group_by\[1\] has unknown field", id="unknown"),
        pytest.param(["C", "_wmX"], {}, "reserved", id="internal"),
        pytest.param([f"A{i}" for i in range(9)], {}, "at most 8", id="too-many"),
        pytest.param(["A" * 200, "B" * 60], {}, "longer than DynamoDB's 255 bytes", id="key-name"),
        pytest.param(["C", "Revenue"], {}, "collides with a group_by part", id="measure-collides"),
    ],
)
def test_bad_parts_are_named(group_by, extra, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({**ORDERS, "group_by": group_by, **extra})


def test_a_timezone_is_a_zone_name_never_a_path_to_a_file():
    """The component copies the zone's file into the Lambda package: a path would ship whatever file it names
    (any valid TZif file on the deploying machine) under a name the Lambda's own database does not know."""
    path = zone_file("UTC")
    assert path is not None and path.is_absolute() and path.is_file(), "this machine has a UTC zone file"
    with pytest.raises(SpecError, match="timezone"):
        parse_spec({**ORDERS, "timezone": str(path)})
    with pytest.raises(ValueError, match="is not an IANA region name"):
        zone_file(str(path))


NOT_REGION_NAMES = [
    "localtime",  # the deploying machine's own zone; the operator tools would read theirs
    "posixrules",
    "Factory",
    "right/Europe/Berlin",  # leap seconds in the transition times
    "posix/Europe/Berlin",
    "Etc/GMT+5",  # five hours behind UTC
    "Etc/UTC",
    "GMT",
    "US/Eastern",
    "EST5EDT",
    "CET",
    "europe/berlin",
    "Europe/berlin",
    "Europe/Berlin/",
    "Europe//Berlin",
    "Europe/../Europe/Berlin",
    "/usr/share/zoneinfo/Europe/Berlin",
    "Europe/Berlin ",
    "Mars/Olympus",
]


@pytest.mark.parametrize("name", NOT_REGION_NAMES)
def test_only_utc_and_iana_region_names_are_zones(name):
    """One predicate (handler.buckets.region_zone_problem) for the component, the handler (the spec it
    reads at cold start) and the operator tools (query's zone): each name here would resolve to a zone
    on some machine, and to another or none on the next."""
    with pytest.raises(SpecError, match=r"timezone .* is not an IANA region name"):
        parse_spec({**ORDERS, "timezone": name})
    with pytest.raises(ValueError, match="is not an IANA region name"):
        zone(name)


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Salta", "America/Port-au-Prince"])
def test_region_names_are_zones(name):
    assert parse_spec({**ORDERS, "timezone": name}).timezone == name


def test_no_region_name_of_this_machines_database_is_refused():
    regions = {name for name in available_timezones() if name.split("/")[0] in REGION_AREAS}
    assert len(regions) > 300, "this machine has an IANA database"
    assert [name for name in sorted(regions) if region_zone_problem(name)] == []


@given(st.lists(st.text(alphabet="ab#\\", min_size=1, max_size=5), min_size=1, max_size=4))
def test_the_key_encoding_splits_back_into_the_same_parts(texts):
    assert decode_key(encode_key(texts)) == texts


def test_separators_and_escapes_in_values_never_merge_two_groups():
    spec = spec_with(group_by=["A", "B"])
    keys = {
        key_of(spec, A={"S": "x#"}, B={"S": "y"}),
        key_of(spec, A={"S": "x"}, B={"S": "#y"}),
        key_of(spec, A={"S": "x\\"}, B={"S": "y"}),
        key_of(spec, A={"S": "x"}, B={"S": "\\y"}),
    }
    assert keys == {"x\\##y", "x#\\#y", "x\\\\#y", "x#\\\\y"}
    with pytest.raises(MalformedKey, match="escapes neither"):
        decode_key("x\\y")


def test_number_parts_are_normalised_as_dynamodb_compares_them():
    spec = spec_with(group_by=[{"attribute": "Store", "type": "N"}, "C"])
    assert key_of(spec, Store={"N": "1.50"}, C={"S": "c"}) == key_of(spec, Store={"N": "1.5"}, C={"S": "c"}) == "1.5#c"
    assert key_of(spec, Store={"N": "-0.0"}, C={"S": "c"}) == "0#c"
    assert part_attributes(spec, {"S": "1.5#c"}) == {"Store": {"N": "1.5"}, "C": {"S": "c"}}
    wide = "1234567890123456789012345678901234567.8"  # 38 digits: beyond the default context's 28
    assert key_of(spec, Store={"N": wide + "0"}, C={"S": "c"}) == wide + "#c"
    assert key_of(spec, Store={"N": wide[:-1] + "9"}, C={"S": "c"}) != wide + "#c"


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("minute", "2026-11-28T14:05"),
        ("hour", "2026-11-28T14"),
        ("day", "2026-11-28"),
        ("week", "2026-W48"),
        ("month", "2026-11"),
        ("year", "2026"),
    ],
)
def test_bucket_labels(bucket, expected):
    spec = spec_with(group_by=[{"attribute": "D", "bucket": bucket}])
    assert key_of(spec, D={"S": "2026-11-28T14:05:59.999+00:00"}) == expected
    assert spec.group_by == f"D_{bucket}" and part_attributes(spec, {"S": expected}) == {}


def test_iso_weeks_carry_the_iso_year():
    spec = spec_with(group_by=[{"attribute": "D", "bucket": "week"}])
    assert key_of(spec, D={"S": "2027-01-01"}) == "2026-W53"
    assert key_of(spec, D={"S": "2024-12-30"}) == "2025-W01"
    assert key_of(spec, D={"S": "0001-01-01"}) == "0001-W01", "years are four digits, always"


def test_an_offset_is_converted_to_the_zone_and_a_naive_time_is_wall_time():
    berlin = spec_with(group_by=[{"attribute": "D", "bucket": "day"}], timezone="Europe/Berlin")
    assert key_of(berlin, D={"S": "2026-11-28T23:30:00Z"}) == "2026-11-29"
    assert key_of(berlin, D={"S": "2026-11-28T23:30:00"}) == "2026-11-28"
    utc = spec_with(group_by=[{"attribute": "D", "bucket": "day"}])
    assert key_of(utc, D={"S": "2026-11-28T23:30:00-05:00"}) == "2026-11-29"


def test_daylight_saving_time_labels_by_wall_clock_time():
    hours = spec_with(group_by=[{"attribute": "D", "bucket": "hour"}], timezone="Europe/Berlin")
    # Clocks go back at 03:00 CEST on 2026-10-25: 00:30Z and 01:30Z are both 02:30 local, one bucket.
    assert key_of(hours, D={"S": "2026-10-25T00:30:00Z"}) == key_of(hours, D={"S": "2026-10-25T01:30:00Z"})
    assert key_of(hours, D={"S": "2026-10-25T00:30:00Z"}) == "2026-10-25T02"
    # Clocks go forward at 02:00 CET on 2026-03-29: 00:59Z is 01:59 and 01:00Z is 03:00.
    assert key_of(hours, D={"S": "2026-03-29T00:59:59Z"}) == "2026-03-29T01"
    assert key_of(hours, D={"S": "2026-03-29T01:00:00Z"}) == "2026-03-29T03"
    new_york = spec_with(
        group_by=[{"attribute": "D", "bucket": "day", "date": "epoch_seconds"}], timezone="America/New_York"
    )
    assert key_of(new_york, D={"N": "1793505600"}) == "2026-11-01", (
        "04:00 UTC on the day clocks go back is midnight EDT"
    )
    assert key_of(new_york, D={"N": "1793505599"}) == "2026-10-31"


@pytest.mark.parametrize(
    ("date", "value", "expected"),
    [
        ("epoch_seconds", {"N": "1764338759.9"}, "2025-11-28T14:05"),
        ("epoch_seconds", {"N": "-0.5"}, "1969-12-31T23:59"),
        ("epoch_millis", {"N": "1764338759999"}, "2025-11-28T14:05"),
        ("epoch_millis", {"N": "-1"}, "1969-12-31T23:59"),
        ("epoch_seconds", {"N": "-62135510400"}, "0001-01-02T00:00"),
        ("epoch_seconds", {"N": "253402214400"}, "9999-12-31T00:00"),
    ],
)
def test_epoch_numbers_are_floored_to_the_second(date, value, expected):
    spec = spec_with(group_by=[{"attribute": "D", "bucket": "minute", "date": date}])
    assert key_of(spec, D=value) == expected


@pytest.mark.parametrize(
    ("part", "value", "message"),
    [
        ({"bucket": "day"}, {"S": "06062016"}, "is not an ISO-8601 date: '06062016'"),
        ({"bucket": "day"}, {"N": "1764338759"}, "must be a date string"),
        ({"bucket": "day", "date": "epoch_seconds"}, {"S": "1764338759"}, r"must be a number \(N\) of epoch_seconds"),
        ({"bucket": "day", "date": "epoch_seconds"}, {"N": "253402214401"}, "outside"),
        ({"bucket": "day", "date": "epoch_millis"}, {"N": "-62135510400001"}, "outside"),
        ({"bucket": "day", "date": "epoch_seconds"}, {"N": "NaN"}, "is not a number"),
        ({"bucket": "day", "format": "%m%d%Y"}, {"S": "2016-06-06"}, "not a date in the format '%m%d%Y'"),
        ({"bucket": "day"}, {"S": "0001-01-01T00:00:00+01:00"}, "outside years 1 to 9999"),
        ({}, {"N": "1"}, r"must be a string \(S\)"),
        ({}, {"S": ""}, "is empty"),
        ({"type": "N"}, {"S": "1"}, r"must be a number \(N\)"),
    ],
)
def test_bad_dates_and_values_are_invalid_images_with_the_reason(part, value, message):
    spec = spec_with(group_by=["C", {"attribute": "D", **part}])
    with pytest.raises(InvalidImage, match=message):
        composite_group(spec, {"C": {"S": "c"}, "D": value})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T10:00:00Z", "2026-11-28T10:00"),
        ("2026-11-28t10:00:00Z", "2026-11-28T10:00"),
        ("2026-11-28 10:00", "2026-11-28T10:00"),
        ("20261128T1000", "2026-11-28T10:00"),
        ("2026-11-28T10", "2026-11-28T10:00"),
        ("2026-W48-6", "2026-11-28T00:00"),
        ("2026-11-28T10:00:59.9999999Z", "2026-11-28T10:00"),
        ("2026-11-28T10:00:00,5+0545", "2026-11-28T04:15"),
        ("2026-11-28T10:00-05", "2026-11-28T15:00"),
        # Python 3.11 reads an out-of-range offset minute as more hours (+01:99 is +02:39) where later
        # versions refuse it, reads a fraction after the hour as seconds (ISO: 10.5 is 10:30), and
        # 3.14 reads 24:00 as the next day: none is a date the handler and reconcile would read alike.
        ("2026-11-28T10:00+01:99", None),
        ("2026-11-28T10:00+00:60", None),
        ("2026-11-28T10:00+00:00:30", None),
        ("2026-11-28T10.5", None),
        ("2026-11-28T24:00", None),
        ("2026-11-28T23:59:60Z", None),
        ("2026-11-28x10:00", None),
        ("2026-11-28T10:00z", None),
        (" 2026-11-28", None),
        ("2026-11-28 ", None),
        ("\uff12\uff10\uff12\uff16-11-28", None),  # fullwidth digits
        ("10000-01-01", None),
        ("0000-01-01", None),
    ],
)
def test_iso_dates_are_read_by_one_grammar_whatever_python_runs(text, expected):
    """The Lambda's Python and the operator's (reconcile) may differ; ``datetime.fromisoformat`` has
    changed between versions, so what counts as an ISO date is fixed here, not by the running Python."""
    spec = spec_with(group_by=[{"attribute": "D", "bucket": "minute"}])
    if expected is None:
        with pytest.raises(InvalidImage, match="is not an ISO-8601 date"):
            composite_group(spec, {"D": {"S": text}})
    else:
        assert key_of(spec, D={"S": text}) == expected


def test_a_missing_part_or_an_overlong_key_is_invalid():
    spec = spec_with()
    with pytest.raises(InvalidImage, match="'OrderDate' is missing"):
        composite_group(spec, {"CustomerId": {"S": "c"}})
    with pytest.raises(InvalidImage, match="1024 bytes"):
        composite_group(spec, {"CustomerId": {"S": "é" * 1020}, "OrderDate": {"S": "2026-11-28"}})


def test_a_composite_key_fits_the_bucket_index_s_sort_key():
    """With index_by_bucket the aggregate key is the index's sort key, which DynamoDB limits to 1024 bytes; it
    rejects every write to an item whose index key is longer, also when the index is added later. A key the
    handler could not write would be one reconcile counts: the limit is 1024 for every composite key."""
    spec = spec_with()
    assert len(key_of(spec, CustomerId={"S": "é" * 506}, OrderDate={"S": "2026-11-28"}).encode()) == 1023
    assert len(key_of(spec, CustomerId={"S": "a" * 1013}, OrderDate={"S": "2026-11-28"}).encode()) == 1024
    with pytest.raises(InvalidImage, match="1025-byte key"):
        composite_group(spec, {"CustomerId": {"S": "a" * 1014}, "OrderDate": {"S": "2026-11-28"}})
    with pytest.raises(InvalidImage, match="1025-byte key"):
        composite_group(spec, {"CustomerId": {"S": "a#" * 338}, "OrderDate": {"S": "2026-11-28"}})


def test_the_seeds_dates_read_with_a_format():
    spec = spec_with(group_by=["CustomerId", {"attribute": "OrderDate", "bucket": "month", "format": "%m%d%Y"}])
    assert key_of(spec, CustomerId={"S": "ABC"}, OrderDate={"S": "06062016"}) == "ABC#2016-06"


def test_the_fast_path_reads_composite_groups():
    spec = spec_with()
    image = {"OrderId": {"S": "o"}, "CustomerId": {"S": "C"}, "OrderDate": {"S": "2026-11-28"}, "Amount": {"N": "2"}}
    result = fast_reader(spec)(stream_record(1, "INSERT", new=image, keys=("OrderId",)), 0, 0)
    assert result is not None and result[3][0][:2] == ("S:C#2026-11-28", {"S": "C#2026-11-28"})


@pytest.mark.parametrize("bucket", list(Bucket))
def test_labels_read_back_to_their_bucket_and_ranges_step_through_them(bucket):
    wall = datetime(2026, 12, 31, 23, 59)
    text = label(bucket, wall)
    assert label(bucket, bucket_start(bucket, text)) == text
    labels = labels_between(bucket, text, text, limit=1)
    assert labels == [text]
    assert bucket_start(bucket, "2026-13") is None or bucket is not Bucket.MONTH


def test_a_range_of_days_and_its_limit():
    assert labels_between(Bucket.DAY, "2026-02-27", "2026-03-02", limit=10) == [
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
    ]
    assert labels_between(Bucket.MONTH, "2026-11", "2027-02", limit=10) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert labels_between(Bucket.WEEK, "2026-W52", "2027-W01", limit=10) == ["2026-W52", "2026-W53", "2027-W01"]
    with pytest.raises(CommandError, match="more than 3"):
        labels_between(Bucket.DAY, "2026-01-01", "2026-01-04", limit=3)
    with pytest.raises(CommandError, match="not a day label"):
        labels_between(Bucket.DAY, "2026-02-30", "2026-03-01", limit=3)


def order(day: str, amount: str = "10", customer: str = "C-17") -> dict:
    return {"OrderId": {"S": "o1"}, "CustomerId": {"S": customer}, "OrderDate": {"S": day}, "Amount": {"N": amount}}


def test_an_order_whose_date_changes_moves_to_its_new_day_exactly():
    spec = spec_with()
    records = [
        stream_record(1, "INSERT", new=order("2026-11-28T10:00:00Z"), keys=("OrderId",)),
        stream_record(2, "MODIFY", old=order("2026-11-28T10:00:00Z"), new=order("2026-11-29", "12"), keys=("OrderId",)),
        stream_record(
            3, "MODIFY", old=order("2026-11-29", "12"), new=order("2026-11-29", "12", "C-18"), keys=("OrderId",)
        ),
        stream_record(4, "REMOVE", old=order("2026-11-29", "12", "C-18"), keys=("OrderId",)),
    ]
    for fast in (True, False):
        plan = plan_batch(spec, records, now=0, fast=fast)
        totals = {
            key: [(d.numbers["Revenue"], d.numbers["OrderCount"]) for d in plan.keys[key].deltas] for key in plan.keys
        }
        assert totals == {
            "S:C-17#2026-11-28": [(Decimal(10), 1), (Decimal(-10), -1)],
            "S:C-17#2026-11-29": [(Decimal(12), 1), (Decimal(-12), -1)],
            "S:C-18#2026-11-29": [(Decimal(12), 1), (Decimal(-12), -1)],
        }
        assert not plan.quarantine


def test_a_new_image_with_a_bad_date_is_quarantined_and_its_old_contribution_still_leaves():
    spec = spec_with()
    bad = order("06062016")
    records = [stream_record(1, "MODIFY", old=order("2026-11-28"), new=bad, keys=("OrderId",))]
    plan = plan_batch(spec, records, now=0)
    assert [q.reason for q in plan.quarantine] == [
        "invalid new image: attribute 'OrderDate' is not an ISO-8601 date: '06062016'"
    ]
    assert [d.numbers["OrderCount"] for d in plan.keys["S:C-17#2026-11-28"].deltas] == [-1]


class Recording:
    def __init__(self):
        self.transactions = []

    def transact_write_items(self, **request):
        self.transactions.append(request["TransactItems"])
        return {}


def test_the_handler_writes_a_composite_group_through_the_ledger_with_its_part_attributes():
    config = HandlerConfig(
        spec=spec_with(),
        aggregate_table="Agg",
        quarantine_queue_url="q",
        source_table_arn=SOURCE_TABLE_ARN,
        ledger_table="Ledger",
    )
    client = Recording()
    plan = plan_batch(config.spec, [stream_record(1, "INSERT", new=order("2026-11-28"), keys=("OrderId",))], now=0)
    outcome = store_for(config, client).apply(plan.keys["S:C-17#2026-11-28"])
    assert outcome.applied == [0]
    update = client.transactions[0][0]["Update"]
    assert update["Key"] == {"CustomerId#OrderDate_day": {"S": "C-17#2026-11-28"}}
    names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
    assert {names[f"#k{i}"]: values[f":k{i}"] for i in range(2)} == {
        "CustomerId": {"S": "C-17"},
        "OrderDate_day": {"S": "2026-11-28"},
    }


def test_the_operator_tools_refuse_a_spec_naming_their_own_machines_zone(tmp_path):
    """query would have labelled the range in the operator's zone, not the one the Lambda was given."""
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**ORDERS, "timezone": "localtime"}))
    console = Console(record=True, width=300)
    argv = ["query", "C-17", "2026-11-28", "--aws", "--spec", str(spec)]
    argv += ["--source-table", "Orders", "--aggregate-table", "Daily"]
    assert cli.main(argv, console) == 1
    assert console.export_text().strip() == (
        f"error: --spec {spec}: timezone 'localtime' is not an IANA region name: 'UTC' or a region name such as "
        "'Europe/Berlin' (areas: Africa, America, Antarctica, Arctic, Asia, Atlantic, Australia, Europe, Indian, "
        "Pacific)"
    )
