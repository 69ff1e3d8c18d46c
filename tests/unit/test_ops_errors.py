"""The CLI's error contract: its own and AWS's errors are one line, `--debug` shows their traceback,
and anything else (a bug) is never swallowed into a one-line message."""

import argparse

import pytest
from rich.console import Console

import ops.__main__ as cli
from components.argument_keys import UnknownArgumentError
from components.errors import StreamAggregatorArgsError, StreamAggregatorError
from handler.errors import ConfigError, EventShapeError, HandlerError, InvalidImage, MalformedKey
from handler.fold import NumberOverflow
from handler.spec import SpecError
from ops.backfill import BackfillError
from ops.errors import CommandError, InvalidRow, OpsError, UnreadableMessage
from ops.load_plan import UnreadableFile
from ops.quarantine_plan import MessageError as QuarantineMessageError
from ops.replay import RangeExpired, RangeUnfinished
from ops.replay_plan import MessageError as ReplayMessageError
from ops.targets import TargetError
from ops.text import InputFileError, NumberError

NO_EMULATOR = ["reconcile", "--endpoint-url", "http://127.0.0.1:9"]


@pytest.mark.parametrize(
    ("error", "base"),
    [
        (EventShapeError, HandlerError),
        (ConfigError, HandlerError),
        (InvalidImage, HandlerError),
        (MalformedKey, HandlerError),
        (SpecError, HandlerError),
        (NumberOverflow, HandlerError),
        (CommandError, OpsError),
        (InvalidRow, OpsError),
        (NumberError, OpsError),
        (UnreadableFile, OpsError),
        (InputFileError, OpsError),
        (TargetError, OpsError),
        (BackfillError, OpsError),
        (UnreadableMessage, OpsError),
        (ReplayMessageError, UnreadableMessage),
        (QuarantineMessageError, UnreadableMessage),
        (RangeExpired, OpsError),
        (RangeUnfinished, OpsError),
        (StreamAggregatorArgsError, StreamAggregatorError),
        (UnknownArgumentError, StreamAggregatorArgsError),
    ],
)
def test_every_error_has_its_packages_base_and_is_no_builtin_value_or_runtime_error(error, base):
    assert issubclass(error, base)
    assert not issubclass(error, (ValueError, RuntimeError)), "a bare `except ValueError` would catch it"


def test_an_expected_error_is_one_line():
    console = Console(record=True, width=200)
    assert cli.main(NO_EMULATOR, console) == 1
    assert console.export_text().startswith("error: no emulator at http://127.0.0.1:9")


def test_debug_shows_the_traceback_of_an_expected_error():
    with pytest.raises(TargetError, match="no emulator at"):
        cli.main(["--debug", *NO_EMULATOR], Console(record=True))


@pytest.mark.parametrize("bug", [ValueError("bad"), RuntimeError("worse"), KeyError("Total")])
def test_a_bug_is_never_reduced_to_one_line(monkeypatch, bug):
    def broken(args, console):
        raise bug

    monkeypatch.setattr(cli, "_run", broken)
    with pytest.raises(type(bug)):
        cli.main(NO_EMULATOR, Console(record=True))


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        ("load", ["0", "1", "2", "130"]),
        ("reconcile", ["0", "1", "2", "3", "130"]),
        ("backfill", ["0", "1", "2", "130"]),
    ],
)
def test_a_commands_help_lists_its_exit_codes(capsys, command, codes):
    """Adversarial pass (issue 16): scripts and on-call read exit codes from --help, which named none."""
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    listed = text.partition("exit codes: ")[2]
    assert listed, text
    assert [code for code in codes if f" {code}: " not in f" {listed}" and f" {code} (" not in f" {listed}"] == []


def _commands(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command and subcommand's parser, by its words on the command line."""
    found = []
    for action in parser._actions:  # argparse keeps its subparsers nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words = f"{path} {name}".strip()
                nested = _commands(sub, words)
                found.extend(nested or [(words, sub)])
    return found


def test_every_commands_help_lists_its_exit_codes():
    """An operator command is a product surface: a script or on-call reads its exit codes in --help. replay and
    demo listed none; walking the parser catches the next command added without them."""
    commands = _commands(cli.build_parser())
    assert {"demo", "replay", "quarantine drop", "query"} <= {words for words, _ in commands}
    missing = [words for words, parser in commands if "exit codes:" not in parser.format_help()]
    assert missing == []


def test_exit_code_2_is_only_ever_a_usage_error():
    """Issue 17: reconcile's drift and replay's unsettled messages shared 2 with argparse's usage error, so a
    script could not tell "found drift" from "mistyped an option". Every command's help says what 2 means."""
    for words, parser in _commands(cli.build_parser()):
        listed = parser.format_help().partition("exit codes:")[2]
        twos = [line.strip() for line in listed.splitlines() if line.strip().startswith("2")]
        assert twos == ["2: bad arguments"], (words, twos)


@pytest.mark.parametrize("command", ["reconcile", "replay", "quarantine redrive"])
def test_a_command_that_finds_something_to_act_on_says_so_with_3(command):
    parser = dict(_commands(cli.build_parser()))[command]
    listed = parser.format_help().partition("exit codes:")[2]
    assert any(line.strip().startswith("3: ") for line in listed.splitlines()), listed


def test_version_is_the_packages_and_goes_to_stdout(capsys):
    from components._version import __version__

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"python -m ops {__version__}\n"
