"""The CI scripts in .ci/, checked without running them (.ci/installed downloads from PyPI and takes
minutes): they parse, they run in the order CI relies on, and what they read from the README is there."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.repo.test_package import readme_users_test

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / ".ci").iterdir())


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_script_is_executable_strict_bash_that_parses(script):
    assert os.access(script, os.X_OK), f"{script.name} is not executable"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in script.read_text()
    result = subprocess.run(["bash", "-n", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_run_ends_with_the_installed_wheel_after_both_make_tests():
    """The wheel is tried last: after the checkout's make test and the clone's, from the clone."""
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[-1] == ".ci/installed"
    assert [line for line in lines if line == "make test"] == ["make test", "make test"]
    assert lines.index('cd "$alone/stream-aggregator"') < len(lines) - 1


def test_the_readmes_user_test_markers_hold_the_block_the_package_tests_run():
    """.ci/installed takes the user's test from between these markers; test_package.py takes it from
    the section's first python block. Both must be the same code."""
    readme = (ROOT / "README.md").read_text()
    assert readme.count("\n<!-- user-test: begin -->\n") == readme.count("\n<!-- user-test: end -->\n") == 1
    marked = readme.split("\n<!-- user-test: begin -->\n", 1)[1].split("\n<!-- user-test: end -->\n", 1)[0]
    assert marked == "```python\n" + readme_users_test() + "```"
