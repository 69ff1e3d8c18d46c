"""One small rule per kind of setting, each the limit AWS itself enforces, so a value AWS would
refuse at deploy time (or, worse, accept and then fail every write) fails `pulumi preview` instead.

A rule is ``rule(name, value)``: it is given a value that is known (validation.py skips None and
Outputs) and raises StreamAggregatorArgsError naming the argument and what it allows. Nested values
may still be Outputs (a tag's value, one alarm action), so the rules skip those themselves.
This module imports nothing else from the package, so it stays a leaf that anything can import.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import pulumi

from .errors import StreamAggregatorArgsError

Rule = Callable[[str, Any], None]

LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
"""The only values CloudWatch Logs accepts for a log group's retention."""
MAX_TAGS = 50
MAX_ALARM_ACTIONS = 5
"""CloudWatch's limit on a metric alarm's actions (and on its OK actions, which get the same list)."""
_KMS_KEY_ARN = re.compile(r"arn:[a-z][a-z0-9-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
_STREAM_ARN = re.compile(r"arn:[a-z][a-z0-9-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.\-]{3,255}/stream/.+")


@dataclass(frozen=True)
class NameRule:
    """What AWS accepts as one kind of resource's name (docs/design.md, "Physical names", cites each)."""

    what: str
    allowed: str
    """A regular expression's character class."""
    says: str
    """The same, as a message says it."""
    shortest: int
    longest: int

    def problem(self, name: str) -> str | None:
        if not self.shortest <= len(name) <= self.longest or not re.fullmatch(f"{self.allowed}*", name):
            return f"a {self.what} name is {self.shortest} to {self.longest} {self.says}"
        return None


TABLE_NAME = NameRule("DynamoDB table or index", r"[A-Za-z0-9_.\-]", "letters, digits, '_', '.' or '-'", 3, 255)
LAMBDA_NAME = NameRule("Lambda function", r"[A-Za-z0-9_\-]", "letters, digits, '_' or '-'", 1, 64)
QUEUE_NAME = NameRule("SQS queue", r"[A-Za-z0-9_\-]", "letters, digits, '_' or '-'", 1, 80)
ROLE_NAME = NameRule("IAM role", r"[A-Za-z0-9_+=,.@\-]", "ASCII letters, digits or any of _+=,.@-", 1, 64)
ROLE_POLICY_NAME = NameRule(
    "IAM role policy", r"[A-Za-z0-9_+=,.@\-]", "ASCII letters, digits or any of _+=,.@-", 1, 128
)
"""IAM writes these as [\\w+=,.@-]: its \\w is ASCII, where Python's would take any letter."""
LOG_GROUP_NAME = NameRule("CloudWatch log group", r"[.\-_/#A-Za-z0-9]", "letters, digits or any of ._-/#", 1, 512)
ALARM_NAME = NameRule("CloudWatch alarm", r"[^\x00-\x1f\x7f]", "characters, no control characters", 1, 255)
AUTONAME_SUFFIX = len("-1a2b3c4")
"""What Pulumi adds to a logical name to make a physical one by default: '-' and 7 random hex digits."""
COMPONENT_NAME = re.compile(r"[A-Za-z0-9_-]+")
"""The characters every name derived from the component's is allowed (the narrowest: Lambda's, SQS's)."""


def component_name(name: Any, children: Mapping[str, NameRule]) -> None:
    """Every child is named ``<component name>-<role>`` and autonamed from that, so the component's name
    must leave each one valid for its kind, with Pulumi's suffix: refused here, before any resource
    exists, rather than by AWS halfway through a deployment."""
    if not isinstance(name, str) or not COMPONENT_NAME.fullmatch(name):
        raise StreamAggregatorArgsError(
            f"StreamAggregator name {name!r} must be letters, digits, '_' and '-' only: it names the function, "
            "queues, role and tables, and the narrowest of those (Lambda, SQS) allows nothing else"
        )
    for role, rule in children.items():
        physical = f"{name}-{role}" + "x" * AUTONAME_SUFFIX
        problem = rule.problem(physical)
        if problem:
            room = rule.longest - len(physical) + len(name)
            raise StreamAggregatorArgsError(
                f"StreamAggregator name {name!r} is too long: its {rule.what} would be named {name}-{role} plus "
                f"Pulumi's {AUTONAME_SUFFIX}-character suffix, and {problem}; use at most {room} characters"
            )


def fail(name: str, message: str) -> NoReturn:
    raise StreamAggregatorArgsError(f"StreamAggregator argument {name} {message}")


def is_known(value: Any) -> bool:
    """False for None and for values only known once deployed (Outputs, awaitables): nothing to check yet."""
    return value is not None and not isinstance(value, pulumi.Output) and not inspect.isawaitable(value)


def is_whole_number(value: Any) -> bool:
    """Whole floats count: the multi-language provider passes every integer as a float (100.0).
    Booleans don't, although Python makes them ints."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


@dataclass(frozen=True)
class Allowed:
    """A rule one predicate decides, with what it allows said once: its error message and the generated
    docs/configuration.md both read ``allows``."""

    allows: str
    """What the value must be, as "must be ..." ends."""
    accepts: Callable[[Any], bool]

    def __call__(self, name: str, value: Any) -> None:
        if not self.accepts(value):
            fail(name, f"must be {self.allows}, got {value!r}")


def whole_number(low: int, high: int) -> Allowed:
    """A rule for a Lambda or mapping setting that AWS takes as an integer within [low, high]."""
    return Allowed(
        f"a whole number from {low} to {high}", lambda value: is_whole_number(value) and low <= value <= high
    )


record_age = Allowed(
    "-1 or a whole number from 60 to 604800",
    lambda value: is_whole_number(value) and (value == -1 or 60 <= value <= 604800),
)
"""-1 means records never expire; otherwise Lambda wants at least a minute and at most a week."""
log_retention = Allowed(
    f"one of CloudWatch's retention values {sorted(LOG_RETENTION_DAYS)}",
    lambda value: is_whole_number(value) and value in LOG_RETENTION_DAYS,
)


def one_of(*allowed: str) -> Allowed:
    """A rule for a closed set of strings, compared exactly as AWS compares them (case matters)."""
    return Allowed(f"one of {', '.join(map(repr, allowed))}", lambda value: isinstance(value, str) and value in allowed)


boolean = Allowed("true or false", lambda value: isinstance(value, bool))
"""Strictly a bool: "false" is a non-empty string, so Python would read it as true."""
table_name = Allowed(
    f"a DynamoDB table name: {TABLE_NAME.shortest} to {TABLE_NAME.longest} {TABLE_NAME.says}",
    lambda value: isinstance(value, str) and TABLE_NAME.problem(value) is None,
)
kms_key_arn = Allowed(
    "a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>, not an alias)",
    lambda value: isinstance(value, str) and _KMS_KEY_ARN.fullmatch(value) is not None,
)
"""A key's ARN, not its id or an alias: the handler's IAM policy grants kms:Decrypt on exactly it,
and IAM matches key operations against the key's own ARN, never an alias's."""
stream_arn = Allowed(
    "a DynamoDB stream ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>)",
    lambda value: isinstance(value, str) and _STREAM_ARN.fullmatch(value) is not None,
)
"""The ARN of a table's stream, not of the table: the mapping reads it and the policy grants on it."""


def alarm_actions(name: str, value: Any) -> None:
    if isinstance(value, str) or not isinstance(value, Sequence):
        fail(name, f"must be a list of ARNs (SNS topics, for example), got {value!r}")
    for action in filter(is_known, value):
        if not isinstance(action, str) or not action.startswith("arn:"):
            fail(name, f"must be a list of ARNs (SNS topics, for example), got {action!r} in it")
    if len(value) > MAX_ALARM_ACTIONS:
        fail(name, f"must hold at most {MAX_ALARM_ACTIONS} actions (CloudWatch's limit), got {len(value)}")


def tags(name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        fail(name, f"must be a mapping of strings to strings, got {value!r}")
    if len(value) > MAX_TAGS:
        fail(name, f"must hold at most {MAX_TAGS} tags (AWS's limit per resource), got {len(value)}")
    for key, tag_value in value.items():
        _tag(name, key, tag_value)


def _tag(name: str, key: Any, value: Any) -> None:
    if not isinstance(key, str) or (is_known(value) and not isinstance(value, str)):
        fail(name, f"must be a mapping of strings to strings, got {key!r}: {value!r}")
    if not 1 <= len(key) <= 128:
        fail(name, f"key {key!r} must be 1 to 128 characters, got {len(key)}")
    if key.lower().startswith("aws:"):
        fail(name, f"key {key!r} starts with 'aws:', which AWS reserves for its own tags")
    if isinstance(value, str) and len(value) > 256:
        fail(name, f"value of {key!r} must be 0 to 256 characters, got {len(value)}")


def existing_source(name: str, value: Any) -> None:
    if not isinstance(value, Mapping) or set(value) != {"table_name", "stream_arn"}:
        fail(name, f"must be {{'table_name': ..., 'stream_arn': ...}}, got {value!r}")
    if is_known(value["table_name"]):
        table_name(f"{name}.table_name", value["table_name"])
    if is_known(value["stream_arn"]):
        stream_arn(f"{name}.stream_arn", value["stream_arn"])
