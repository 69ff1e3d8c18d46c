"""Settings: each setting's default is its field default, given values win, and None is not given.

The argument docstrings state the defaults and the bounds again, for the multi-language schema and
help() (Pulumi's analyzer has no other place for them): here they are compared with Settings' defaults
and the rules' ``allows``, so the copy cannot drift.
"""

import re

import pytest

from aggregations import INVOICE_AGGREGATION, ORDERS_AGGREGATION
from components.argument_rules import Allowed
from components.help_text import field_docs
from components.settings import SETTING_RULES, Settings
from components.stream_aggregator import StreamAggregatorArgs
from components.validation import aggregation_spec, check_settings
from tools.configuration_doc import NOT_SET, argument_default

DOCS = {name: " ".join(doc.split()) for name, _, doc in field_docs(StreamAggregatorArgs)}


def stated(value: object) -> str:
    """A default as the docstrings write it: true, 100, S."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("name", [*SETTING_RULES, "ttl_deletes"])
def test_a_default_the_docstring_states_is_the_code_default(name):
    default = argument_default(name)
    if default == NOT_SET or default in ([], {}):
        assert not re.search(r"\(default\b", DOCS[name]), f"{name}'s docstring states a default the code lacks"
        return
    value = re.escape(stated(default))
    pattern = rf'"?\b{value}\b"? \(default\b|\(default "?{value}\b"?'
    assert re.search(pattern, DOCS[name]), f"{name}'s docstring does not say its default is {default!r}"


@pytest.mark.parametrize("name", [name for name, rule in SETTING_RULES.items() if isinstance(rule, Allowed)])
def test_every_bound_a_rule_allows_is_in_the_docstring(name):
    """batch_size's rule allows 1 to 10000: its docstring must say 1 and 10000, whatever its words."""
    numbers = re.compile(r"(?<!\d)-?\d+")  # 3-255 is 3 and 255
    assert set(numbers.findall(SETTING_RULES[name].allows)) <= set(numbers.findall(DOCS[name])), name


def test_what_is_not_given_is_the_field_default_and_none_is_not_given():
    args = {**ORDERS_AGGREGATION, "batch_size": 7, "memory_size": None, "tags": {"app": "x"}}
    settings = check_settings(args, aggregation_spec(args))
    assert settings.batch_size == 7 and settings.tags == {"app": "x"}
    assert settings.memory_size == Settings().memory_size == 256 and settings.kms_key_arn is None


@pytest.mark.parametrize(
    ("args", "key_type"),
    [
        pytest.param({**INVOICE_AGGREGATION, "partition_key_type": "N"}, "N", id="the-grouped-source-key's"),
        pytest.param({**ORDERS_AGGREGATION, "group_by_type": "B"}, "B", id="given-for-another-attribute"),
        pytest.param(ORDERS_AGGREGATION, Settings().group_by_type, id="the-default-for-another-attribute"),
    ],
)
def test_group_by_type_becomes_the_aggregate_tables_key_type(args, key_type):
    assert check_settings(args, aggregation_spec(args)).group_by_type == key_type
