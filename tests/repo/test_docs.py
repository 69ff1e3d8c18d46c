"""The docs against the code: every path, command and make target the docs name exists, every
environment variable the code reads is in the README, and every module says what it is for.

Written because the docs drifted each time modules moved: a reader following a stale path or a
renamed command loses more time than one who finds nothing. Modules are not listed in the docs: a
module's own docstring is where its job is written, once, so a module without one fails here.
"""

import ast
import re
from pathlib import Path

import pytest

from ops.__main__ import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
CODE_FOLDERS = ["handler", "components", "ops", "tests", "benchmarks", "policy"]
SHIPPED_FOLDERS = ["handler", "components", "ops", "benchmarks", "policy", "packaging", "provider"]
"""Every folder of code that is not a test; a module of each must say what it is for."""
README_LINES = 300
"""The README is a landing page; reference belongs in docs/ (issue 19)."""
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


def modules() -> list[str]:
    """Every module of the shipped folders and the top level, but an empty ``__init__.py``."""
    paths = [p for folder in SHIPPED_FOLDERS for p in (ROOT / folder).rglob("*.py")] + sorted(ROOT.glob("*.py"))
    return sorted(str(p.relative_to(ROOT)) for p in paths if p.name != "__init__.py" or p.read_text().strip())


def test_the_module_scan_finds_every_package():
    found = modules()
    for folder in [*SHIPPED_FOLDERS, "ops/local"]:
        assert any(module.startswith(f"{folder}/") for module in found), f"no module found in {folder}/"
    known = {"__main__.py", "aggregations.py", "ops/local/emulator.py", "packaging/stream_aggregator/testing.py"}
    assert known <= set(found)


@pytest.mark.parametrize("module", modules())
def test_every_module_has_a_docstring(module):
    tree = ast.parse(text_of(ROOT / module))
    docstring = ast.get_docstring(tree)
    assert docstring and docstring.strip(), f"{module} has no docstring saying what it is for"


def test_the_readme_is_a_landing_page():
    lines = text_of(ROOT / "README.md").count("\n")
    assert lines <= README_LINES, f"README.md has {lines} lines; move reference to docs/ (at most {README_LINES})"


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


def heading_anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"^```.*?^```", "", text_of(path), flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def relative_links() -> list[tuple[str, str]]:
    """Links between the docs, as `[text](docs/design.md#the-model)`: a reader follows them from the README."""
    pattern = re.compile(r"\]\(([^)\s]+)\)")
    return sorted(
        {
            (str(doc.relative_to(ROOT)), link)
            for doc in DOCS
            for link in pattern.findall(text_of(doc))
            if "://" not in link
        }
    )


def test_the_docs_link_to_one_another():
    assert ("README.md", "docs/design.md#the-path-of-one-record") in relative_links()


@pytest.mark.parametrize(("doc", "link"), relative_links())
def test_every_link_between_the_docs_reaches_its_file_and_heading(doc, link):
    target, _, anchor = link.partition("#")
    path = (ROOT / doc).parent / target if target else ROOT / doc
    assert path.exists(), f"{doc} links to {target}, which does not exist"
    assert not anchor or anchor in heading_anchors(path), f"{doc} links to #{anchor}, no heading of {target or doc}"
