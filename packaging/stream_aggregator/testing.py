"""Mocks for unit tests of a Pulumi program that uses StreamAggregator.

Before the program is imported::

    import pulumi
    from stream_aggregator.testing import StreamAggregatorMocks

    pulumi.runtime.set_mocks(StreamAggregatorMocks(), preview=False)

The implementation is ``components/mocks.py`` in the repository, whose own tests use it.
"""

from .components.mocks import ACCOUNT, REGION, MockedResource, MocksSettingsError, StreamAggregatorMocks, autonamed

__all__ = ["ACCOUNT", "REGION", "MockedResource", "MocksSettingsError", "StreamAggregatorMocks", "autonamed"]
