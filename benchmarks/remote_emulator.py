"""The emulator in a process of its own, so CPU time measured in the benchmark's process is the client's.

moto in a thread of the measuring process would add its own request handling to
``time.process_time``: the handler's figure would include the server's. The child serves with
the same serial server and item-level transaction rollback (moto quirks: ops/local/emulator.py)
as the in-process one, prints its URL, and stops when its standard input closes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ops.local.emulator import item_level_transaction_rollback, moto_server
from ops.targets import Endpoint


@contextmanager
def emulator_process() -> Iterator[Endpoint]:
    """Start ``python -m benchmarks.remote_emulator`` and yield its endpoint; stop it on exit."""
    with served_by(__name__) as url:
        yield Endpoint(url)


@contextmanager
def served_by(module: str, *args: str) -> Iterator[str]:
    """Start ``python -m module args...``, which prints the URL it serves and serves until its standard
    input closes; yield that URL, and close its input (then kill it if it lingers) on exit."""
    child = subprocess.Popen(
        [sys.executable, "-m", module, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        url = child.stdout.readline().strip()
        if not url:
            raise RuntimeError(f"python -m {module} ended before serving (exit {child.wait()})")
        yield url
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> None:
    with moto_server() as endpoint, item_level_transaction_rollback():
        print(endpoint.url, flush=True)
        sys.stdin.read()  # until the parent closes it


if __name__ == "__main__":
    main()
