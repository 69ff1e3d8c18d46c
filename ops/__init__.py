"""Operator and local tooling: the local stream poller, the emulator, and the CLI.

Nothing here is deployed: the Lambda ships handler/ alone.
"""
