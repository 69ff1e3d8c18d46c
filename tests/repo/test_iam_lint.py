"""parliament on the IAM documents the invoice stack generates: zero findings expected."""

import json

from parliament import analyze_policy_string

from components import StreamAggregator
from tests.component.conftest import by_type, deploy  # noqa: F401 - the fixture
from tests.conftest import INVOICE_SPEC


def test_generated_policies_have_no_parliament_findings(deploy):  # noqa: F811 - the fixture
    resources = deploy(
        lambda: StreamAggregator("inv", {**INVOICE_SPEC, "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/k"})
    )
    documents = [r.inputs["policy"] for r in by_type(resources, "aws:iam/rolePolicy:RolePolicy")]
    assert len(documents) == 1 and json.loads(documents[0])["Statement"]
    assert "WriteTraces" in documents[0], "tracing is on by default, so its grant on '*' is linted too"
    for document in documents:
        findings = analyze_policy_string(document).findings
        assert [(f.issue, f.detail) for f in findings] == []


def test_parliament_would_catch_a_bad_policy():
    bad = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItems", "Resource": "*"}]}
    )
    assert analyze_policy_string(bad).findings, "parliament must flag an unknown action"


def test_why_the_grant_is_on_the_tables_streams():
    """parliament misreads the colons of a real stream label; if it stops, grant the exact ARN."""
    arn = "arn:aws:dynamodb:us-west-2:111122223333:table/T/stream/2015-05-11T21:21:33.291"
    statement = {"Effect": "Allow", "Action": "dynamodb:GetRecords", "Resource": arn}
    findings = analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": [statement]})).findings
    assert [f.issue for f in findings] == ["RESOURCE_MISMATCH"]
