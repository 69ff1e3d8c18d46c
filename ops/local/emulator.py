"""An embedded moto server on loopback: the stand-in for AWS in the demo and the tests."""

from __future__ import annotations

import copy
import decimal
import errno
import logging
import os
import socket
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from ..errors import CommandError
from ..targets import Endpoint

DYNAMODB_DIGITS = 38


class OneRequestAtATime:
    """WSGI middleware that lets moto handle one request at a time.

    A moto quirk, worked around here and never in the handler: its threaded server does not
    isolate concurrent writes (two conditional UpdateItems on one item can both pass, and
    concurrent TransactWriteItems fail with "dictionary changed size during iteration"). DynamoDB
    serializes the writes to an item, so serving one request at a time is the faithful stand-in.
    Connections are still accepted concurrently, so the handler's own concurrency is exercised.

    Each request also runs in a 38-digit decimal context: another quirk, moto's ADD sums in the
    thread's default context, which rounds at 28 digits, where DynamoDB keeps 38.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock, decimal.localcontext() as context:
            context.prec = DYNAMODB_DIGITS
            return list(self._app(environ, start_response))


class SerialMotoServer(ThreadedMotoServer):
    """moto's threaded server with its application behind ``OneRequestAtATime``.

    It listens before its thread starts, so a port it cannot have is an error in the caller. moto's
    own server binds inside its thread: on a busy port werkzeug prints two lines there and ends the
    thread, and ``start`` waits for a ready signal that never comes (``python -m ops emulator`` hung).
    """

    def start(self) -> None:
        listening = listen(self._ip_address, self._port)
        app = OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        with listening:  # werkzeug serves a duplicate of this socket
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler, fd=listening.fileno()
            )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket, so the port is free at once (moto's own stop leaves it open)."""
        super().stop()
        if self._server:
            self._server.server_close()


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (SO_REUSEADDR, as werkzeug's own), or a one-line error naming it."""
    try:
        return socket.create_server((host, port))
    except OSError as error:
        hint = (
            ": another program (another emulator?) has it; stop it or choose another with --port"
            if error.errno == errno.EADDRINUSE
            else ""
        )
        reason = os.strerror(error.errno) if error.errno else str(error)  # create_server appends the address
        raise CommandError(f"cannot listen on {host}:{port}: {reason}{hint}") from error


@contextmanager
def item_level_transaction_rollback() -> Iterator[None]:
    """Make moto's TransactWriteItems cost O(actions) instead of O(actions x table size).

    A moto quirk: before each action of a transaction it deep-copies the action's whole table, to
    swap the copy back in if the transaction is cancelled. With the 20,000-entry ledger of the
    fan-in test, that is seconds per transaction. Inside this context (the server runs in this
    process) only the items the transaction targets are saved, and put back or deleted on
    cancellation: the same result for any transaction, since only targeted items change. Used by
    the fan-in test and the benchmark only; every other test keeps moto's own rollback.
    """
    from moto.dynamodb import models
    from moto.dynamodb.exceptions import TransactionCanceledException

    backend_class = models.DynamoDBBackend
    original = backend_class.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for action in transact_items:
            operation = next(iter(action.values()))
            table = self.get_table(operation["TableName"])
            key = operation.get("Key") or {
                name: operation["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name
            }
            current = self.get_item(operation["TableName"], key)
            saved.append((operation["TableName"], key, current.to_json()["Attributes"] if current else None))
        # Only moto's own reference to the copy module is swapped, never the module other code shares.
        setattr(models, "copy", types.SimpleNamespace(deepcopy=lambda table, memo=None: table, copy=copy.copy))  # noqa: B010
        try:
            original(self, transact_items)
        except TransactionCanceledException:
            for table_name, key, attributes in saved:
                if attributes is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise
        finally:
            setattr(models, "copy", copy)  # noqa: B010

    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        backend_class.transact_write_items = original  # type: ignore[method-assign]


@contextmanager
def moto_server(port: int = 0) -> Iterator[Endpoint]:
    """Start moto on 127.0.0.1 (a free port unless one is given); stop it on exit."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = SerialMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield Endpoint(url=f"http://{host}:{port}")
    finally:
        server.stop()
