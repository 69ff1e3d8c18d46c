"""The type stubs (mypy_boto3_*) are for mypy only: no shipped code may import them when it runs.

Lambda's Python runtime has boto3 but no stubs, and neither the Pulumi program's venv
(requirements.txt) nor an operator with boto3 alone has them. A module-level import of a stub
would pass every other test here (the development venv has the stubs) and fail at cold start.
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from aggregations import INVOICE_AGGREGATION
from handler.config import HandlerConfig
from handler.spec import parse_spec

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_PACKAGES = ("handler", "components", "ops", "packaging")
STUB_PREFIXES = ("mypy_boto3", "botocore_stubs", "boto3_stubs")

IMPORT_EVERY_MODULE_WITHOUT_STUBS = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    class NoStubs(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.startswith({prefixes!r}):
                raise ModuleNotFoundError(f"No module named {{name!r}} (no stubs at runtime)", name=name)
            return None

    sys.meta_path.insert(0, NoStubs())
    package = importlib.import_module({package!r})
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{{package.__name__}}.{{module.name}}")
    print(" ".join(sorted(name for name in sys.modules if name.startswith({package!r}))))
    """
)


def import_without_stubs(package: str, where: Path) -> subprocess.CompletedProcess[str]:
    """Import every module of ``package`` (found in ``where``) in a fresh interpreter that has no stubs."""
    script = IMPORT_EVERY_MODULE_WITHOUT_STUBS.format(prefixes=STUB_PREFIXES, package=package)
    config = HandlerConfig(
        parse_spec(INVOICE_AGGREGATION),
        "Totals",
        "https://sqs.test/q",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Invoices",
        ledger_table="Ledger",
        extremes_table_name="Extremes",
    )
    # handler.main reads its configuration and builds its clients on import, as at a cold start
    environment = {**os.environ, **config.environment(), "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=where, env=environment, capture_output=True, text=True, timeout=60
    )


def test_every_handler_module_imports_without_the_stubs():
    result = import_without_stubs("handler", ROOT)
    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split())
    expected = {f"handler.{path.stem}" for path in (ROOT / "handler").glob("*.py") if path.stem != "__init__"}
    assert expected <= imported, f"not imported: {sorted(expected - imported)}"


def test_a_stub_imported_at_module_level_would_fail_the_import(tmp_path):
    package = tmp_path / "careless"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "store.py").write_text("from mypy_boto3_dynamodb import DynamoDBClient\n")
    result = import_without_stubs("careless", tmp_path)
    assert result.returncode != 0 and "mypy_boto3_dynamodb" in result.stderr


def stub_imports_outside_type_checking(source: str) -> list[int]:
    """Lines importing a stub anywhere but under ``if TYPE_CHECKING:`` (even inside a function)."""
    tree = ast.parse(source)
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            guarded.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name.startswith(STUB_PREFIXES) for name in names) and id(node) not in guarded:
            lines.append(node.lineno)
    return lines


def test_shipped_code_imports_stubs_only_for_the_type_checker():
    found = {
        f"{path.relative_to(ROOT)}:{line}": path.read_text().splitlines()[line - 1].strip()
        for package in SHIPPED_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in stub_imports_outside_type_checking(path.read_text())
    }
    assert found == {}


def test_the_scan_finds_a_stub_import_outside_type_checking():
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from mypy_boto3_sqs import SQSClient
        import mypy_boto3_dynamodb.type_defs
        def later():
            from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
        """
    )
    assert stub_imports_outside_type_checking(source) == [5, 7]
