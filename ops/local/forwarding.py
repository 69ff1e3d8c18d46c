"""What every local proxy in front of moto shares: forwarding a request, relaying or writing an answer,
and DynamoDB's transaction-cancellation answer.

The fault proxy (tests: faults as AWS reports them) and the hot-key endpoint (``make hot-key``: an
item held for a service time) decide differently what to do with a request, and nothing else: both
speak HTTP/1.1 to a pooled client, forward to moto over a session per thread, and write a
cancellation as DynamoDB documents it (one reason per action, in request order).
"""

from __future__ import annotations

import json
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Collection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, Self

import requests

JSON_TYPE = {"Content-Type": "application/x-amz-json-1.0"}
ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"
ONGOING = "Transaction is ongoing for the item."


class LocalProxy(ABC):
    """A proxy served by a thread of this process on loopback; ``url`` is what its clients are given.

    A subclass sets up the state its handler reads, then calls ``__init__``, which builds the handler."""

    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @abstractmethod
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler, a ``ForwardingHandler`` whose ``upstream`` is ``self.upstream``."""


class ForwardingHandler(BaseHTTPRequestHandler):
    """A request handler that forwards to ``upstream``; a proxy subclasses it per server with its own
    ``upstream`` and ``do_POST``."""

    protocol_version = "HTTP/1.1"
    upstream: ClassVar[str] = ""
    forward_timeout: ClassVar[float] = 30
    _sessions: ClassVar[threading.local]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._sessions = threading.local()  # one pooled session per server thread, per proxy

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _forward(self, body: bytes) -> requests.Response:
        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = requests.Session()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        return session.post(self.upstream + self.path, data=body, headers=headers, timeout=self.forward_timeout)

    def _relay(self, response: requests.Response) -> None:
        headers = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "x-amzn-requestid")}
        self._reply(response.status_code, response.content, headers)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def cancellation_body(actions: int, conflicting: Collection[int]) -> bytes:
    """DynamoDB's TransactionCanceledException: a reason per action, ``TransactionConflict`` where held."""
    reasons: list[dict[str, str]] = [
        {"Code": "TransactionConflict", "Message": ONGOING} if index in conflicting else {"Code": "None"}
        for index in range(actions)
    ]
    codes = ", ".join(reason["Code"] for reason in reasons)
    return json.dumps(
        {
            "__type": f"{ERROR_TYPE}TransactionCanceledException",
            "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            "CancellationReasons": reasons,
        }
    ).encode()
