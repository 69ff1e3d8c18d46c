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


def exit_codes(*codes: str) -> str:
    """A command's exit codes, for the end of its --help (a RawDescriptionHelpFormatter keeps the lines)."""
    return "exit codes:\n" + "\n".join(f"  {code}" for code in codes)
