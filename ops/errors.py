"""The operator tools' own errors: plain types that import nothing, so any module may raise them."""

from __future__ import annotations


class CommandError(RuntimeError):
    """A command that cannot go on; its message is the one line the operator sees."""
