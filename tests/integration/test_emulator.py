"""`python -m ops emulator` as the operator runs it: in its own process, on a port of its own.

Run as a subprocess, so what the operator sees (stdout and stderr together) and the exit code are
what is checked, and a hang is a timeout here rather than a stuck test session.
"""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ops.__main__ import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def ops_command(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", *argv], capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False
    )


@pytest.mark.parametrize("listening", [True, False], ids=["listening", "bound-only"])
def test_a_busy_port_is_one_line_and_exit_1(listening):
    """It hung forever: moto's server binds in its own thread, which died on the busy port while the
    main thread waited for it to say it was ready."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        if listening:
            holder.listen()
        port = holder.getsockname()[1]
        result = ops_command("emulator", "--port", str(port))
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1, output
    assert output == (
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use: another program (another emulator?) "
        "has it; stop it or choose another with --port"
    )


@pytest.mark.parametrize("port", ["0", "65536", "-1", "4599x", "", "\u0664\u0665\u0669\u0669", "1e3"])
def test_a_port_out_of_range_or_not_a_number_is_a_usage_error(capsys, port):
    with pytest.raises(SystemExit) as exit_info:
        main(["emulator", "--port", port])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    expected = f"argument --port: must be a whole number from 1 to 65535, got {port!r}"
    assert error == f"python -m ops emulator: error: {expected}"
