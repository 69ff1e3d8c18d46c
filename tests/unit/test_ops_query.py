"""`query`'s keys are spelled exactly as the handler spells them, from labels or ISO dates."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.grouping import composite_group
from handler.spec import parse_spec
from ops.errors import CommandError, InvalidRow
from ops.query import MAX_BUCKETS, not_found_notes, query_keys

SPEC = parse_spec(
    {
        "partition_key": "OrderId",
        "group_by": [{"attribute": "Store", "type": "N"}, "CustomerId", {"attribute": "OrderDate", "bucket": "week"}],
        "measures": [{"name": "OrderCount", "op": "count"}],
    }
)


def test_one_key_is_the_handlers_key_for_the_same_values():
    image = {"Store": {"N": "7.0"}, "CustomerId": {"S": "A#1"}, "OrderDate": {"S": "2026-11-28T10:00:00Z"}}
    assert query_keys(SPEC, ["7", "A#1", "2026-11-28"], None, None, "S") == [composite_group(SPEC, image).value]
    assert query_keys(SPEC, ["7.00", "A#1", "2026-W48"], None, None, "S") == [{"S": "7#A\\#1#2026-W48"}]


def test_a_range_covers_the_first_bucket_part_from_labels_or_dates():
    keys = query_keys(SPEC, ["7", "C"], "2026-12-20", "2027-W01", "S")
    assert [key["S"] for key in keys] == ["7#C#2026-W51", "7#C#2026-W52", "7#C#2026-W53", "7#C#2027-W01"]


BERLIN_DAYS = {
    "partition_key": "OrderId",
    "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}],
    "timezone": "Europe/Berlin",
    "measures": [{"name": "OrderCount", "op": "count"}],
}


def test_a_date_with_an_offset_names_the_bucket_the_handler_labels_it_in():
    berlin = parse_spec(BERLIN_DAYS)
    for date in ("2026-11-28T23:30:00Z", "2026-11-28T18:30:00-05:00", "2026-11-28T23:30"):
        handlers = composite_group(berlin, {"CustomerId": {"S": "C"}, "OrderDate": {"S": date}}).value
        assert query_keys(berlin, ["C", date], None, None, "S") == [handlers], date
        assert query_keys(berlin, ["C"], date, date, "S") == [handlers], date
    assert query_keys(berlin, ["C", "2026-11-28T23:30:00Z"], None, None, "S") == [{"S": "C#2026-11-29"}]


def test_a_range_over_the_doubled_autumn_hour_holds_both_real_hours():
    hours = parse_spec({**BERLIN_DAYS, "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "hour"}]})
    # Clocks go back at 01:00Z on 2026-10-25: 00:30Z and 01:30Z are both 02:30 in Berlin, one hour bucket.
    keys = query_keys(hours, ["C"], "2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z", "S")
    assert [key["S"] for key in keys] == ["C#2026-10-25T02", "C#2026-10-25T03"]
    doubled = composite_group(hours, {"CustomerId": {"S": "C"}, "OrderDate": {"S": "2026-10-25T01:30:00Z"}}).value
    assert doubled in keys


@pytest.mark.parametrize(
    ("values", "first", "last", "message"),
    [
        (["7", "C"], None, None, "give one value for each of: Store CustomerId OrderDate_week"),
        (["7", "C"], "2026-11-01", None, "give both --from and --to"),
        (["x", "C", "2026-W01"], None, None, r"group_by part 'Store' must be a number|is not a number"),
        (["7", "C"], "someday", "2026-W02", "'someday' is neither a week label nor an ISO date"),
        (["7", "C"], "2026-W05", "2026-W02", "--from 2026-W05 is after --to 2026-W02"),
        (["7", "C"], "0001-01-01", "9999-12-31", f"more than {MAX_BUCKETS}"),
    ],
)
def test_bad_input_is_one_line_naming_it(values, first, last, message):
    with pytest.raises(CommandError, match=message):
        query_keys(SPEC, values, first, last, "S")


def test_a_single_attribute_key_takes_the_tables_type():
    spec = parse_spec({"partition_key": "Id", "group_by": "Id", "measures": [{"name": "C", "op": "count"}]})
    assert query_keys(spec, ["1.50"], None, None, "N") == [{"N": "1.5"}]
    assert query_keys(spec, ["AAE="], None, None, "B") == [{"B": b"\x00\x01"}]
    with pytest.raises(CommandError, match="is not a N value"):
        query_keys(spec, ["x"], None, None, "N")


def test_load_needs_each_part_attribute_and_reads_epoch_parts_as_numbers():
    from ops.load_plan import to_item

    spec = parse_spec(
        {
            "partition_key": "OrderId",
            "group_by": ["CustomerId", {"attribute": "PlacedAt", "bucket": "day", "date": "epoch_seconds"}],
            "measures": [{"name": "OrderCount", "op": "count"}],
        }
    )
    row = {"OrderId": "o1", "CustomerId": "C", "PlacedAt": "1764338759"}
    assert to_item(spec, row)["PlacedAt"] == {"N": "1764338759"}
    with pytest.raises(InvalidRow, match="missing PlacedAt"):
        to_item(spec, {"OrderId": "o1", "CustomerId": "C"})


FULLWIDTH_WEEK = "\uff12\uff10\uff12\uff16-W48"
ARABIC_INDIC_DAY = "\u0662\u0660\u0662\u0666-11-28"


@pytest.mark.parametrize(
    ("values", "first", "last", "named"),
    [
        pytest.param(["7", "C", FULLWIDTH_WEEK], None, None, "group_by part 'OrderDate_week'", id="fullwidth-label"),
        pytest.param(["7", "C", ARABIC_INDIC_DAY], None, None, "group_by part 'OrderDate_week'", id="arabic-date"),
        pytest.param(["7", "C"], FULLWIDTH_WEEK, "2026-W50", "--from", id="from"),
        pytest.param(["7", "C"], "2026-W40", FULLWIDTH_WEEK, "--to", id="to"),
    ],
)
def test_digits_other_than_ascii_are_refused_naming_the_argument(values, first, last, named):
    """Before, a fullwidth or Arabic-Indic bucket label made a key no item has: "0 of 1 found", exit 1."""
    with pytest.raises(CommandError, match=f"{named} .* has digits other than 0-9"):
        query_keys(SPEC, values, first, last, "S")


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("\uff17", id="fullwidth"),
        pytest.param("7\u00b2", id="superscript"),
        pytest.param("7_0", id="underscore"),
        pytest.param("Infinity", id="infinity"),
    ],
)
def test_a_number_value_must_be_written_as_dynamodb_writes_one(number):
    """Python's Decimal reads "7_0" as 70 and fullwidth 7 as 7: a typo asked for another key, silently."""
    with pytest.raises(CommandError, match=r"group_by part 'Store' is not a number"):
        query_keys(SPEC, [number, "C", "2026-W48"], None, None, "S")


def test_a_single_number_key_in_other_digits_is_refused_and_text_is_taken_as_it_is():
    spec = parse_spec({"partition_key": "Id", "group_by": "Id", "measures": [{"name": "C", "op": "count"}]})
    with pytest.raises(CommandError, match=r"is not a N value of 'Id': the value is not a number"):
        query_keys(spec, ["\u0661\u0662"], None, None, "N")
    assert query_keys(SPEC, ["7", "\uff23-\uff11\uff17", "2026-W48"], None, None, "S") == [
        {"S": "7#\uff23-\uff11\uff17#2026-W48"}
    ], "a string value is text: any characters are a key the handler could have written"


DIGITS = "0123456789\uff10\uff12\u0660\u0662\u00b2\u096a\u0e52\u2163"
"""ASCII digits and other scripts' (fullwidth, Arabic-Indic, Devanagari, Thai), a superscript, a Roman numeral."""


def digits(count):
    return st.text(st.sampled_from(DIGITS), min_size=count, max_size=count)


LABEL_LIKE = st.one_of(
    st.builds("{}-W{}".format, digits(4), digits(2)),
    st.builds("{}-{}-{}".format, digits(4), digits(2), digits(2)),
    st.builds("{}-{}-{}T{}:{}Z".format, digits(4), digits(2), digits(2), digits(2), digits(2)),
    st.text(st.sampled_from(DIGITS + "-WT:Z+"), max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(LABEL_LIKE)
def test_a_bucket_argument_is_refused_or_names_a_label_the_handler_writes(text):
    try:
        (key,) = query_keys(SPEC, ["7", "C", text], None, None, "S")
    except CommandError:
        return
    assert key["S"].isascii() and re.fullmatch(r"7#C#[0-9]{4}-W[0-9]{2}", key["S"]), key


def column_text(rendered, column):
    """A one-row table's cell in ``column``, its folded lines joined."""
    body = [line for line in rendered.splitlines() if line.startswith("│")]
    return "".join(line.split("│")[column + 1].strip() for line in body)


def test_a_total_is_never_cut_short_in_piped_output():
    """rich cut a cell that did not fit to "…": piped, at 80 columns, a sum showed as "12345678901234567…"."""
    from io import StringIO

    from rich.console import Console

    from ops.query import query_table

    spec = parse_spec(
        {
            "partition_key": "Id",
            "group_by": "CustomerIdentifier",
            "measures": [
                {"name": "RevenueInCents", "op": "sum", "attribute": "A"},
                {"name": "TaxesInCents", "op": "sum", "attribute": "B"},
                {"name": "Orders", "op": "count"},
            ],
        }
    )
    customer = "C-" + "9" * 60
    item = {
        "CustomerIdentifier": {"S": customer},
        "RevenueInCents": {"N": "12345678901234567890123.45"},
        "TaxesInCents": {"N": "98765432109876543210.5"},
        "Orders": {"N": "123456"},
    }
    output = StringIO()
    Console(file=output, width=80).print(query_table(spec, [{"S": customer}], {customer: item}))
    rendered = output.getvalue()
    assert "…" not in rendered
    cells = [column_text(rendered, column) for column in range(4)]
    assert cells == [customer, "12345678901234567890123.45", "98765432109876543210.5", "123456"], rendered


def test_values_are_shown_with_control_characters_escaped_not_sent_to_the_terminal():
    from io import StringIO

    from rich.console import Console

    from ops.query import query_table

    spec = parse_spec(
        {
            "partition_key": "Id",
            "group_by": "Customer",
            "measures": [{"name": "Note", "op": "latest", "attribute": "Note"}],
        }
    )
    item = {"Customer": {"S": "C\n1"}, "Note": {"S": "\x1b]0;pwned\x07\x1b[2J"}}
    output = StringIO()
    Console(file=output, width=120).print(query_table(spec, [{"S": "C\n1"}], {"C\n1": item}))
    assert "\x1b" not in output.getvalue() and "\x07" not in output.getvalue()
    assert "C\\n1" in output.getvalue() and "\\x1b[2J" in output.getvalue(), output.getvalue()


def test_a_string_value_with_other_digits_or_spaces_at_an_end_that_found_nothing_is_pointed_out():
    assert not_found_notes(["C-\uff11\uff17", "C-17"]) == [
        "'C-\uff11\uff17' has digits other than 0-9: '\uff11' (U+FF11) '\uff17' (U+FF17); a key with 0-9 is another key"
    ]
    assert not_found_notes([" C-17", "C-17\t"]) == [
        "' C-17' has white space at an end: it is part of the key asked for",
        "'C-17\\t' has white space at an end: it is part of the key asked for",
    ]


def test_the_total_row_averages_over_all_items_and_takes_the_extreme_of_the_extremes():
    """Over several keys (a range of buckets): an avg is the summed sums over the summed counts, never an average
    of averages (which would give (10 + 1) / 2 = 5.5 here); the min is the smallest, the max the largest."""
    from handler.spec import parse_spec
    from ops.query import total_cells

    spec = parse_spec(
        {
            "partition_key": "Id",
            "measures": [
                {"name": "Mean", "op": "avg", "attribute": "Amount"},
                {"name": "Top", "op": "max", "attribute": "Amount"},
                {"name": "First", "op": "min", "attribute": "Day", "type": "S"},
                {"name": "Last", "op": "latest", "attribute": "Day"},
            ],
        }
    )
    items = [
        {"Mean_sum": {"N": "30"}, "Mean_count": {"N": "3"}},
        {"Mean_sum": {"N": "1"}, "Mean_count": {"N": "1"}},
        {"Mean_sum": {"N": "0"}, "Mean_count": {"N": "0"}},
    ]
    values = [
        {"Top": {"N": "20"}, "First": {"S": "2026-02-01"}},
        {"Top": {"N": "1"}, "First": {"S": "2026-01-15"}},
        {"Top": None, "First": None},
    ]
    assert total_cells(spec, items, values) == {"Mean": "7.75", "Top": "20", "First": "2026-01-15", "Last": ""}
    assert total_cells(spec, [{"Mean_sum": {"S": "x"}, "Mean_count": {"N": "1"}}], [{}])["Mean"] == "—"
