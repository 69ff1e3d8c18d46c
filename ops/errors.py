"""The operator tools' own errors: plain types that import nothing, so any module may raise them.

Every one derives from ``OpsError``. The CLI prints those (and the handler's ``HandlerError``,
and AWS's errors) as one line; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class OpsError(Exception):
    """Base of every error the operator tools raise on purpose."""


class CommandError(OpsError):
    """A command that cannot go on; its message is the one line the operator sees."""


class UnreadableMessage(OpsError):
    """A queue message the command cannot read as what that queue holds; the text says why."""


class InvalidRow(OpsError):
    """A row of an input file that cannot be loaded; the message names the field and the rule."""


EXIT_OK = 0
EXIT_ERROR = 1
"""An error or a refusal, told in one line."""
EXIT_USAGE = 2
"""Bad arguments: argparse's own code, which every Python CLI shares."""
EXIT_ATTENTION = 3
"""The command ran and found something the operator must act on: drift, or a message or record it could
not settle. Never 2, so a script can tell a finding from a mistyped option."""


STOP_CODES = "130 (Ctrl-C), 143 (kill), 129 (terminal closed)"
"""128 + the signal: SIGTERM and SIGHUP stop a command as Ctrl-C does (``ops.__main__``)."""


def exit_codes(done: str | None, error: str, *, found: str | None = None, stopped: str | None = None) -> str:
    """A command's exit codes, for the end of its --help (a RawDescriptionHelpFormatter keeps the lines).

    Each command says what 0, 1, 3 and a stop mean for it; the numbers, the usage line every command
    shares and the signals' codes are written here, so every help agrees with what ``main`` returns.
    ``stopped`` is what follows "stopped", its punctuation included."""
    lines = [f"{EXIT_OK}: {done}"] if done is not None else []
    lines += [f"{EXIT_ERROR}: {error}", f"{EXIT_USAGE}: bad arguments"]
    if found is not None:
        lines.append(f"{EXIT_ATTENTION}: {found}")
    if stopped is not None:
        lines.append(f"{STOP_CODES}: stopped{stopped}")
    return "exit codes:\n" + "\n".join(f"  {line}" for line in lines)
