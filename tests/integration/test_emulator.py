"""`python -m ops emulator` as the operator runs it: in its own process, on a port of its own.

Run as a subprocess, so what the operator sees (stdout and stderr together) and the exit code are
what is checked, and a hang is a timeout here rather than a stuck test session.
"""

import io
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from ops.__main__ import main
from ops.targets import LOCAL_AGGREGATE_TABLE, LOCAL_SOURCE_TABLE, Endpoint
from tests.conftest import assert_invoices_exact, read_aggregates
from tests.integration.test_faults import random_workload

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


def _ctrl_c_reaches_it() -> None:
    """In the child, SIGINT as a terminal delivers it. A command started in the background of a
    non-interactive shell (CI's runner, `cmd &` in a script) inherits SIGINT ignored, and Python then
    never raises KeyboardInterrupt: the emulator rightly keeps running, as `nohup` asks, and a test
    that interrupts it would wait forever (it did, twice, in CI on 2026-12-05)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class EmulatorProcess:
    """``python -m ops emulator ARGS`` in its own process, its output (stdout and stderr) read as it comes."""

    def __init__(self, *argv: str):
        self.process = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "ops", "emulator", *argv],  # SIGABRT dumps every thread
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            preexec_fn=_ctrl_c_reaches_it,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in list(self.lines) if wanted(line)), None)
            if found is not None:
                return found
            assert self.process.poll() is None, "the emulator ended:\n" + "\n".join(self.lines)
            time.sleep(0.1)
        raise AssertionError("not seen in time:\n" + "\n".join(self.lines))

    def interrupt(self) -> int:
        """Ctrl-C, as the operator ends it; its exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            # generous: on CI's two shared cores a stop under load took over 30 s once (2026-12-05); a hang is
            # still caught, and the lines it printed say where it stood
            code = self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # faulthandler writes where each thread stands
            self.process.wait(timeout=30)
            self._reader.join(timeout=10)
            raise AssertionError("no exit 90 s after Ctrl-C:\n" + "\n".join(self.lines)) from None
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ops(url: str, *argv: str) -> tuple[int, str]:
    console = Console(record=True, width=240)
    code = main([*argv, "--endpoint-url", url], console)
    return code, console.export_text()


def test_the_failure_runbook_rehearsed_end_to_end():
    """The drill as docs/runbook.md tells it: the emulator refuses the handler's writes for a while
    (AccessDeniedException), the source is written meanwhile (puts, overwrites, deletes, invalid
    amounts), every batch reaches the failure queue; once writes are allowed again, `replay` settles
    every message and `reconcile` finds no drift: the totals equal a recomputation from the source.

    The window (8 s from the first batch) is long enough for the writes here (moto quirk: PutItem
    only for source writes; the local mapping gives a batch up after its 3 retries, no backoff)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    emulator = EmulatorProcess("--port", str(port), "--deny-writes", "8", "--verbose")
    try:
        emulator.wait_for(lambda line: line.startswith("emulator on "))
        emulator.wait_for(
            lambda line: line.endswith(f"give them --endpoint-url {url} (or set STREAM_AGGREGATOR_ENDPOINT to it)")
        )
        endpoint = Endpoint(url)
        random_workload(endpoint, LOCAL_SOURCE_TABLE, random.Random(17), 60)
        allowed = emulator.wait_for(lambda line: line.startswith("drill: writes allowed again"))
        during = emulator.lines[: emulator.lines.index(allowed)]
        summaries = [json.loads(line) for line in during if '"message":"batch processed"' in line]
        assert summaries, "the handler's summary lines are shown with --verbose"
        for summary in summaries:  # every record failed or quarantined (the invalid amounts)
            assert summary["FailedRecords"] + summary["QuarantinedRecords"] == summary["Records"], summary
            assert "AccessDeniedException" in summary["firstError"], summary
            assert summary["Aggregator"] == "local", "the emulator's aggregator, whose ledger and queues are local-*"
        assert any(line.startswith("drill: ") and "sent to the failure queue so far" in line for line in during)
        assert read_aggregates(endpoint, LOCAL_AGGREGATE_TABLE) == {}, "nothing was applied while writes were denied"
        code, output = ops(url, "replay")
        assert code == 0 and "deleted" in output and "applied" in output, output
        code, output = ops(url, "reconcile")
        assert code == 0 and "0 drift(s)" in output, output
        assert_invoices_exact(
            endpoint, SimpleNamespace(source_table=LOCAL_SOURCE_TABLE, aggregate_table=LOCAL_AGGREGATE_TABLE)
        )
        code = emulator.interrupt()
        assert code == 130, "\n".join(emulator.lines)
        assert not any("Traceback" in line for line in emulator.lines), "\n".join(emulator.lines)
    finally:
        emulator.kill()


def test_ctrl_c_while_a_handler_write_is_in_flight_ends_the_batch_first(monkeypatch):
    """Ctrl-C raised KeyboardInterrupt wherever the main thread stood: inside the handler waiting for its
    writes, so the servers stopped under a write in flight (the interpreter's exit then waits for its
    worker); or between a lock's acquire and its ``with``, which can leave urllib3's pool lock held so
    that the exit deadlocks on it (seen with urllib3 alone; too rare to reproduce in a test). Now the
    batch in flight ends first, then the servers stop.

    The handler's first write is held inside moto, in this process, until the emulator has taken the
    Ctrl-C (its stop request is recorded) or is stopping its servers (the interrupt unwound the batch)."""
    from ops.local import emulator, stop_request
    from ops.local.faultproxy import AGGREGATE_WRITES

    held, release, applied = threading.Event(), threading.Event(), threading.Event()
    applied_when_stopping: list[bool] = []

    class HoldingTheFirstWrite(emulator.OneRequestAtATime):
        def __call__(self, wsgi_request, start_response):
            if wsgi_request.get("HTTP_X_AMZ_TARGET") not in AGGREGATE_WRITES or held.is_set():
                return super().__call__(wsgi_request, start_response)
            held.set()
            release.wait(timeout=120)  # only a broken test waits this long
            response = super().__call__(wsgi_request, start_response)
            applied.set()
            return response

    class ServerStoppedAfterTheWrite(emulator.SerialMotoServer):
        def stop(self):
            applied_when_stopping.append(applied.is_set())
            release.set()
            super().stop()

    class StopRequestSeen(stop_request.StopRequest):
        def __call__(self, signum, frame):
            super().__call__(signum, frame)
            release.set()

    monkeypatch.setattr(emulator, "OneRequestAtATime", HoldingTheFirstWrite)
    monkeypatch.setattr(emulator, "SerialMotoServer", ServerStoppedAfterTheWrite)
    monkeypatch.setattr(stop_request, "StopRequest", StopRequestSeen)
    port = free_port()

    def write_then_interrupt():
        endpoint = Endpoint(f"http://127.0.0.1:{port}")
        while not held.is_set():
            try:
                random_workload(endpoint, LOCAL_SOURCE_TABLE, random.Random(5), 3)
                held.wait(timeout=30)
            except Exception:  # the emulator is not up yet
                time.sleep(0.1)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    # As a terminal's Ctrl-C finds it: a suite started in the background of a non-interactive shell
    # (CI's runner) inherits SIGINT ignored, and an ignored signal rightly stays ignored (_ctrl_c_reaches_it).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupter = threading.Thread(target=write_then_interrupt, daemon=True)
    interrupter.start()
    try:
        code = main(["emulator", "--port", str(port)], Console(file=io.StringIO()))
    finally:
        signal.signal(signal.SIGINT, previous)
    interrupter.join(timeout=30)
    assert held.is_set(), "a handler write was in flight when Ctrl-C came"
    assert code == 130
    assert applied_when_stopping == [True], "the batch in flight ended before the servers stopped"


@pytest.mark.parametrize(
    ("default", "port", "same"),
    [
        ("http://127.0.0.1:4599", 4599, True),
        ("http://localhost:4599", 4599, True),
        ("http://127.0.0.1:4599", 4600, False),
        ("http://127.0.0.1:4700", 4599, False),
        ("https://127.0.0.1:4599", 4599, False),
        ("http://10.0.0.5:4599", 4599, False),
        ("http://127.0.0.1:port", 4599, False),
    ],
)
def test_the_emulator_says_when_the_commands_will_not_find_it(monkeypatch, default, port, same):
    """On another port than the commands' default endpoint (--port, or STREAM_AGGREGATOR_ENDPOINT set to
    another), the emulator names the --endpoint-url they need; they said only "no emulator at ..."."""
    from ops.local import emulator_command

    monkeypatch.setattr(emulator_command, "DEFAULT_ENDPOINT", default)
    assert emulator_command.is_default_endpoint(f"http://127.0.0.1:{port}") is same


def test_a_port_the_system_refuses_is_one_line_naming_the_reason(monkeypatch):
    """A port below 1024 for a user without the privilege: moto's thread died there too, and start() hung."""
    import errno

    from ops.errors import CommandError
    from ops.local import emulator

    def refused(address, **_):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(emulator.socket, "create_server", refused)
    with pytest.raises(CommandError) as error, emulator.moto_server(80):
        pass
    assert str(error.value) == "cannot listen on 127.0.0.1:80: Permission denied"


def test_a_stop_signal_is_recorded_and_its_own_handler_called_between_polls_or_at_the_second():
    """The first SIGINT/SIGTERM only asks to stop; ``stop_now`` then calls the handler that signal had
    (``python -m ops`` maps SIGTERM to exit 143 there); a second signal calls it at once."""
    from ops.local.stop_request import StopRequest

    calls = []
    request = StopRequest({signal.SIGINT: lambda *args: calls.append(args), signal.SIGTERM: signal.default_int_handler})
    request.stop_now()
    assert not request.requested and calls == []
    request(signal.SIGINT, None)
    assert request.requested and calls == []
    request(signal.SIGINT, None)
    assert calls == [(signal.SIGINT, None)]
    request.stop_now()
    assert calls == [(signal.SIGINT, None), (signal.SIGINT, None)]
    with pytest.raises(KeyboardInterrupt):
        request(signal.SIGTERM, None)
