"""The filter patterns as a pure function of the aggregation (components/filter_criteria.py)."""

import json

from components.filter_criteria import MAX_PATTERN_CHARS, filter_patterns
from handler.spec import parse_spec

BASE = {"partition_key": "OrderId", "measures": [{"name": "Orders", "op": "count"}]}


def patterns_for(*values, attribute="Status"):
    return filter_patterns(parse_spec({**BASE, "filter": {"attribute": attribute, "values": list(values)}}))


def test_the_patterns_do_not_depend_on_the_order_of_the_values():
    assert patterns_for("b", "a", True) == patterns_for(True, "a", "b")
    assert json.loads(patterns_for("b", "a")[0]) == {"dynamodb": {"NewImage": {"Status": {"S": ["a", "b"]}}}}


def test_a_number_given_several_ways_is_one_pattern_per_image():
    patterns = patterns_for(1, {"N": "1.0"}, {"N": "2"})
    assert len(patterns) == 3
    assert json.loads(patterns[0]) == {"dynamodb": {"NewImage": {"Status": {"N": [{"exists": True}]}}}}


def test_patterns_longer_than_lambda_allows_are_not_set():
    """The component's 3 KB limit on the aggregation keeps patterns shorter; this guards the limit itself."""
    values = [f"STATUS-{i:04d}" for i in range(400)]
    assert len(json.dumps(values)) > MAX_PATTERN_CHARS
    assert patterns_for(*values) is None


def test_the_attribute_name_is_kept_exactly():
    patterns = patterns_for("x", attribute="Order.Status é")
    assert json.loads(patterns[1]) == {"dynamodb": {"OldImage": {"Order.Status é": {"S": ["x"]}}}}
    assert patterns_for("x", attribute="$or") is None
