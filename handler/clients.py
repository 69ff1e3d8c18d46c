"""The SDK settings of every client that writes aggregates: the Lambda's, and the operator engine's
(replay, redrive), so both retry and pool connections alike."""

from __future__ import annotations

from botocore.config import Config


def writer_config(write_concurrency: int) -> Config:
    """A connection for each concurrent key write (plus the quarantine send and one spare), and the
    SDK's standard retries: five after the first try (botocore reads ``max_attempts`` as retries here).

    Client-side parameter validation is off, as botocore's Config reference allows "for performance
    reasons": it walked every action of a packed transaction and was a quarter of the handler's
    client CPU (``make bench``). Every request is built here, not taken from input, and DynamoDB
    validates each one again: what it refuses comes back as a ValidationException, which the write
    loop narrows to the one record responsible, as before."""
    return Config(
        max_pool_connections=write_concurrency + 2,
        retries={"mode": "standard", "max_attempts": 5},
        parameter_validation=False,
    )


def lambda_config(write_concurrency: int) -> Config:
    """The Lambda's clients: ``writer_config`` with short timeouts, so a stuck connection is retried
    inside the invocation instead of running into the function's timeout (which would retry the
    whole batch)."""
    return writer_config(write_concurrency).merge(Config(connect_timeout=3, read_timeout=10))
