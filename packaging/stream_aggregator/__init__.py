"""StreamAggregator as an installed package: ``from stream_aggregator import StreamAggregator``.

The repository keeps ``components/`` and ``handler/`` at its root; the wheel ships them as
``stream_aggregator.components`` and ``stream_aggregator.handler`` (pyproject.toml, package-dir),
so installing it adds nothing named ``components`` or ``handler`` beside a user's own packages.
``__version__`` is the one in ``components/_version.py``, which pyproject.toml reads for the wheel's.
"""

from .components import StreamAggregator, StreamAggregatorArgs, StreamAggregatorArgsError, StreamAggregatorError
from .components._version import __version__

__all__ = [
    "StreamAggregator",
    "StreamAggregatorArgs",
    "StreamAggregatorArgsError",
    "StreamAggregatorError",
    "__version__",
]
