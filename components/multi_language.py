"""The multi-language host of StreamAggregator (``provider/__main__.py``), refusing undeclared input keys.

Pulumi's ComponentProvider maps each input the schema declares from its camelCase name to the
Python one and drops every other key without a word, so a YAML ``filters:`` or a JavaScript
``memorySise`` would never reach the component's own check (``argument_keys``). This host refuses
them first, at every nesting level, with the schema's names: the key as the program wrote it and
the nearest declared one (``did you mean 'filter'?``). Pulumi YAML's type checker refuses many of
them before this (pulumi/pulumi-yaml#69, #330); untyped SDK calls reach the provider unchecked.

The schema's names come from the same TypedDicts (Pulumi's analyzer reads them), so nothing is
listed twice. The failure is an ``InputPropertyError``, which the engine reports against the property.
An integer input that is not a whole number is refused here too, before Pulumi's mapping runs int() on it.
"""

from __future__ import annotations

from typing import Any

from pulumi.errors import InputPropertyError
from pulumi.provider.experimental.analyzer import PropertyDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import main

from .argument_keys import unknown_key_message
from .argument_rules import is_known, is_whole_number
from .stream_aggregator import StreamAggregator

PACKAGE_NAME = "stream-aggregator"


class StrictComponentProvider(ComponentProvider):
    """ComponentProvider that refuses an input key its schema does not declare, instead of dropping it."""

    def map_input_properties(
        self,
        inputs: Any,
        properties: dict[str, PropertyDefinition],
        mapping: dict[str, str],
        component_name: str,
        property_path: str,
    ) -> Any:
        # Called for the component's inputs and again for each nested object (measures, filter, ...).
        if isinstance(inputs, dict):
            for key, value in inputs.items():
                path = f"{property_path}.{key}" if property_path else str(key)
                if key not in properties:
                    raise InputPropertyError(path, unknown_key_message(path, key, properties))
                if properties[key].type is PropertyType.INTEGER and is_known(value) and not is_whole_number(value):
                    # Pulumi's mapping would call int() on it: 7.5 would be 7, true 1 and "100" 100.
                    raise InputPropertyError(
                        path, f"StreamAggregator argument {path!r} must be a whole number, got {value!r}"
                    )
        return super().map_input_properties(inputs, properties, mapping, component_name, property_path)


def provider(version: str) -> StrictComponentProvider:
    return StrictComponentProvider([StreamAggregator], PACKAGE_NAME, version=version)


def host(version: str, args: list[str]) -> None:
    """Serve the provider to the Pulumi engine (what ``component_provider_host`` does, with this provider)."""
    main(provider(version), args)
