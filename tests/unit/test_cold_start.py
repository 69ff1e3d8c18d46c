"""The cold-start benchmark's deployments: what it times must be what a deployment ships."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cold_start import HANDLER, VARIANTS, deployment, lambda_environment, run_once


def test_the_source_deployment_has_no_bytecode_and_the_compiled_one_has_every_module():
    modules = {path.stem for path in HANDLER.glob("*.py")}
    with deployment(compiled=False) as source, deployment(compiled=True) as compiled:
        assert not list((source / "handler").rglob("*.pyc"))
        assert {path.stem for path in (source / "handler").glob("*.py")} == modules
        compiled_stems = {path.name.split(".")[0] for path in (compiled / "handler" / "__pycache__").glob("*.pyc")}
        assert compiled_stems == modules


def test_every_variant_runs_from_its_deployment_and_reports_its_steps():
    with deployment(compiled=True) as compiled:
        reported = {variant.name: set(run_once(variant, compiled, lambda_environment())) for variant in VARIANTS}
    assert reported[VARIANTS[0].name] == {"import handler.main"}
    steps = {name: phases for name, phases in reported.items() if name.startswith("step by step")}
    assert len(steps) == 2
    for phases in steps.values():
        assert {"import the SDK", "create the DynamoDB client", "create the SQS client"} <= phases


def test_a_deployment_without_the_handler_fails_instead_of_timing_another_copy(tmp_path: Path):
    with pytest.raises(subprocess.CalledProcessError):
        run_once(VARIANTS[0], tmp_path, lambda_environment())


def test_the_lambda_cold_start_does_not_import_boto3():
    """handler.main creates its clients with botocore's session; boto3 would add its import to every cold start."""
    script = (
        "import sys, handler.main; print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 's3transfer')))"
    )
    with deployment(compiled=False) as source:
        env = {**os.environ, **lambda_environment()}
        result = subprocess.run([sys.executable, "-c", script], cwd=source, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
