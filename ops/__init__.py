"""The operator's CLI (`python -m ops`): load, reconcile, backfill against AWS or the emulator;
the local tools (emulator, demo, poller) live in ops/local/ and load only for `demo` and `emulator`."""
