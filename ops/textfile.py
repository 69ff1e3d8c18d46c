"""Reading the operator's files (data, spec, stack outputs): errors name the file and the line.

Files are decoded here rather than opened in text mode, because text mode also breaks lines at a
lone carriage return, and ``str.splitlines`` at U+2028, U+0085 and other characters that are
valid inside a JSON string: either would split one good row in two and shift every later line
number. Lines end at "\\n" only; a "\\r" before it is dropped.
"""

from __future__ import annotations

from pathlib import Path

from .errors import OpsError


class InputFileError(OpsError):
    """A file the command cannot use at all; the message starts with ``path:line:`` where known."""


def read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (a byte-order mark is dropped)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x} at column {column})"
        ) from None


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) for every line, split at "\\n" only."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [(number, line.removesuffix("\r")) for number, line in enumerate(lines, start=1)]
