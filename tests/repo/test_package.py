"""The component as a package: a wheel other Pulumi Python projects install, and a multi-language
package whose schema other languages (and YAML) are generated from."""

import json
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider

from components import StreamAggregator
from components._version import __version__
from components.multi_language import provider
from components.stream_aggregator import TYPE_TOKEN

ROOT = Path(__file__).resolve().parents[2]
TOKEN = TYPE_TOKEN


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
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
            ROOT,
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
    expected = {"stream_aggregator/__init__.py"}
    expected |= {f"stream_aggregator/components/{p.name}" for p in (ROOT / "components").glob("*.py")}
    expected |= {f"stream_aggregator/handler/{p.name}" for p in (ROOT / "handler").glob("*.py")}
    assert names == expected


DEPLOY_FROM_THE_WHEEL = """
import json, pulumi

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        outputs = {**args.inputs, "name": args.inputs.get("name") or args.name}
        outputs["arn"] = "arn:aws:x:us-east-1:1:" + args.name
        if args.typ == "aws:dynamodb/table:Table":
            outputs["streamArn"] = "arn:aws:dynamodb:us-east-1:1:table/t/stream/2026-01-01T00:00:00.000"
        return args.name + "-id", outputs
    def call(self, args):
        return {}

pulumi.runtime.set_mocks(Mocks(), preview=False)
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


def test_installed_wheel_deploys_from_another_folder(wheel, tmp_path):
    """A fresh venv with the wheel; pulumi and pulumi-aws come from this venv through a .pth file,
    so the test needs no download. It runs from a folder outside the repository."""
    venv = tmp_path / "venv"
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
    program = tmp_path / "elsewhere"
    (program / "components").mkdir(parents=True)
    (program / "components" / "__init__.py").write_text('WHO = "the consumer"\n')
    (program / "handler.py").write_text("def main(event, context):\n    return event\n")
    result = subprocess.run(
        [fresh_python, "-c", DEPLOY_FROM_THE_WHEEL], cwd=program, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["components"] == str(program / "components" / "__init__.py") and found["consumer_components_says"]
    assert found["handler"] == str(program / "handler.py"), "the consumer's handler.py, not ours"
    assert found["ours"].startswith(str(fresh_site / "stream_aggregator"))
    assert found["our_handler"] == str(fresh_site / "stream_aggregator" / "handler" / "config.py")
    assert found["handler_dir"] == str(fresh_site / "stream_aggregator" / "handler")
    assert "handler/main.py" in found["assets"] and len(found["assets"]) == len(list((ROOT / "handler").glob("*.py")))


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
        "function",
        "eventSourceMapping",
        "failureQueue",
        "quarantineQueue",
        "dashboard",
    }
    assert outputs["aggregateTable"]["$ref"].endswith("/resources/aws:dynamodb%2Ftable:Table")
    assert outputs["quarantineQueue"]["$ref"].endswith("/resources/aws:sqs%2Fqueue:Queue")
    assert outputs["dashboard"]["$ref"].endswith("/resources/aws:cloudwatch%2Fdashboard:Dashboard")
    assert inputs["tracing"]["type"] == inputs["dashboard"]["type"] == "boolean"
    assert set(schema["types"]["stream-aggregator:index:ExistingSourceArgs"]["properties"]) == {
        "tableName",
        "streamArn",
    }
    assert resource["description"].startswith("An exact, real-time aggregate of a DynamoDB table")
    measure = schema["types"]["stream-aggregator:index:MeasureArgs"]
    assert set(measure["properties"]) == {"name", "op", "attribute"} and measure["required"] == ["name", "op"]
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
