"""Entry point the Pulumi engine runs for `--policy-pack policy`."""

from pulumi_policy import PolicyPack
from rules import POLICIES

PolicyPack(name="stream-aggregator", policies=POLICIES)
