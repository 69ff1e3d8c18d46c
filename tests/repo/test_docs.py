"""The docs against the code: every module, environment variable, path, command and make target the
docs name exists, and every module and variable the code has is documented.

Written because the docs drifted each time modules moved: a reader following a stale path or a
renamed command loses more time than one who finds nothing.
"""

import ast
import re
from pathlib import Path

import pytest

from ops.__main__ import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGES = ["handler", "components", "ops", "ops/local"]
CODE_FOLDERS = ["handler", "components", "ops", "tests", "benchmarks", "policy"]
EXTERNAL_VARIABLES = {"CI"}
"""Set by the CI runner, not read by our code for behaviour of its own."""


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def environment_variables() -> set[str]:
    """Names the code reads: os.environ.get("X"), environ["X"], os.getenv("X"), and the handler's
    *_VARIABLE constants (which hold the names the component sets)."""
    names: set[str] = set()
    files = [p for folder in CODE_FOLDERS for p in (ROOT / folder).rglob("*.py")] + [ROOT / "__main__.py"]
    for path in files:
        tree = ast.parse(text_of(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                called = ast.unparse(node.func)
                if called.endswith(("environ.get", "getenv")) and isinstance(node.args[0].value, str):
                    names.add(node.args[0].value)
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
                if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                    names.add(node.slice.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any(t.endswith("_VARIABLE") for t in targets) and isinstance(node.value.value, str):
                    names.add(node.value.value)
    return names - EXTERNAL_VARIABLES


def test_the_scan_finds_the_variables_we_know_of():
    found = environment_variables()
    assert {"AGGREGATION_SPEC", "STREAM_AGGREGATOR_ENDPOINT", "UPDATE_SNAPSHOTS"} <= found


@pytest.mark.parametrize("name", sorted(environment_variables()))
def test_every_environment_variable_is_in_the_readme(name):
    assert f"`{name}`" in text_of(ROOT / "README.md"), f"README does not document {name}"


@pytest.mark.parametrize(
    "module",
    [
        f"{package}/{path.name}"
        for package in PACKAGES
        for path in sorted((ROOT / package).glob("*.py"))
        if path.name != "__init__.py"
    ],
)
def test_every_module_is_in_the_readme(module):
    readme = text_of(ROOT / "README.md")
    assert f"`{Path(module).name}`" in readme or f"`{module}`" in readme, f"README does not name {module}"


def named_paths() -> list[tuple[str, str]]:
    """Repository paths the docs name in backticks: `handler/fold.py`, `docs/runbook.md`, `tests/unit/`."""
    pattern = re.compile(
        r"`((?:\.ci|handler|components|ops|tests|docs|benchmarks|policy|examples|packaging|provider)"
        r"/[\w./-]*)`"
    )
    return sorted({(doc.name, match) for doc in DOCS for match in pattern.findall(text_of(doc))})


@pytest.mark.parametrize(("doc", "path"), named_paths())
def test_every_path_the_docs_name_exists(doc, path):
    assert (ROOT / path.split("::")[0]).exists(), f"{doc} names {path}, which does not exist"


def test_every_ops_command_the_docs_name_exists():
    """As a checkout runs them (`python -m ops X`) and as the installed console script does (`stream-aggregator X`)."""
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    pattern = r"(?:python -m ops|stream-aggregator) (?:--\w+ )*([a-z][\w-]*)"
    named = {match for doc in DOCS for match in re.findall(pattern, text_of(doc))}
    assert named and named <= commands, f"not commands: {sorted(named - commands)}"


def test_every_make_target_the_docs_name_exists():
    targets = set(re.findall(r"^([\w-]+):", text_of(ROOT / "Makefile"), re.MULTILINE))
    named = {match for doc in DOCS for match in re.findall(r"`make ([\w-]+)", text_of(doc))}
    assert named and named <= targets, f"not targets: {sorted(named - targets)}"
