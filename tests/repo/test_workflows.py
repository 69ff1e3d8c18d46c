"""The GitHub workflows, checked offline: schema, zizmor, and the shape the team relies on."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_workflows_match_the_github_schema():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) == 2
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_at_medium_or_above():
    result = subprocess.run(
        [
            BIN / "zizmor",
            "--offline",
            "--min-severity",
            "medium",
            "--config",
            ROOT / ".github" / "zizmor.yml",
            WORKFLOWS,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


def steps(job: dict) -> list[dict]:
    return job["steps"]


def action(job: dict, name: str) -> dict:
    found = [s for s in steps(job) if s.get("uses", "").startswith(name + "@")]
    assert len(found) == 1, name
    return found[0]


def test_preview_runs_tests_first_then_previews_each_stack_on_the_pr():
    workflow = load("preview.yml")
    assert list(workflow[True]) == ["pull_request"]  # YAML reads `on` as True
    jobs = workflow["jobs"]
    assert {"run": "make test"} in steps(jobs["test"])
    preview = jobs["preview"]
    assert preview["needs"] == "test" and preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    pulumi = action(preview, "pulumi/actions")["with"]
    assert pulumi["command"] == "preview" and pulumi["comment-on-pr"] is True
    assert preview["permissions"]["id-token"] == "write"


def test_deploy_goes_to_dev_then_prod_behind_its_environment():
    workflow = load("deploy.yml")
    assert workflow[True] == {"push": {"branches": ["main"]}}
    dev, prod = workflow["jobs"]["up-dev"], workflow["jobs"]["up-prod"]
    assert prod["needs"] == "up-dev" and prod["environment"] == "prod" and dev["environment"] == "dev"
    for job in (dev, prod):
        assert action(job, "pulumi/actions")["with"]["command"] == "up"
        assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_no_long_lived_keys_anywhere():
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
        assert "PULUMI_ACCESS_TOKEN" not in text, "Pulumi Cloud is reached by OIDC (pulumi/auth-actions)"
        for job in yaml.safe_load(text)["jobs"].values():
            if any(s.get("uses", "").startswith("pulumi/actions@") for s in steps(job)):
                assert action(job, "aws-actions/configure-aws-credentials")["with"]["role-to-assume"]
            assert all(
                s["with"].get("persist-credentials") is False
                for s in steps(job)
                if s.get("uses", "").startswith("actions/checkout@")
            )
        assert "pip install -r requirements.txt" in text
