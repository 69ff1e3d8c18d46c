"""The operator's CLI: load, reconcile, backfill, replay, quarantine and query against AWS or the
emulator. Installed, it is the ``stream-aggregator`` command (``stream_aggregator.ops``); in a checkout,
``python -m ops``. The local tools (emulator, demo, poller) live in ops/local/ and load only for
``demo`` and ``emulator``, so the commands against AWS need boto3 and rich alone."""

FROM_WHEEL = __name__.startswith("stream_aggregator.")
"""Installed from the wheel (``stream_aggregator.ops``), not run from a checkout (``ops``)."""
PROG = "stream-aggregator" if FROM_WHEEL else "python -m ops"
"""How the operator runs these commands here, for --help and for the commands a message suggests."""
