"""docs/configuration.md is generated (tools/configuration_doc.py) from the arguments' docstrings and the
Settings' defaults and rules; CI fails here while the checked-in file differs from what the code says."""

from components.argument_keys import declared_fields
from components.argument_rules import Allowed
from components.settings import SETTING_RULES
from components.stream_aggregator import StreamAggregator, StreamAggregatorArgs
from tools.configuration_doc import COMMAND, PATH, argument_default, render, shown


def test_the_checked_in_reference_is_what_the_code_says():
    assert PATH.read_text(encoding="utf-8") == render(), f"docs/configuration.md is stale: run {COMMAND}"


def test_every_argument_argument_object_and_output_has_its_place():
    reference = render()
    for name in StreamAggregatorArgs.__annotations__:
        assert f"\n### {name}\n" in reference and f"| [`{name}`](#{name}) |" in reference, name
    for typed in filter(None, declared_fields(StreamAggregatorArgs).values()):
        assert f"\n## {typed.__name__}\n" in reference, typed.__name__
    for name in StreamAggregator.__annotations__:
        assert f"\n- `{name}` (" in reference, name


def test_each_setting_shows_its_default_and_what_its_rule_allows():
    reference = render()
    for name, rule in SETTING_RULES.items():
        section = reference.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
        default = shown(argument_default(name))
        assert f"default `{default}`" in section or (default == "not set" and "default not set" in section), name
        if isinstance(rule, Allowed):
            assert f"allowed: {rule.allows.replace('<', chr(92) + '<')}" in section, name
