"""The outputs role for real (ansible-playbook on localhost, no AWS call): the JSON file against
tests/schemas/outputs.schema.json, the Markdown report (Mermaid block, cost table that sums to
its total), set_stats keyed by suffix across environments, no secret value, idempotence, absent."""

import json
import re

import jsonschema
import pytest
import yaml

from ansible_collections.bluegreen.migration.plugins.module_utils import cost
from tests.harness.aws import ROOT, recap, run_playbook

PLAYBOOK = "tests/unit/outputs/outputs.yml"
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "outputs.schema.json").read_text())
ACCOUNT = "123456789012"
SECRET_VALUE = "s3cr3t-never-written-anywhere"  # noqa: S105  (a fake, to prove it is never written)

# A prod-like environment (NAT per AZ, one interface and one gateway endpoint).
ALPHA_INPUTS = {"environment_suffix": "alpha", "network_nat_gateways": "per_az", "network_vpc_endpoints": ["s3", "secretsmanager"], "aurora_reader_count": 1}
ALPHA = {
    "bluegreen_network": {
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "vpc_cidr": "10.20.0.0/16",
        "azs": ["us-east-1a", "us-east-1b", "us-east-1c"],
        "subnets": {
            "public": ["subnet-0a01", "subnet-0a02", "subnet-0a03"],
            "private": ["subnet-0b01", "subnet-0b02", "subnet-0b03"],
            "isolated": ["subnet-0c01", "subnet-0c02", "subnet-0c03"],
        },
        "route_tables": {"public": "rtb-01", "private": ["rtb-02"], "isolated": "rtb-03"},
        "security_groups": {"alb": "sg-0a1", "app": "sg-0a2", "migrator": "sg-0a3", "db": "sg-0a4"},
        "nat_gateway_ids": ["nat-0a1", "nat-0a2", "nat-0a3"],
    },
    "bluegreen_ecs_service": {
        "cluster_name": "app-alpha",
        "cluster_arn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/app-alpha",
        "services": {
            "blue": {"name": "app-blue-alpha", "task_definition": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app-blue-alpha:3", "desired_count": 0},
            "green": {"name": "app-green-alpha", "task_definition": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app-green-alpha:4", "desired_count": 2},
        },
        "alb_arn": f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/app-alpha/50dc6c495c0c9188",
        "alb_dns_name": "app-alpha-1234567890.us-east-1.elb.amazonaws.com",
        "listener_arn": f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/app-alpha/50dc6c495c0c9188/f2f7dc8efc522ab2",
        "target_groups": {
            "blue": f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/app-blue-alpha/73e2d6bc24d8a067",
            "green": f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/app-green-alpha/83e2d6bc24d8a068",
        },
        "live_color": "green",
        "log_group": "/aws/ecs/app-alpha",
        "execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/app-execution-alpha",
        "task_role_arn": f"arn:aws:iam::{ACCOUNT}:role/app-task-alpha",
        "alarm_topic_arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms-alpha",
    },
    "bluegreen_aurora": {
        "cluster_id": "aurora-alpha",
        "writer_endpoint": "aurora-alpha.cluster-abcdefghijkl.us-east-1.rds.amazonaws.com",
        "reader_endpoint": "aurora-alpha.cluster-ro-abcdefghijkl.us-east-1.rds.amazonaws.com",
        "port": 5432,
        "database": "appdb",
        "secret_arn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:aurora-credentials-alpha-AbCdEf",
        "security_group_ids": ["sg-0a4"],
        "subnet_group": "aurora-alpha",
        # A field that must never reach the outputs (they are a whitelist, not a dump).
        "master_password": SECRET_VALUE,
    },
    "bluegreen_migrator_lambda": {
        "function_name": "migrator-alpha",
        "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:migrator-alpha",
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/migrator-alpha",
        "log_group": "/aws/lambda/migrator-alpha",
        "code_sha256": "x" * 44,
        "handler": "index.handler",
    },
    # What site.yml's preflight registers: the cost model's estimate.
    "bluegreen_preflight": {"cost": cost.estimate(ALPHA_INPUTS)},
}


def play(tmp_path, state="present"):
    """alpha: every role's fact; beta: nothing deployed, no preflight result (the role estimates)."""
    inventory = {"all": {"hosts": {"alpha": ALPHA, "beta": {}}, "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    proc = run_playbook(
        PLAYBOOK,
        inventory=tmp_path / "inventory.yml",
        extra_vars={"outputs_dir": str(tmp_path / "outputs"), "outputs_state": state},
        env={"ANSIBLE_SHOW_CUSTOM_STATS": "true", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    return proc, recap(proc.stdout)


def custom_stats(stdout):
    """The aggregated (not per host) set_stats data printed under CUSTOM STATS."""
    match = re.search(r"^\s*RUN:\s*(\{.*\})\s*$", stdout.split("CUSTOM STATS")[1], re.MULTILINE)
    assert match, stdout[-3000:]
    return json.loads(match.group(1))


def cost_table(markdown):
    """(line amounts, total) of the Markdown cost table."""
    section = markdown.split("## Monthly cost estimate", 1)[1]
    rows = [r for r in section.splitlines() if r.startswith("| ") and not r.startswith("| component")]
    amounts, total = [], None
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if cells[0] == "**total**":
            total = float(cells[2].strip("*"))
        else:
            amounts.append(float(cells[2]))
    return amounts, total


def test_outputs_role_writes_valid_files_publishes_stats_and_is_idempotent(tmp_path):
    first, counts = play(tmp_path)
    # one task writes both files of each environment (and the directory, for whichever is first)
    assert {c["changed"] for c in counts.values()} == {1}, counts
    out = tmp_path / "outputs"
    alpha = json.loads((out / "alpha.json").read_text())
    beta = json.loads((out / "beta.json").read_text())
    for document in (alpha, beta):
        jsonschema.validate(document, SCHEMA)

    # Every field from the facts, nothing else
    facts = ALPHA
    assert alpha["vpc_id"] == facts["bluegreen_network"]["vpc_id"]
    assert alpha["subnet_ids"] == facts["bluegreen_network"]["subnets"]
    assert alpha["security_group_ids"]["migrator"] == "sg-0a3"
    assert alpha["alb_dns_name"] == facts["bluegreen_ecs_service"]["alb_dns_name"]
    assert alpha["listener_arn"] == facts["bluegreen_ecs_service"]["listener_arn"]
    assert alpha["target_group_arns"] == facts["bluegreen_ecs_service"]["target_groups"]
    assert alpha["ecs_cluster_name"] == "app-alpha" and alpha["ecs_service_names"] == {"blue": "app-blue-alpha", "green": "app-green-alpha"}
    assert alpha["live_color"] == "green"
    assert alpha["aurora_writer_endpoint"].startswith("aurora-alpha.cluster-") and ".cluster-ro-" in alpha["aurora_reader_endpoint"]
    assert alpha["aurora_port"] == 5432 and isinstance(alpha["aurora_port"], int)
    assert alpha["db_secret_arn"] == facts["bluegreen_aurora"]["secret_arn"]
    assert alpha["migrator_function_name"] == "migrator-alpha"
    assert alpha["region"] == "us-east-1" and alpha["environment_suffix"] == "alpha"
    assert alpha["cost"]["total_monthly_usd"] == facts["bluegreen_preflight"]["cost"]["total_monthly_usd"]
    assert alpha["cost"]["components"] == facts["bluegreen_preflight"]["cost"]["components"]

    # A role that did not run leaves nulls (the schema allows them); the role estimated the cost itself
    assert beta["vpc_id"] is None and beta["alb_dns_name"] is None and beta["aurora_writer_endpoint"] is None
    assert beta["subnet_ids"] == {"public": None, "private": None, "isolated": None} and beta["live_color"] is None
    assert beta["cost"]["total_monthly_usd"] == cost.estimate({"environment_suffix": "beta", "aws_region": "us-east-1"})["total_monthly_usd"]

    # set_stats: one aggregated document, keyed by suffix, equal to the files
    stats = custom_stats(first.stdout)
    assert stats == {"bluegreen_outputs": {"alpha": alpha, "beta": beta}}

    # The Markdown report: endpoints, a Mermaid diagram, a cost table that sums to its total
    markdown = (out / "alpha.md").read_text()
    mermaid = re.findall(r"^```mermaid\n(.*?)^```$", markdown, re.MULTILINE | re.DOTALL)
    assert len(mermaid) == 1 and mermaid[0].startswith("flowchart LR")
    assert 'alb -->|"live"| green' in mermaid[0] and 'alb -.->|"idle"| blue' in mermaid[0]
    assert facts["bluegreen_ecs_service"]["alb_dns_name"] in mermaid[0] and "class green live" in mermaid[0]
    assert "absent" not in mermaid[0].split("classDef live")[1], "alpha has every component deployed"
    for value in (alpha["alb_dns_name"], alpha["listener_arn"], alpha["aurora_writer_endpoint"], alpha["db_secret_arn"], alpha["vpc_id"]):
        assert f"`{value}`" in markdown
    amounts, total = cost_table(markdown)
    assert len(amounts) == len(alpha["cost"]["components"]) and total == alpha["cost"]["total_monthly_usd"]
    assert abs(sum(amounts) - total) < 0.005, (amounts, total)
    assert "vpc_endpoint:secretsmanager" in markdown and "nat_gateway | 3 |" in markdown
    beta_md = (out / "beta.md").read_text()
    assert "_not deployed_" in beta_md and "class alb,nat,blue,green,migrator,writer,reader,secret absent" in beta_md
    beta_amounts, beta_total = cost_table(beta_md)
    assert abs(sum(beta_amounts) - beta_total) < 0.005

    # No secret value anywhere, whatever a fact carries
    for text in ((out / "alpha.json").read_text(), markdown, first.stdout.split("CUSTOM STATS")[1]):
        assert SECRET_VALUE not in text and "master_password" not in text

    # Same facts, same bytes: nothing changes
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    second, counts = play(tmp_path)
    assert counts["alpha"]["changed"] == 0 and counts["beta"]["changed"] == 0, second.stdout[-3000:]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    # absent removes both files of each environment, then has nothing left to do
    third, counts = play(tmp_path, state="absent")
    assert counts["alpha"]["changed"] == 1 and list(out.iterdir()) == []
    fourth, counts = play(tmp_path, state="absent")
    assert counts["alpha"]["changed"] == 0 and counts["beta"]["changed"] == 0


def _document():
    """A valid document of an environment whose roles have not run yet (all nulls) plus its estimate."""
    estimate = cost.estimate({"environment_suffix": "gamma"})
    document = {key: None for key in SCHEMA["required"]}
    document.update(
        format_version=1,
        environment_suffix="gamma",
        region="eu-west-1",
        subnet_ids={"public": None, "private": None, "isolated": None},
        security_group_ids={"alb": None, "app": None, "migrator": None, "db": None},
        target_group_arns={"blue": None, "green": None},
        ecs_service_names={"blue": None, "green": None},
        cost={k: estimate[k] for k in SCHEMA["properties"]["cost"]["required"]},
    )
    return document


@pytest.mark.parametrize(
    "change, why",
    [
        ({"db_password": "x"}, "an unknown (possibly secret) key"),
        ({"aurora_port": "5432"}, "the port as a string"),
        ({"live_color": "red"}, "a color that is neither blue nor green"),
        ({"subnet_ids": {"public": ["subnet-1"], "private": None}}, "a tier missing"),
        ({"db_secret_arn": "aurora-credentials-alpha"}, "a secret name instead of its ARN"),
        ({"cost": {"currency": "USD"}}, "a cost without its lines and total"),
    ],
)
def test_schema_rejects(change, why):
    document = _document()
    jsonschema.validate(document, SCHEMA)
    document.update(change)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)
