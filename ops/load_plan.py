"""What `load` will write, decided before anything is written: pure.

Two rows of one file with the same key would be one item: DynamoDB keeps the last write (and
refuses a BatchWriteItem that holds both). So duplicates are settled here, by line: by default
the last row is loaded and each earlier one is named in a warning; under ``--strict`` every later
row is an error and nothing is loaded, like any other bad row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ._lambda_code import AggregationSpec
from .errors import InvalidRow
from .items import Item, describe_key, key_of, to_item
from .numbers import NumberError
from .rows import RowError, read_rows


@dataclass(frozen=True)
class ParsedRow:
    line: int
    item: Item


@dataclass
class LoadPlan:
    rows: list[ParsedRow] = field(default_factory=list)
    """What to write: one row per key, in file order."""
    errors: list[RowError] = field(default_factory=list)
    """Rows refused; under --strict, any of them means ``rows`` is empty."""
    warnings: list[RowError] = field(default_factory=list)
    """Rows skipped for a later row with the same key."""


def plan_load(spec: AggregationSpec, text: str, file_format: str, strict: bool) -> LoadPlan:
    """Every row validated, duplicates settled (see the module docstring).

    Raises
    ------
    rows.UnreadableFile
        When the file's structure is broken.
    """
    plan = LoadPlan()
    parsed: list[ParsedRow] = []
    for line, row in read_rows(text, file_format):
        if isinstance(row, str):
            plan.errors.append(RowError(line, row))
            continue
        try:
            parsed.append(ParsedRow(line, to_item(spec, row)))
        except (InvalidRow, NumberError) as error:
            plan.errors.append(RowError(line, str(error)))
    by_key: dict[tuple[str, ...], list[ParsedRow]] = defaultdict(list)
    for parsed_row in parsed:
        by_key[key_of(spec, parsed_row.item)].append(parsed_row)
    for key, same in by_key.items():
        lines = [parsed_row.line for parsed_row in same]
        described = describe_key(spec, key)
        if strict:
            plan.errors.extend(RowError(line, f"same key as line {lines[0]} ({described})") for line in lines[1:])
        else:
            kept = lines[-1]
            plan.warnings.extend(
                RowError(line, f"same key as line {kept} ({described}): line {kept} is loaded instead")
                for line in lines[:-1]
            )
    plan.errors.sort(key=lambda error: error.line)
    plan.warnings.sort(key=lambda warning: warning.line)
    if not (strict and plan.errors):
        last = {key: same[-1].line for key, same in by_key.items()}
        plan.rows = [kept for kept in parsed if last[key_of(spec, kept.item)] == kept.line]
    return plan
