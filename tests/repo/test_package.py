"""The component as a package: a wheel other Pulumi Python projects install, and a multi-language
package whose schema other languages (and YAML) are generated from."""

import json
import os
import pydoc
import re
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case

from components import StreamAggregator, StreamAggregatorArgs
from components._version import __version__
from components.multi_language import provider
from components.stream_aggregator import TYPE_TOKEN
from ops.__main__ import build_parser

ROOT = Path(__file__).resolve().parents[2]
TOKEN = TYPE_TOKEN


def source_tree(destination: Path) -> Path:
    """The repository's files as git sees them (tracked, and new ones not ignored), copied: built in
    place, setuptools would reuse build/ from an earlier build and ship files since deleted."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    return destination


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = source_tree(tmp_path_factory.mktemp("source"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            out,
            source,
        ],
        check=True,
        capture_output=True,
        cwd=out,
    )
    (built,) = out.glob("stream_aggregator-*.whl")
    return built


def test_wheel_holds_one_import_package_with_the_component_and_the_handler(wheel):
    """Nothing named components or handler at the top: most Pulumi projects have their own."""
    assert wheel.name == f"stream_aggregator-{__version__}-py3-none-any.whl"
    names = {n for n in zipfile.ZipFile(wheel).namelist() if not n.startswith("stream_aggregator-")}
    packaged = ROOT / "packaging" / "stream_aggregator"
    expected = {f"stream_aggregator/{p.name}" for p in packaged.iterdir() if p.is_file()}
    for folder in ("components", "handler", "ops", "ops/local"):
        expected |= {f"stream_aggregator/{folder}/{p.name}" for p in (ROOT / folder).glob("*.py")}
    assert {
        "stream_aggregator/__init__.py",
        "stream_aggregator/py.typed",
        "stream_aggregator/aggregations.py",
    } <= expected
    assert names == expected


def test_wheel_carries_aggregations_py_itself_not_the_symlink(wheel):
    """packaging/stream_aggregator/aggregations.py is a symlink to the root's; the wheel holds the file's text."""
    shipped = zipfile.ZipFile(wheel).read("stream_aggregator/aggregations.py")
    assert shipped == (ROOT / "aggregations.py").read_bytes()


def test_wheel_carries_the_licence_its_metadata_names(wheel):
    """The metadata says Apache-2.0; the licence's text travels with it (PEP 639: License-File)."""
    archive = zipfile.ZipFile(wheel)
    metadata = archive.read(f"stream_aggregator-{__version__}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    licence = (ROOT / "LICENSE").read_text()
    assert archive.read(f"stream_aggregator-{__version__}.dist-info/licenses/LICENSE").decode() == licence
    assert licence.split()[:4] == ["Apache", "License", "Version", "2.0,"] and "END OF TERMS AND CONDITIONS" in licence


def flat(text: str) -> str:
    """pydoc's text without its ' |' margins, every run of spaces and line breaks one space."""
    return " ".join(" ".join(re.sub(r"^ \|", "", line) for line in text.splitlines()).split())


DEPLOY_FROM_THE_WHEEL = """
import json, pulumi
from stream_aggregator.testing import StreamAggregatorMocks

pulumi.runtime.set_mocks(StreamAggregatorMocks(), preview=False)
import components, handler  # the consumer's own, in this folder
import stream_aggregator.handler.config
from stream_aggregator import StreamAggregator
from stream_aggregator.components.stream_aggregator import HANDLER_DIR, handler_archive

@pulumi.runtime.test
def deploy():
    StreamAggregator("pkg", {"partition_key": "OrderId", "group_by": "CustomerId",
                             "measures": [{"name": "Revenue", "op": "sum", "attribute": "Amount"}]})

deploy()
print(json.dumps({"components": components.__file__, "handler": handler.__file__,
                  "ours": stream_aggregator.__file__, "our_handler": stream_aggregator.handler.config.__file__,
                  "consumer_components_says": components.WHO, "handler_dir": str(HANDLER_DIR),
                  "assets": sorted(handler_archive().assets)}))
"""


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, Path]:
    """A fresh venv with the wheel alone (its python, its site-packages); pulumi and pulumi-aws come from
    this venv through a .pth file, so the test needs no download, and nothing of the repository."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    fresh_python = venv / "bin" / "python"
    fresh_site = Path(
        subprocess.run(
            [fresh_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (fresh_site / "dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", fresh_python, "install", "--quiet", "--no-deps", "--no-index", wheel],
        check=True,
        capture_output=True,
    )
    return fresh_python, fresh_site


def run_installed(python: Path, program: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``program`` run by the fresh venv's python from ``cwd``, with no PYTHONPATH from this process."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        [python, "-c", program], cwd=cwd, capture_output=True, text=True, check=False, env=environment
    )


def test_installed_wheel_deploys_from_another_folder(installed, tmp_path):
    """It runs from a folder outside the repository, which has its own components/ and handler.py."""
    fresh_python, fresh_site = installed
    program = tmp_path / "elsewhere"
    (program / "components").mkdir(parents=True)
    (program / "components" / "__init__.py").write_text('WHO = "the consumer"\n')
    (program / "handler.py").write_text("def main(event, context):\n    return event\n")
    result = run_installed(fresh_python, DEPLOY_FROM_THE_WHEEL, program)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["components"] == str(program / "components" / "__init__.py") and found["consumer_components_says"]
    assert found["handler"] == str(program / "handler.py"), "the consumer's handler.py, not ours"
    assert found["ours"].startswith(str(fresh_site / "stream_aggregator"))
    assert found["our_handler"] == str(fresh_site / "stream_aggregator" / "handler" / "config.py")
    assert found["handler_dir"] == str(fresh_site / "stream_aggregator" / "handler")
    assert "handler/main.py" in found["assets"] and len(found["assets"]) == len(list((ROOT / "handler").glob("*.py")))


INSTALLED_FACTS = """
import importlib.metadata, json, pydoc, stream_aggregator
print(json.dumps({"version": stream_aggregator.__version__, "metadata": importlib.metadata.version("stream-aggregator"),
                  "args_help": pydoc.render_doc(stream_aggregator.StreamAggregatorArgs, renderer=pydoc.plaintext),
                  "component_help": pydoc.render_doc(stream_aggregator.StreamAggregator, renderer=pydoc.plaintext)}))
"""


def test_installed_package_has_its_version_and_its_docs_in_help(installed, tmp_path):
    """From the wheel too: the docs are read from the source files it ships."""
    result = run_installed(installed[0], INSTALLED_FACTS, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    assert found["version"] == found["metadata"] == __version__
    assert flat(found["args_help"]) == flat(pydoc.render_doc(StreamAggregatorArgs, renderer=pydoc.plaintext)).replace(
        "components.stream_aggregator", "stream_aggregator.components.stream_aggregator"
    )
    assert "Outputs (attributes): source_table:" in flat(found["component_help"])


USERS_TYPED_PROGRAM = """
import stream_aggregator

version: int = stream_aggregator.__version__
args: stream_aggregator.StreamAggregatorArgs = {"partition_key": "OrderId"}
"""


def test_mypy_reads_the_installed_packages_types(installed, tmp_path):
    """py.typed (PEP 561): without it mypy skips the package ("missing library stubs or py.typed marker")."""
    (tmp_path / "program.py").write_text(USERS_TYPED_PROGRAM)
    # pulumi_aws is skipped only to keep the run to seconds: it is not what is under test.
    (tmp_path / "mypy.ini").write_text("[mypy]\n[mypy-pulumi_aws.*]\nfollow_imports = skip\n")
    command = [sys.executable, "-m", "mypy", "--python-executable", installed[0], "--cache-dir", os.devnull]
    result = subprocess.run(
        [*command, "--config-file", "mypy.ini", "program.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 2, result.stdout
    assert 'program.py:4: error: Incompatible types in assignment (expression has type "str"' in errors[0]
    assert 'program.py:5: error: Missing key "measures" for TypedDict "StreamAggregatorArgs"' in errors[1]


def readme_users_test() -> str:
    """The code block of README's "Testing a program that uses it", as a user would copy it."""
    section = (ROOT / "README.md").read_text().split("### Testing a program that uses it\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```\n", 1)[0]


def test_the_readmes_users_test_passes_against_the_installed_wheel(installed, tmp_path):
    """From a folder with nothing of the repository, in the fresh venv: the user's one line of set-up."""
    (tmp_path / "test_orders.py").write_text(readme_users_test())
    program = "import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'test_orders.py']))"
    result = run_installed(installed[0], program, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
    refused = (
        "from stream_aggregator.testing import MocksSettingsError, StreamAggregatorMocks\n"
        "try: StreamAggregatorMocks(account='1')\n"
        "except MocksSettingsError as refused: print(refused)"
    )
    assert "account must be 12 digits" in run_installed(installed[0], refused, tmp_path).stdout
    imported = run_installed(installed[0], "import components", tmp_path)
    assert "No module named 'components'" in imported.stderr, "the repository is on the fresh venv's path"


def test_the_readmes_users_test_fails_with_pulumis_bare_mocks(installed, tmp_path):
    """What a user met before: mocks that echo the inputs, with a name and the same made-up ARN for every
    ARN output, fail on an argument the program never gave (the stream ARN is not a stream's)."""
    bare = (
        "class EchoMocks(pulumi.runtime.Mocks):\n"
        "    def new_resource(self, args):\n"
        "        arn = 'arn:aws:x:us-east-1:123456789012:' + args.name\n"
        "        return args.name + '-id', {**args.inputs, 'name': args.name, 'arn': arn, 'streamArn': arn}\n"
        "    def call(self, args):\n"
        "        return {}\n\n\n"
    )
    users = readme_users_test().replace("StreamAggregatorMocks()", "EchoMocks()")
    (tmp_path / "test_orders.py").write_text(
        users.replace("pulumi.runtime.set_mocks(", bare + "pulumi.runtime.set_mocks(", 1)
    )
    program = "import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'test_orders.py']))"
    result = run_installed(installed[0], program, tmp_path)
    assert result.returncode == 1 and "existing_source.stream_arn is not a DynamoDB stream ARN" in result.stdout, (
        result.stdout[-3000:]
    )


def declared_extras() -> dict[str, list[Requirement]]:
    """pyproject.toml's optional dependencies, parsed."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return {extra: [Requirement(line) for line in lines] for extra, lines in declared.items()}


def test_the_extras_require_what_requirements_dev_txt_does():
    """The versions are written twice (pip reads requirements-dev.txt, the wheel pyproject.toml): equal here."""
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    pinned = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text and not text.startswith("-"):
            requirement = Requirement(text)
            pinned[canonicalize_name(requirement.name)] = requirement
    declared = declared_extras()
    assert set(declared) == {"ops", "local"}
    assert [str(r) for r in declared["local"] if r.name == "stream-aggregator"] == ["stream-aggregator[ops]"]
    for requirement in (r for rs in declared.values() for r in rs if r.name != "stream-aggregator"):
        assert str(pinned[canonicalize_name(requirement.name)]) == str(requirement), requirement.name


def wheel_requirements(wheel: Path) -> list[Requirement]:
    archive = zipfile.ZipFile(wheel)
    metadata = Parser().parsestr(archive.read(f"stream_aggregator-{__version__}.dist-info/METADATA").decode())
    return [Requirement(line) for line in metadata.get_all("Requires-Dist") or []]


def test_the_base_install_is_pulumi_and_pulumi_aws_and_the_rest_comes_with_an_extra(wheel):
    """A Pulumi program that uses the component gets no boto3, rich or moto; [ops] and [local] bring them."""
    requirements = wheel_requirements(wheel)
    base = {r.name for r in requirements if r.marker is None}
    assert base == {"pulumi", "pulumi-aws"}

    def needed_with(extra: str) -> set[str]:
        return {r.name for r in requirements if r.marker is not None and r.marker.evaluate({"extra": extra})}

    assert needed_with("") == set(), "a requirement whose marker holds without an extra"
    assert {"boto3", "rich"} <= needed_with("ops") and "moto" not in needed_with("ops")
    assert needed_with("local") == {"stream-aggregator", "moto"}


def installed_command(
    installed: tuple[Path, Path], arguments: list[str], cwd: Path, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The fresh venv's ``stream-aggregator`` script run as a user would, from ``cwd``; ``arguments``
    starting with "python" run the venv's python instead."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    if pythonpath:
        environment["PYTHONPATH"] = str(pythonpath)
    script = installed[0].parent / "stream-aggregator"
    command = [installed[0], *arguments[1:]] if arguments[:1] == ["python"] else [script, *arguments]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=environment, timeout=90)


def command_names() -> set[str]:
    return set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def test_the_installed_command_lists_every_command_under_its_own_name(installed, tmp_path):
    """The console script from the wheel, with nothing of the repository on the path."""
    result = installed_command(installed, ["--help"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("usage: stream-aggregator "), result.stdout[:200]
    listed = result.stdout.split("{", 1)[1].split("}", 1)[0].split(",")
    assert set(listed) == command_names() and {"reconcile", "replay", "quarantine", "demo"} <= set(listed)
    assert "No module named 'ops'" in run_installed(installed[0], "import ops", tmp_path).stderr


def test_the_installed_command_runs_the_demo_on_the_embedded_emulator(installed, tmp_path):
    """moto comes through the .pth, as [local] would install it; the invoice aggregation from the wheel."""
    result = installed_command(installed, ["demo"], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "InvoiceTotal" in result.stdout and "Traceback" not in result.stderr


def brought_by(requirements: list[Requirement], extra: str) -> set[str]:
    """The distributions (installed here) that ``requirements`` with ``extra`` bring, transitively."""
    found: set[str] = set()
    todo = [(r, {extra, ""}) for r in requirements]
    while todo:
        requirement, wanted = todo.pop()
        name = canonicalize_name(requirement.name)
        if requirement.marker is not None and not any(requirement.marker.evaluate({"extra": e}) for e in wanted):
            continue
        if name in found or name == "stream-aggregator":
            continue
        found.add(name)
        try:
            needs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # not installed here (another platform's): nothing to hide either
            continue
        todo += [(Requirement(line), {*requirement.extras, ""}) for line in needs]
    return found


BLOCKER = """
import importlib.abc, sys

NOT_INSTALLED = frozenset({names!r})


class NotInstalled(importlib.abc.MetaPathFinder):
    \"\"\"What the [ops] extra does not install cannot be imported, as in a venv that has only it.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in NOT_INSTALLED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
"""


def test_with_the_ops_extra_alone_every_command_is_there_and_demo_names_the_local_extra(installed, wheel, tmp_path):
    """Modules of this venv's distributions that neither the base install nor [ops] brings are hidden
    (moto among them) by a finder a sitecustomize.py installs: the process has what `pip install
    stream-aggregator[ops]` gives."""
    with_ops = brought_by(wheel_requirements(wheel), "ops")
    hidden = {
        module
        for module, distributions in metadata.packages_distributions().items()
        if not any(canonicalize_name(d) in with_ops for d in distributions)
    }
    assert {"moto", "werkzeug"} <= hidden and not {"boto3", "botocore", "rich", "pulumi"} & hidden
    site_dir = tmp_path / "only-ops"
    site_dir.mkdir()
    (site_dir / "sitecustomize.py").write_text(BLOCKER.format(names=sorted(hidden)))
    work = tmp_path / "work"
    work.mkdir()
    assert (
        "No module named 'moto'" in installed_command(installed, ["python", "-c", "import moto"], work, site_dir).stderr
    )
    helped = installed_command(installed, ["--help"], work, site_dir)
    assert helped.returncode == 0, helped.stderr[-3000:]
    assert helped.stdout.startswith("usage: stream-aggregator ") and all(c in helped.stdout for c in command_names())
    refused = installed_command(installed, ["demo"], work, site_dir)
    said = (refused.stdout + refused.stderr).strip()
    assert refused.returncode == 1 and "Traceback" not in said, said[-3000:]
    assert len(said.splitlines()) == 1 and "[local] extra" in said and "stream-aggregator[local]" in said, said


@pytest.fixture(scope="module")
def schema() -> dict:
    provider = ComponentProvider([StreamAggregator], "stream-aggregator", version=__version__)
    return json.loads(provider.schema)


def test_schema_describes_the_component(schema):
    assert schema["name"] == "stream-aggregator" and schema["version"] == __version__
    resource = schema["resources"][TOKEN]
    assert resource["isComponent"] is True
    inputs = resource["inputProperties"]
    assert sorted(resource["requiredInputs"]) == ["measures", "partitionKey"]
    for name in (
        "partitionKey",
        "sortKey",
        "groupBy",
        "measures",
        "filter",
        "existingSource",
        "batchSize",
        "alarmActions",
        "tracing",
        "dashboard",
        "kmsKeyArn",
        "tags",
    ):
        assert inputs[name]["description"], f"{name} has no docs"
    assert inputs["partitionKey"]["description"] == "The source table's partition key attribute."
    assert inputs["existingSource"]["$ref"] == "#/types/stream-aggregator:index:ExistingSourceArgs"
    outputs = resource["properties"]
    assert set(outputs) == {
        "sourceTable",
        "aggregateTable",
        "ledgerTable",
        "extremesTable",
        "function",
        "eventSourceMapping",
        "failureQueue",
        "quarantineQueue",
        "dashboard",
    }
    assert outputs["aggregateTable"]["$ref"].endswith("/resources/aws:dynamodb%2Ftable:Table")
    assert outputs["quarantineQueue"]["$ref"].endswith("/resources/aws:sqs%2Fqueue:Queue")
    assert outputs["dashboard"]["$ref"].endswith("/resources/aws:cloudwatch%2Fdashboard:Dashboard")
    assert outputs["extremesTable"]["$ref"] == outputs["ledgerTable"]["$ref"] == outputs["aggregateTable"]["$ref"]
    assert inputs["tracing"]["type"] == inputs["dashboard"]["type"] == "boolean"
    assert set(schema["types"]["stream-aggregator:index:ExistingSourceArgs"]["properties"]) == {
        "tableName",
        "streamArn",
    }
    assert resource["description"].startswith("An exact, real-time aggregate of a DynamoDB table")
    measure = schema["types"]["stream-aggregator:index:MeasureArgs"]
    assert set(measure["properties"]) == {"name", "op", "attribute", "type"} and measure["required"] == ["name", "op"]
    assert all(field["description"] for field in measure["properties"].values())
    assert inputs["measures"]["items"]["$ref"] == "#/types/stream-aggregator:index:MeasureArgs"
    item_filter = schema["types"]["stream-aggregator:index:FilterArgs"]
    assert set(item_filter["properties"]) == {"attribute", "values"}
    assert inputs["filter"]["$ref"] == "#/types/stream-aggregator:index:FilterArgs"
    part = schema["types"]["stream-aggregator:index:GroupPartArgs"]
    assert set(part["properties"]) == {"attribute", "bucket", "date", "format", "type"}
    assert part["required"] == ["attribute"] and all(field["description"] for field in part["properties"].values())
    assert inputs["groupByParts"]["items"]["$ref"] == "#/types/stream-aggregator:index:GroupPartArgs"
    assert inputs["timezone"]["description"] and inputs["indexByBucket"]["type"] == "boolean"


def test_help_shows_every_argument_with_the_docs_the_schema_has(schema):
    """help(StreamAggregatorArgs) shows each field, nested ones too, with the description Pulumi's
    analyzer reads for the schema from the same docstring (one source for both)."""
    shown = flat(pydoc.render_doc(StreamAggregatorArgs, renderer=pydoc.plaintext))
    inputs = schema["resources"][TOKEN]["inputProperties"]
    assert {camel_case(name) for name in StreamAggregatorArgs.__annotations__} == set(inputs)
    for name in StreamAggregatorArgs.__annotations__:
        description = inputs[camel_case(name)]["description"]
        assert f"{name}: " in shown and " ".join(description.split()) in shown, f"help() lacks {name}'s docs"
    nested = {t.rsplit(":", 1)[1]: definition for t, definition in schema["types"].items()}
    assert set(nested) == {"ExistingSourceArgs", "MeasureArgs", "FilterArgs", "GroupPartArgs"}
    for type_name, definition in nested.items():
        assert f"{type_name}: {definition['description']}" in shown
        for field, described in definition["properties"].items():
            assert " ".join(described["description"].split()) in shown, f"help() lacks {type_name}.{field}'s docs"
    assert "Fields (required: measures, partition_key):" in shown


def test_help_shows_the_components_signature_parameters_and_outputs(schema):
    """Not ComponentResource's constructor docs (its 't' and 'props', which this one does not take)."""
    shown = flat(pydoc.render_doc(StreamAggregator, renderer=pydoc.plaintext))
    assert "StreamAggregator(name: str, args: components.stream_aggregator.StreamAggregatorArgs, opts:" in shown
    assert "help(StreamAggregatorArgs)" in shown and "Raises ------ StreamAggregatorArgsError" in shown
    assert ":param str t:" not in shown
    outputs = schema["resources"][TOKEN]["properties"]
    for name in StreamAggregator.__annotations__:
        assert " ".join(outputs[camel_case(name)]["description"].split()) in shown, f"help() lacks output {name}"
    assert schema["resources"][TOKEN]["description"] == StreamAggregator.__doc__, "the schema's stays as written"


def test_yaml_example_uses_the_schema(schema):
    program = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    assert program["packages"]["stream-aggregator"] == "../../provider"
    assert (ROOT / "examples" / "yaml" / program["packages"]["stream-aggregator"] / "PulumiPlugin.yaml").exists()
    resource = schema["resources"][TOKEN]
    (orders,) = program["resources"].values()
    assert orders["type"] == TOKEN
    assert set(orders["properties"]) <= set(resource["inputProperties"])
    assert set(resource["requiredInputs"]) <= set(orders["properties"])
    for output in program["outputs"].values():
        assert output.split(".")[1] in resource["properties"]


def test_provider_entry_point_hosts_the_component():
    source = (ROOT / "provider" / "__main__.py").read_text()
    assert "from components.multi_language import host" in source and "host(__version__, sys.argv[1:])" in source
    assert yaml.safe_load((ROOT / "provider" / "PulumiPlugin.yaml").read_text()) == {"runtime": "python"}


def test_the_provider_entry_point_imports_its_host_from_another_folder(tmp_path):
    """As the engine runs it: the plugin's file by path, from a folder that is not the repository."""
    program = f"import runpy; runpy.run_path({str(ROOT / 'provider' / '__main__.py')!r}, run_name='imported')"
    result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_hosted_schema_is_pulumis_own(schema):
    """The strict host changes how inputs are mapped, not the schema other languages are generated from."""
    assert json.loads(provider(__version__).schema) == schema


def test_the_yaml_example_passes_the_hosts_key_check():
    program = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    (orders,) = program["resources"].values()
    host = provider(__version__)
    mapped = host.map_inputs(orders["properties"], host._component_defs["StreamAggregator"])
    assert mapped["filter"] == {"attribute": "Status", "values": ["PAID"]} and mapped["group_by"] == "CustomerId"
    assert {"name": "LargestOrder", "op": "max", "attribute": "Amount"} in mapped["measures"]
