"""Cold start: the time to import ``handler.main`` in a fresh interpreter, as Lambda's init does.

Each variant runs in its own subprocess several times, interleaved so they share the machine's
noise, and the median is reported. The handler is copied to a temporary folder first, so
what Python finds there is exactly what a deployment ships: Lambda's ``/var/task`` is read-only,
so a module shipped without bytecode is compiled from source at every cold start (run here with
``PYTHONDONTWRITEBYTECODE``), while one shipped compiled (``compileall``) is loaded from its
``.pyc``. The SDK's bytecode is present in both, as it is in the runtime's boto3.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from py_compile import PycInvalidationMode
from typing import Any

from aggregations import INVOICE_AGGREGATION
from handler.config import HandlerConfig
from handler.spec import parse_spec

HANDLER = Path(__file__).resolve().parent.parent / "handler"

IMPORT_MAIN = """
import json, time
started = time.perf_counter()
import handler.main
print(json.dumps({"import handler.main": time.perf_counter() - started, "file": handler.main.__file__}))
"""

PHASES = """
import json, os, time
phases, started = {{}}, time.perf_counter()
def lap(name):
    global started
    now = time.perf_counter()
    phases[name] = now - started
    started = now
{import_sdk}
lap("import the SDK")
from handler.config import load_config
from handler.processor import BatchProcessor, lambda_config
lap("import the handler's modules")
config = load_config(os.environ)
lap("read and check the configuration")
dynamodb = {client}("dynamodb", config=lambda_config(config.write_concurrency))
lap("create the DynamoDB client")
sqs = {client}("sqs", config=lambda_config(config.write_concurrency))
lap("create the SQS client")
BatchProcessor(config, dynamodb, sqs)
lap("build the processor")
import handler
print(json.dumps({{**phases, "file": handler.__file__}}))
"""
"""What ``handler.main`` does at import, one step at a time, through boto3 or botocore alone."""
BOTO3 = PHASES.format(import_sdk="import boto3", client="boto3.client")
BOTOCORE = PHASES.format(
    import_sdk="import botocore.session\nsession = botocore.session.get_session()",
    client="session.create_client",
)


@dataclass(frozen=True)
class Variant:
    name: str
    script: str
    compiled: bool


VARIANTS = (
    Variant("import handler.main, handler shipped as source (today)", IMPORT_MAIN, compiled=False),
    Variant("import handler.main, handler shipped with bytecode", IMPORT_MAIN, compiled=True),
    Variant("step by step, clients from boto3.client", BOTO3, compiled=True),
    Variant("step by step, clients from botocore's session (no boto3)", BOTOCORE, compiled=True),
)


def lambda_environment() -> dict[str, str]:
    """A valid configuration for the invoice stack, as the component sets it, and a region."""
    config = HandlerConfig(
        parse_spec(INVOICE_AGGREGATION),
        "Totals",
        "https://sqs.us-east-1.amazonaws.com/123456789012/quarantine",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Invoices",
        ledger_table="Ledger",
        extremes_table_name="Extremes",
    )
    return {**config.environment(), "AWS_DEFAULT_REGION": "us-east-1"}


@contextmanager
def deployment(compiled: bool) -> Iterator[Path]:
    """A folder holding a copy of ``handler/`` and nothing else, compiled or not."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as folder:
        package = Path(folder) / "handler"
        shutil.copytree(HANDLER, package, ignore=shutil.ignore_patterns("__pycache__"))
        if compiled:
            # unchecked-hash: a .pyc that does not depend on the files' times, which a zip may not keep
            compileall.compile_dir(package, quiet=1, invalidation_mode=PycInvalidationMode.UNCHECKED_HASH)
        yield Path(folder)


def run_once(variant: Variant, where: Path, environment: Mapping[str, str]) -> dict[str, float]:
    env = {**os.environ, **environment, "PYTHONDONTWRITEBYTECODE": "1"}
    for inherited in ("PYTHONPATH", "PYTHONPYCACHEPREFIX"):  # the deployment's folder is the only place to look
        env.pop(inherited, None)
    result = subprocess.run(
        [sys.executable, "-c", variant.script], cwd=where, env=env, capture_output=True, text=True, check=True
    )
    timings: dict[str, Any] = json.loads(result.stdout)
    found = timings.pop("file")
    if not found.startswith(str(where)):
        raise RuntimeError(f"the handler was imported from {found}, not from the deployment in {where}")
    return {phase: float(seconds) for phase, seconds in timings.items()}


def measure(runs: int = 9) -> dict[str, dict[str, float]]:
    """Median seconds of each variant's timings over ``runs`` fresh interpreters, run in turn."""
    environment = lambda_environment()
    samples: dict[str, list[dict[str, float]]] = {variant.name: [] for variant in VARIANTS}
    with deployment(compiled=False) as source, deployment(compiled=True) as compiled:
        for _ in range(runs):
            for variant in VARIANTS:
                where = compiled if variant.compiled else source
                samples[variant.name].append(run_once(variant, where, environment))
    return {
        name: {phase: statistics.median(run[phase] for run in runs_) for phase in runs_[0]}
        for name, runs_ in samples.items()
    }


def print_cold_start(results: dict[str, dict[str, float]], runs: int) -> None:
    version = ".".join(map(str, sys.version_info[:3]))
    print(f"cold start (Python {version}; bytecode only loads on the version that compiled it), median of {runs}")
    print("fresh interpreters per variant, run in turn:")
    for name, timings in results.items():
        if len(timings) == 1:
            print(f"  {name}: {next(iter(timings.values())) * 1000:.0f} ms")
            continue
        print(f"  {name}: {sum(timings.values()) * 1000:.0f} ms in all")
        for phase, seconds in timings.items():
            print(f"    {phase}: {seconds * 1000:.0f} ms")


def main() -> None:
    runs = 9
    print_cold_start(measure(runs), runs)


if __name__ == "__main__":
    main()
