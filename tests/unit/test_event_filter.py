"""The test matcher (tests/event_filter.py) on the examples AWS documents, so the property test's
matcher is itself checked against AWS's own cases before it judges the component's criteria."""

import json

import pytest

from tests.event_filter import UnsupportedPattern, matches, passes

# The record of the Lambda developer guide, "Using event filtering with a DynamoDB event source".
CUSTOMER_RECORD = {
    "eventID": "1",
    "eventVersion": "1.0",
    "dynamodb": {
        "ApproximateCreationDateTime": "1678831218.0",
        "Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
        "NewImage": {
            "AccountManager": {"S": "Pat Candella"},
            "PaymentTerms": {"S": "60 days"},
            "CustomerName": {"S": "AnyCompany Industries"},
        },
        "SequenceNumber": "111",
        "SizeBytes": 26,
        "StreamViewType": "NEW_IMAGE",
    },
}


def with_manager(name: str) -> dict:
    record = json.loads(json.dumps(CUSTOMER_RECORD))
    record["dynamodb"]["NewImage"]["AccountManager"] = {"S": name}
    return record


def test_filtering_with_table_keys():
    pattern = {"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}
    assert matches(pattern, CUSTOMER_RECORD)
    other = json.loads(json.dumps(CUSTOMER_RECORD))
    other["dynamodb"]["Keys"]["CustomerName"]["S"] = "AnyCompany"
    assert not matches(pattern, other)


def test_filtering_with_table_attributes_ors_the_values():
    pattern = {"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella", "Shirley Rodriguez"]}}}}
    assert matches(pattern, with_manager("Pat Candella"))
    assert matches(pattern, with_manager("Shirley Rodriguez"))
    assert not matches(pattern, with_manager("Terry Whitlock"))
    assert not matches(pattern, with_manager("pat candella")), "no case-folding"


def test_a_field_the_pattern_names_must_be_in_the_event():
    removed = json.loads(json.dumps(CUSTOMER_RECORD))
    removed["dynamodb"]["OldImage"] = removed["dynamodb"].pop("NewImage")
    assert not matches({"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella"]}}}}, removed)


def test_fields_of_one_pattern_are_anded_and_filters_are_ored():
    """The guide's Boolean AND example: the NewImage and the OldImage value in one pattern."""
    both = {
        "dynamodb": {
            "NewImage": {"AccountManager": {"S": ["Pat Candella"]}},
            "OldImage": {"AccountManager": {"S": ["Terry Whitlock"]}},
        }
    }
    modify = with_manager("Pat Candella")
    assert not matches(both, modify), "no OldImage yet"
    modify["dynamodb"]["OldImage"] = {"AccountManager": {"S": "Terry Whitlock"}}
    assert matches(both, modify)
    new_only = json.dumps({"dynamodb": {"NewImage": {"AccountManager": {"S": ["Shirley Rodriguez"]}}}})
    assert not passes([json.dumps(both), new_only], with_manager("Terry Whitlock"))
    assert passes([json.dumps(both), new_only], with_manager("Shirley Rodriguez"))


def test_exists_matches_leaf_nodes_only():
    """The guide's Organizations example: exists on the intermediate node never matches."""
    record = {
        "dynamodb": {
            "NewImage": {
                "UserID": {"S": "12345"},
                "Organizations": {"L": [{"S": "Sales"}, {"S": "Marketing"}, {"S": "Support"}]},
            }
        }
    }
    assert not matches({"dynamodb": {"NewImage": {"Organizations": [{"exists": True}]}}}, record)
    assert matches({"dynamodb": {"NewImage": {"Organizations": {"L": {"S": [{"exists": True}]}}}}}, record)
    assert not matches({"dynamodb": {"NewImage": {"Missing": {"S": [{"exists": True}]}}}}, record)


def test_numbers_are_text_in_dynamodb_records():
    """'Even if items in your table are stored as numbers, these parameters are converted to strings'."""
    record = {"dynamodb": {"Keys": {"ID": {"S": "ABCD"}, "Number": {"N": "1234"}}}}
    assert matches({"dynamodb": {"Keys": {"Number": {"N": ["1234"]}}}}, record)
    assert not matches({"dynamodb": {"Keys": {"Number": {"N": ["1234.0"]}}}}, record), "300 is not 300.0"


def test_an_event_array_matches_when_it_meets_the_pattern_array():
    """EventBridge's arrays example: the pattern's first ARN is the event's second."""
    pattern = {
        "resources": [
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        ]
    }
    event = {
        "resources": [
            "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        ]
    }
    assert matches(pattern, event)
    assert not matches(pattern, {"resources": event["resources"][:1]})


def test_null_empty_string_and_booleans_are_distinct_values():
    """EventBridge: 'Null values and empty strings are not interchangeable'; true is a keyword."""
    detail = {"detail": {"eventVersion": "", "responseElements": None, "enabled": True}}
    assert matches({"detail": {"eventVersion": [""]}}, detail)
    assert not matches({"detail": {"eventVersion": [None]}}, detail)
    assert matches({"detail": {"responseElements": [None]}}, detail)
    assert not matches({"detail": {"responseElements": [""]}}, detail)
    assert matches({"detail": {"enabled": [True]}}, detail)
    assert not matches({"detail": {"enabled": ["true"]}}, detail)
    assert not matches({"detail": {"enabled": [False]}}, detail)


def test_anything_but():
    """The operator table's 'Weather is anything but Raining'; the field must still be there."""
    pattern = {"Weather": [{"anything-but": ["Raining"]}]}
    assert matches(pattern, {"Weather": "Sunny"})
    assert not matches(pattern, {"Weather": "Raining"})
    assert not matches(pattern, {"Temperature": "46"})


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param({"Price": [{"numeric": ["=", 100]}]}, id="numeric"),
        pytest.param({"Region": [{"prefix": "us-"}]}, id="prefix"),
        pytest.param({"Name": [{"exists": False}]}, id="exists-false"),
        pytest.param({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, id="or"),
        pytest.param({"a": [1]}, id="number"),
        pytest.param({"a": "x"}, id="bare-value"),
    ],
)
def test_constructs_it_does_not_model_are_refused(pattern):
    with pytest.raises(UnsupportedPattern):
        matches(pattern, {"Price": 100, "Region": "us-east-1", "Name": "x", "a": "1", "b": "2"})
