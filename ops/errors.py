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
