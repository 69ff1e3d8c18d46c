"""An embedded moto server on loopback: the stand-in for AWS in the demo and the tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@dataclass(frozen=True)
class Endpoint:
    url: str
    region: str = REGION

    def client(self, service: str, **config: Any) -> Any:
        """A client for ``service`` pointed at this endpoint, with throwaway credentials."""
        return boto3.client(  # type: ignore[call-overload]  # the service is a plain string here
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **config,
        )

    def reachable(self) -> bool:
        try:
            requests.get(f"{self.url}/moto-api/", timeout=2)
        except requests.RequestException:
            return False
        return True

    def reset(self) -> None:
        """Drop everything moto holds (its memory only shrinks this way)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()


@contextmanager
def moto_server(port: int = 0) -> Iterator[Endpoint]:
    """Start moto on 127.0.0.1 (a free port unless one is given); stop it on exit."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield Endpoint(url=f"http://{host}:{port}")
    finally:
        server.stop()
