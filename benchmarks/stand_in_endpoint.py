"""A stand-in DynamoDB endpoint in another process: every request answered as a success, after one set latency.

Why: against moto, a 52-action transaction waits about 50 ms for moto's own work and a minimal
PutItem about 3 ms, and on this machine the client's CPU grows with the time it waited (``make
client-cpu`` prints it: on 2026-12-05 one PutItem cost 0.883 ms of CPU against this endpoint
answering at once and 1.938 ms answering after 10 ms; ``time.sleep`` itself costs tens of
microseconds, so it is the work after a long wait that runs slower). The unit and the batch's
calls then wait very differently, and the figure carries moto's speed. Here every request waits
the same, so the ratio compares the client's work alone. The answer is what DynamoDB returns for a
successful TransactWriteItems, UpdateItem or PutItem that asks for nothing back: ``{}``.

``python -m benchmarks.stand_in_endpoint SECONDS`` prints its URL and serves until its standard
input closes (``remote_emulator.served_by``).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUCCESS = b"{}"


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pooled connections expect
    latency_seconds = 0.0

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no delayed-ACK stalls

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.latency_seconds)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(SUCCESS)))
        self.end_headers()
        self.wfile.write(SUCCESS)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: list[str]) -> None:
    _Answer.latency_seconds = float(argv[0])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the parent closes it
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
