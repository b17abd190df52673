"""The cost model against figures computed by hand from the documented price table."""

import pytest
import yaml

from ansible_collections.bluegreen.migration.plugins.module_utils import cost
from tests.harness.aws import ROOT

H = 730  # hours in a billing month

# Hand-computed line by line (us-east-1 list prices; see docs/cost.md).
LOCAL = {"environment_suffix": "local"}  # every default: single NAT, 3 AZs, 2 x 0.5 vCPU/1 GB, t3.medium + 2 readers
LOCAL_LINES = {
    "nat_gateway": 32.85,  # 1 x 0.045 x 730
    "alb": 16.43,  # 0.0225 x 730 = 16.425
    "alb_lcu": 5.84,  # 1 LCU x 0.008 x 730
    "fargate": 36.04,  # 2 x (0.5 x 0.04048 + 1 x 0.004445) x 730 = 2 x 18.02005
    "aurora_instances": 179.58,  # 3 x 0.082 x 730
    "aurora_storage": 0.70,  # 5 GB x 0.10 + 1M I/O x 0.20
    "public_ipv4": 14.60,  # (1 NAT EIP + 3 ALB nodes) x 0.005 x 730
    "secrets": 0.40,
    "alarms": 0.80,  # 8 x 0.10 (6 ecs_service, 2 aurora)
    "logs": 0.51,  # 1 GB x 0.50 + 7/30 GB stored (7 days) x 0.03 = 0.507
}

DEV = {
    "environment_suffix": "dev",
    "network_az_count": 2,
    "ecs_service_desired_count": 1,
    "ecs_service_cpu": 512,
    "ecs_service_memory": 1024,
    "ecs_service_log_retention_days": 14,
    "aurora_reader_count": 0,
}
DEV_LINES = {
    "nat_gateway": 32.85,
    "alb": 16.43,
    "alb_lcu": 5.84,
    "fargate": 18.02,  # 1 x (0.5 x 0.04048 + 1 x 0.004445) x 730 = 14.7752 + 3.24485
    "aurora_instances": 59.86,  # 1 x 0.082 x 730
    "aurora_storage": 0.70,
    "public_ipv4": 10.95,  # (1 + 2) x 3.65
    "secrets": 0.40,
    "alarms": 0.80,
    "logs": 0.51,  # 0.50 + (14/30 GB) x 0.03 = 0.514
}

PROD = {
    "environment_suffix": "prod",
    "network_nat_gateways": "per_az",
    "network_vpc_endpoints": ["s3", "secretsmanager", "logs"],
    "ecs_service_desired_count": 4,
    "ecs_service_cpu": 1024,
    "ecs_service_memory": 2048,
    "ecs_service_log_retention_days": 365,
    "aurora_instance_class": "db.r6g.large",
    "aurora_reader_count": 2,
    "aurora_kms_key_id": "alias/prod-aurora",
}
PROD_LINES = {
    "nat_gateway": 98.55,  # 3 x 32.85
    "alb": 16.43,
    "alb_lcu": 5.84,
    "fargate": 144.16,  # 4 x (1 x 0.04048 + 2 x 0.004445) x 730 = 4 x 36.0401
    "aurora_instances": 569.40,  # 3 x 0.26 x 730
    "aurora_storage": 0.70,
    "vpc_endpoint:s3": 0.0,  # gateway endpoint
    "vpc_endpoint:secretsmanager": 21.90,  # 3 AZs x 0.01 x 730
    "vpc_endpoint:logs": 21.90,
    "public_ipv4": 21.90,  # (3 NAT EIPs + 3 ALB nodes) x 3.65
    "secrets": 0.40,
    "alarms": 0.80,
    "logs": 0.86,  # 0.50 + 12 GB stored (365 days, capped at 12 months) x 0.03
    "kms_keys": 1.00,
}


@pytest.mark.parametrize(
    "variables, lines, total",
    [(LOCAL, LOCAL_LINES, 287.75), (DEV, DEV_LINES, 146.36), (PROD, PROD_LINES, 903.84)],
    ids=["local", "dev", "prod"],
)
def test_estimate_matches_hand_computed_figures(variables, lines, total):
    report = cost.estimate(variables)
    assert {line["component"]: line["monthly_usd"] for line in report["components"]} == lines
    assert report["total_monthly_usd"] == total
    # the table sums to its total, to the cent
    assert round(sum(lines.values()), 2) == total
    assert report["unpriced"] == []
    assert report["price_region"] == "us-east-1" and report["hours_per_month"] == H


def test_seed_sanity_nat_and_endpoints():
    single = cost.estimate({"network_nat_gateways": "single"})
    per_az = cost.estimate({"network_nat_gateways": "per_az"})
    nat_difference = cost.component_total(per_az, "nat_gateway") - cost.component_total(single, "nat_gateway")
    # the seed: one NAT instead of one per AZ saves ~$64/month (2 x 0.045 x 730 = 65.70)
    assert nat_difference == pytest.approx(65.70)
    assert 60 < nat_difference < 70
    # every NAT also holds a public IPv4 address
    assert cost.component_total(per_az, "public_ipv4") - cost.component_total(single, "public_ipv4") == pytest.approx(7.30)
    # $7.30/month per interface endpoint per AZ (0.01 x 730 h); gateway endpoints are free
    one_endpoint = cost.estimate({"network_vpc_endpoints": ["ecr.api"], "network_az_count": 1})
    assert cost.component_total(one_endpoint, "vpc_endpoint:") == 7.30
    assert cost.component_total(cost.estimate({"network_vpc_endpoints": ["s3", "dynamodb"]}), "vpc_endpoint:") == 0


def test_readers_scale_aurora_linearly_and_serverless_is_priced_per_acu():
    base = cost.component_total(cost.estimate({"aurora_reader_count": 0}), "aurora_instances")
    assert cost.component_total(cost.estimate({"aurora_reader_count": 15}), "aurora_instances") == round(16 * base, 2)
    serverless = cost.estimate({"aurora_instance_class": "db.serverless", "aurora_reader_count": 0}, assumptions={"serverless_acus": 2})
    assert cost.component_total(serverless, "aurora_instances") == round(2 * 0.12 * H, 2)


def test_never_expiring_logs_and_assumption_overrides():
    forever = cost.estimate({"ecs_service_log_retention_days": None}, assumptions={"log_ingest_gb": 10, "alarm_count": 0})
    lines = {line["component"]: line["monthly_usd"] for line in forever["components"]}
    assert lines["logs"] == round(10 * 0.50 + 10 * 12 * 0.03, 2)  # 12 months held
    assert lines["alarms"] == 0


def test_invalid_inputs_are_listed_not_raised():
    report = cost.estimate({"ecs_service_cpu": "lots", "aurora_instance_class": "db.x9.huge", "network_az_count": None})
    components = {line["component"] for line in report["components"]}
    assert "fargate" not in components and "aurora_instances" not in components
    assert any(r.startswith("fargate:") for r in report["unpriced"])
    assert any("db.x9.huge" in r for r in report["unpriced"])
    assert report["total_monthly_usd"] == round(sum(line["monthly_usd"] for line in report["components"]), 2)


def test_other_regions_are_flagged():
    assert "eu-west-1" in cost.estimate({"aws_region": "eu-west-1"})["note"]
    assert cost.estimate({})["note"] == ""


def test_markdown_table_sums():
    report = cost.estimate(PROD)
    table = cost.format_table(report)
    rows = [r for r in table.splitlines()[2:] if not r.startswith("| **total**")]
    assert len(rows) == len(report["components"])
    assert round(sum(float(r.split("|")[3]) for r in rows), 2) == report["total_monthly_usd"]
    assert "**903.84**" in table


# The shipped inventories, by hand from their group_vars (us-east-1 list prices).
DEV_INVENTORY_LINES = dict(LOCAL_LINES, aurora_instances=119.72)  # 1 writer + 1 reader: 2 x 0.082 x 730
PROD_INVENTORY_LINES = dict(
    LOCAL_LINES,
    nat_gateway=98.55,  # per_az: 3 x 0.045 x 730
    fargate=54.06,  # 3 x (0.5 x 0.04048 + 1 x 0.004445) x 730 = 3 x 18.02005
    aurora_instances=569.40,  # 3 x db.r6g.large 0.26 x 730
    public_ipv4=21.90,  # (3 NAT EIPs + 3 ALB nodes) x 0.005 x 730
)


@pytest.mark.parametrize(
    "inventory, lines, total",
    [("local", LOCAL_LINES, 287.75), ("dev", DEV_INVENTORY_LINES, 227.89), ("staging", LOCAL_LINES, 287.75), ("prod", PROD_INVENTORY_LINES, 768.59)],
)
def test_shipped_inventories_cost_what_was_computed_by_hand(inventory, lines, total):
    variables = yaml.safe_load((ROOT / "inventories" / inventory / "group_vars" / "bluegreen_envs.yml").read_text())
    variables = {k: v for k, v in variables.items() if not (isinstance(v, str) and "{{" in v)}
    report = cost.estimate(variables)
    assert {line["component"]: line["monthly_usd"] for line in report["components"]} == lines
    assert report["total_monthly_usd"] == total == round(sum(lines.values()), 2)
