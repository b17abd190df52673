"""The limits of real AWS, checked before any write: public subnets big enough for an ALB (pure
computation on the network role's own layout) and rule 8, read-only AWS facts (Elastic IP and
VPC quotas, Aurora engine version and instance class orderability).

Rule 8 is tested three ways: from a table of facts (what the rules conclude), from facts the
action plugin reads on the emulator (what moto answers, and what it does not), and through
ansible-playbook with several environments in one run (the quota is shared)."""

import ipaddress
import time

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from ansible_collections.bluegreen.migration.plugins.action import preflight as action
from ansible_collections.bluegreen.migration.plugins.module_utils import preflight
from ansible_collections.bluegreen.migration.plugins.module_utils.cidr import CidrError, split_subnets, subnet_prefix
from tests.harness.aws import ROOT, client, recap, run_playbook
from tests.unit.preflight.test_preflight_playbook import failure_chunks

ERROR, WARNING = preflight.ERROR, preflight.WARNING
MIGRATOR = str(ROOT / "migrator")
# 15.2 is the newest Aurora PostgreSQL 15 moto's catalogue knows (the default, 15.10, it does not).
DEV = {"environment_suffix": "dev", "migrator_lambda_source_dir": MIGRATOR, "aurora_engine_version": "15.2"}
NAMES = preflight.resource_names("dev", "us-east-1")
LIMIT_RULES = {"eip_quota", "vpc_quota", "engine_orderable", "instance_orderable"}
READS = {
    "DescribeAddresses",
    "DescribeAccountAttributes",
    "DescribeVpcs",
    "GetServiceQuota",
    "GetAWSDefaultServiceQuota",
    "DescribeDBClusters",
    "DescribeDBEngineVersions",
    "DescribeOrderableDBInstanceOptions",
}


def checked(overrides=None, facts=None, peers=()):
    return preflight.run_checks(dict(DEV, **(overrides or {})), aws_limits=facts, peers=peers, environ={})


def limit_findings(result):
    return [f for f in result["findings"] if f["rule"] in LIMIT_RULES]


# --- ALB subnets: pure computation ------------------------------------------------------------


@pytest.mark.parametrize("az_count, smallest", [(2, 24), (3, 23), (4, 23), (5, 23), (6, 22)])
def test_alb_rule_follows_the_network_layout(az_count, smallest):
    """For every VPC size, the rule fails exactly when split_subnets (the layout the network
    role creates) gives public subnets smaller than /27, and names the smallest VPC that fits
    (the figures docs/preflight.md gives)."""
    assert preflight.ALB_SUBNET_MAX_PREFIX - subnet_prefix(0, az_count) == smallest
    seen = set()
    for prefix in range(16, 29):
        cidr = "10.0.0.0/%d" % prefix
        try:
            public = ipaddress.ip_network(split_subnets(cidr, az_count)["public"][0])
        except CidrError:
            continue  # too small for any subnet: the cidr rule's own error
        result = checked({"network_vpc_cidr": cidr, "network_az_count": az_count, "ecs_service_desired_count": 1})
        alb = [e for e in result["errors"] if e["rule"] == "alb_subnet"]
        # AWS: at least /27 and 8 free addresses; the NAT gateway takes one of the public subnet's.
        fits = public.prefixlen <= 27 and public.num_addresses - 5 - 1 >= 8
        assert bool(alb) is not fits, (cidr, az_count, [preflight.finding_line(e) for e in alb])
        assert fits is (prefix <= smallest)
        seen.add(fits)
        if alb:
            assert alb[0]["variable"] == "network_vpc_cidr"
            assert "/%d subnets" % public.prefixlen in alb[0]["message"]
            assert alb[0]["fix"].startswith("use a /%d or larger network_vpc_cidr (e.g. 10.0.0.0/%d)" % (smallest, smallest))
    assert seen == {True, False}, "both outcomes for %d AZs" % az_count


def test_a_24_over_three_azs_names_the_23_and_two_azs():
    (error,) = [e for e in checked({"network_vpc_cidr": "10.0.1.0/24"})["errors"] if e["rule"] == "alb_subnet"]
    assert "/28 subnets (11 usable addresses, 10 free after the NAT gateway)" in error["message"]
    assert "at least /27 with at least 8 free addresses" in error["message"]
    assert error["fix"] == "use a /23 or larger network_vpc_cidr (e.g. 10.0.0.0/23), or network_az_count: 2"
    # and both ways out pass
    assert [e for e in checked({"network_vpc_cidr": "10.0.0.0/23"})["errors"] if e["rule"] == "alb_subnet"] == []
    assert [e for e in checked({"network_vpc_cidr": "10.0.1.0/24", "network_az_count": 2})["errors"] if e["rule"] == "alb_subnet"] == []


# --- Rule 8 from facts ------------------------------------------------------------------------------


def eip(in_use, owned=None, limit=5):
    return {"eip": {"in_use": in_use, "owned": owned or {}, "limit": limit, "limit_source": "EC2 account attribute vpc-max-elastic-ips"}}


def vpcs(count, existing=(), limit=5):
    return {"vpc": {"count": count, "existing": list(existing), "limit": limit, "limit_source": "Service Quotas L-F678F1CE"}}


def aurora(**fact):
    return {"aurora": dict({"cluster_exists": False, "source": "DescribeDBEngineVersions"}, **fact)}


OWN_VPC = {"name": NAMES["vpc"], "cidr": "10.0.0.0/16"}
PEERS = [{"inventory_hostname": "pr-1", "environment_suffix": "pr-1"}, {"inventory_hostname": "pr-2", "environment_suffix": "pr-2"}]
UNREAD = {"error": "An error occurred (UnauthorizedOperation) when calling the DescribeAddresses operation"}

# (case id, overrides, peers, facts, severity, variable, rule)
LIMIT_CASES = [
    ("eip-single-full", {}, (), eip(5), ERROR, "network_nat_gateways", "eip_quota"),
    ("eip-per-az-three-new", {"network_nat_gateways": "per_az"}, (), eip(3), ERROR, "network_nat_gateways", "eip_quota"),
    ("eip-per-az-one-owned", {"network_nat_gateways": "per_az"}, (), eip(4, {"dev": 1, "other": 2}), ERROR, "network_nat_gateways", "eip_quota"),
    (
        "eip-raised-quota-still-full",
        {"network_nat_gateways": "per_az", "network_az_count": 2},
        (),
        eip(19, limit=20),
        ERROR,
        "network_nat_gateways",
        "eip_quota",
    ),
    ("eip-fits-alone-not-with-the-run", {}, PEERS, eip(3), WARNING, "network_nat_gateways", "eip_quota"),
    ("eip-unreadable", {}, (), {"eip": UNREAD}, WARNING, "network_nat_gateways", "eip_quota"),
    ("vpc-quota-full", {}, (), vpcs(5), ERROR, "aws_region", "vpc_quota"),
    ("vpc-other-cidr-is-a-new-vpc", {}, (), vpcs(5, [dict(OWN_VPC, cidr="10.9.0.0/16")]), ERROR, "aws_region", "vpc_quota"),
    ("vpc-fits-alone-not-with-the-run", {}, PEERS, vpcs(3), WARNING, "aws_region", "vpc_quota"),
    ("vpc-unreadable", {}, (), {"vpc": UNREAD}, WARNING, "aws_region", "vpc_quota"),
    (
        "aurora-retired-minor",
        {"aurora_engine_version": "15.3"},
        (),
        aurora(version_available=False, versions=["15.12", "15.8", "15.10"]),
        ERROR,
        "aurora_engine_version",
        "engine_orderable",
    ),
    (
        "aurora-major-gone",
        {"aurora_engine_version": "13"},
        (),
        aurora(version_available=False, versions=[]),
        ERROR,
        "aurora_engine_version",
        "engine_orderable",
    ),
    (
        "aurora-class-not-offered",
        {"aurora_engine_version": "17.4", "aurora_instance_class": "db.t3.medium"},
        (),
        aurora(version_available=True, class_orderable=False, classes=["db.r6g.large", "db.t4g.medium", "db.r8g.large"], resolved_version="17.4"),
        ERROR,
        "aurora_instance_class",
        "instance_orderable",
    ),
    ("aurora-unreadable", {}, (), {"aurora": UNREAD}, WARNING, "aurora_engine_version", "engine_orderable"),
]


@pytest.mark.parametrize("case_id, overrides, peers, facts, severity, variable, rule", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_limit_finding_names_the_variable(case_id, overrides, peers, facts, severity, variable, rule):
    result = checked(overrides, facts, peers)
    matching = [f for f in limit_findings(result) if f["variable"] == variable and f["rule"] == rule]
    assert [f["severity"] for f in matching] == [severity], [preflight.finding_line(f) for f in result["findings"]]
    line = preflight.finding_line(matching[0])
    assert line.startswith(variable + "=") and " -> " in line and matching[0]["fix"]
    # only the variables the case touches are blamed
    assert {e["variable"] for e in result["errors"]} <= set(overrides) | {variable}, [preflight.finding_line(e) for e in result["errors"]]


# (case id, overrides, peers, facts): nothing to say
LIMIT_QUIET = [
    ("eip-fits", {}, (), eip(4)),
    ("eip-owned-cover-per-az", {"network_nat_gateways": "per_az"}, (), eip(5, {"dev": 3})),
    ("eip-peer-in-another-region", {}, [dict(PEERS[0], aws_region="eu-west-1")], eip(4)),
    ("eip-peer-on-the-emulator", {}, [dict(PEERS[0], bluegreen_emulator=True)], eip(4)),
    ("eip-peer-owns-its-address", {}, [PEERS[0]], eip(4, {"pr-1": 1})),
    ("vpc-fits", {}, (), vpcs(4)),
    ("vpc-exists", {}, PEERS, vpcs(5, [OWN_VPC])),
    ("aurora-orderable", {}, (), aurora(version_available=True, class_orderable=True)),
    ("aurora-cluster-exists", {"aurora_engine_version": "15.3"}, (), {"aurora": {"cluster_exists": True}}),
    ("not-read", {"network_nat_gateways": "per_az"}, (), None),
]


@pytest.mark.parametrize("case_id, overrides, peers, facts", LIMIT_QUIET, ids=[c[0] for c in LIMIT_QUIET])
def test_limit_within_quota_is_quiet(case_id, overrides, peers, facts):
    result = checked(overrides, facts, peers)
    assert limit_findings(result) == [] and result["errors"] == [], [preflight.finding_line(f) for f in result["findings"]]


def test_eip_messages_say_how_many_and_what_to_change():
    (per_az,) = checked({"network_nat_gateways": "per_az"}, eip(4, {"dev": 1}))["errors"]
    assert "per_az means 3 NAT gateway(s) with one Elastic IP each, 2 of them new (this environment owns 1)" in per_az["message"]
    assert "us-east-1 has 4 of its 5 allocated (EC2 account attribute vpc-max-elastic-ips)" in per_az["message"]
    assert per_az["fix"].startswith("set network_nat_gateways: single") and "L-0263D0A3" in per_az["fix"]
    (single,) = checked({}, eip(5))["errors"]
    assert "network_nat_gateways: single" not in single["fix"] and "request an increase" in single["fix"]
    # several environments of one run: the quota is per region and shared
    (shared,) = checked({}, eip(5), PEERS)["errors"]
    assert "the quota is per region and shared: 2 other environment(s) of this run deploy to us-east-1 at the same time (pr-1, pr-2)" in shared["message"]
    (warning,) = limit_findings(checked({}, eip(3), PEERS))
    assert "with the others of this run they need 3 and only 2 are free" in warning["message"] and "per region and shared" in warning["message"]
    assert "serial or --limit" in warning["fix"]


def test_vpc_message_names_the_vpc_and_the_quota():
    (error,) = checked({}, vpcs(5))["errors"]
    assert "environment dev needs a new VPC (none named vpc-dev with 10.0.0.0/16 exists) but us-east-1 has 5 of its 5 VPCs" in error["message"]
    assert "L-F678F1CE" in error["fix"] and "aws_region" in error["fix"]


def test_aurora_messages_list_the_versions_of_the_major():
    (error,) = checked({"aurora_engine_version": "15.3"}, aurora(version_available=False, versions=["15.12", "15.8", "15.10"]))["errors"]
    assert "Aurora PostgreSQL 15.3 is not available for new clusters in us-east-1" in error["message"]
    assert "the cluster aurora-dev does not exist yet" in error["message"]
    assert "Available versions of 15: 15.8, 15.10, 15.12" in error["message"]
    assert error["fix"] == 'set aurora_engine_version to one of "15.8", "15.10", "15.12", or leave aurora_engine_version unset for the default 15.10'
    # the default itself retired: leaving it is no way out
    (default,) = checked({"aurora_engine_version": "15.10"}, aurora(version_available=False, versions=["15.12"]))["errors"]
    assert default["fix"] == 'set aurora_engine_version to one of "15.12"'
    (cls,) = checked(
        {"aurora_engine_version": "17.4"}, aurora(version_available=True, class_orderable=False, classes=["db.r6g.large", "db.t4g.medium", "db.zz9.large"])
    )["errors"]
    assert cls["variable"] == "aurora_instance_class" and "db.t3.medium is not offered with Aurora PostgreSQL 17.4" in cls["message"]
    # the classes with a known price first (the cost estimate covers them)
    assert cls["fix"] == "set aurora_instance_class to one of db.r6g.large, db.t4g.medium, or choose another aurora_engine_version"


@pytest.mark.parametrize(
    "variables, environ, expected",
    [
        ({}, {}, True),
        ({}, {"AWS_ENDPOINT_URL": "https://vpce-0a1b.ec2.us-east-1.vpce.amazonaws.com"}, True),
        ({}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:5005"}, False),
        ({"bluegreen_emulator": True}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:5005"}, False),
        ({"bluegreen_emulator": "true"}, {}, False),
        ({"bluegreen_emulator": False}, {}, True),
    ],
)
def test_against_aws(variables, environ, expected):
    assert preflight.against_aws(variables, environ) is expected


def test_plan_reads_only_what_valid_inputs_allow():
    plan = preflight.aws_limits_plan(dict(DEV, network_nat_gateways="per_az"), peers=PEERS + [dict(PEERS[0], inventory_hostname="x", aws_region="eu-west-1")])
    this = plan["environments"][0]
    assert (this["suffix"], this["nat_gateways"], this["vpc_name"], this["vpc_cidr"]) == ("dev", 3, "vpc-dev", "10.0.0.0/16")
    assert [e["host"] for e in plan["environments"][1:]] == ["pr-1", "pr-2"]
    assert plan["aurora"] == {"cluster": "aurora-dev", "engine_version": "15.2", "major": "15", "instance_class": "db.t3.medium"}
    assert preflight.aws_limits_plan(dict(DEV, environment_suffix="Bad_Suffix")) is None
    assert preflight.aws_limits_plan(dict(DEV, aws_region="moon")) is None
    broken = preflight.aws_limits_plan(dict(DEV, network_nat_gateways="two", network_vpc_cidr="10.0.0.0/33", aurora_engine_version=15.1))
    assert broken["environments"][0]["nat_gateways"] is None and broken["environments"][0]["vpc_cidr"] is None and broken["aurora"] is None


# --- Rule 8 read from the emulator ----------------------------------------------------------------


def read(overrides=None, peers=()):
    """(facts, result): what the action plugin reads for these variables, and the findings."""
    values = dict(DEV, **(overrides or {}))
    facts = action.read_aws_limits(preflight.aws_limits_plan(values, peers))
    return facts, preflight.run_checks(values, aws_limits=facts, peers=peers, environ={})


def test_eip_quota_on_the_emulator(aws):
    ec2 = client("ec2")
    for _dummy in range(4):
        ec2.allocate_address(Domain="vpc")
    aws.reset_recording()

    facts, single = read()
    assert facts["eip"] == {"in_use": 4, "owned": {}, "limit": 5, "limit_source": "EC2 account attribute vpc-max-elastic-ips"}
    assert limit_findings(single) == []
    # moto has no Service Quotas for ec2 (NoSuchResourceException): the EC2 account attribute answers
    asked = [
        (c["action"], c["params"].get("ServiceCode") or c["params"].get("AttributeName.1")) for c in aws.requests() if c["service"] in ("ec2", "servicequotas")
    ]
    assert asked[:3] == [("DescribeAddresses", None), ("GetServiceQuota", "ec2"), ("DescribeAccountAttributes", "vpc-max-elastic-ips")]

    _facts, per_az = read({"network_nat_gateways": "per_az"})
    (error,) = per_az["errors"]
    assert (error["variable"], error["rule"]) == ("network_nat_gateways", "eip_quota")
    assert "3 of them new (this environment owns 0), but us-east-1 has 4 of its 5 allocated" in error["message"]

    # An address the environment already owns (tagged by the network role) is not a new one.
    ec2.allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "bluegreen:environment", "Value": "dev"}]}])
    aws.reset_recording()
    facts, owned = read()
    assert facts["eip"]["owned"] == {"dev": 1} and facts["eip"]["in_use"] == 5 and limit_findings(owned) == []
    # nothing new needed: the quota is not even read
    quota_reads = [c for c in aws.requests() if c["action"] == "DescribeAccountAttributes" or c["params"].get("ServiceCode") == "ec2"]
    assert quota_reads == []
    _facts, per_az = read({"network_nat_gateways": "per_az"})
    assert "2 of them new (this environment owns 1), but us-east-1 has 5 of its 5 allocated" in per_az["errors"][0]["message"]


def test_vpc_quota_on_the_emulator(aws):
    ec2 = client("ec2")
    # the default VPC counts against the quota, on AWS as on moto
    assert [v["IsDefault"] for v in ec2.describe_vpcs()["Vpcs"]] == [True]
    for i in range(3):
        ec2.create_vpc(CidrBlock="10.%d.0.0/16" % (100 + i))
    facts, fits = read()
    assert (facts["vpc"]["count"], facts["vpc"]["limit"], facts["vpc"]["limit_source"]) == (4, 5, "Service Quotas L-F678F1CE")
    assert limit_findings(fits) == []

    ec2.create_vpc(CidrBlock="10.200.0.0/16")
    _facts, full = read()
    (error,) = full["errors"]
    assert (error["variable"], error["rule"]) == ("aws_region", "vpc_quota") and "has 5 of its 5 VPCs (Service Quotas L-F678F1CE)" in error["message"]

    # The environment's own VPC (Name tag and CIDR, as the network role finds it) is no new VPC.
    ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": NAMES["vpc"]}]}])
    aws.reset_recording()
    facts, exists = read()
    assert facts["vpc"]["count"] == 6 and facts["vpc"]["limit"] is None and limit_findings(exists) == []
    assert [c for c in aws.requests() if c["params"].get("ServiceCode") == "vpc"] == []


def test_aurora_version_on_the_emulator(aws):
    aws.reset_recording()
    facts, known = read({"aurora_engine_version": "15.2"})
    assert facts["aurora"]["version_available"] is True and facts["aurora"]["class_orderable"] is True
    assert limit_findings(known) == []
    # moto does not implement DescribeDBEngineVersions (it answers HTTP 500 with an HTML page):
    # the request went out as AWS expects it, and the orderable options answered instead.
    rds = [c for c in aws.requests() if c["service"] == "rds"]
    assert [c["action"] for c in rds][:3] == ["DescribeDBClusters", "DescribeDBEngineVersions", "DescribeOrderableDBInstanceOptions"]
    assert rds[0]["params"]["DBClusterIdentifier"] == "aurora-dev"
    assert {k: rds[1]["params"].get(k) for k in ("Engine", "EngineVersion")} == {"Engine": "aurora-postgresql", "EngineVersion": "15.2"}
    assert {k: rds[2]["params"].get(k) for k in ("Engine", "DBInstanceClass", "Vpc")} == {
        "Engine": "aurora-postgresql",
        "DBInstanceClass": "db.t3.medium",
        "Vpc": "true",
    }
    assert facts["aurora"]["source"].startswith("DescribeOrderableDBInstanceOptions; DescribeDBEngineVersions: no valid answer")

    _facts, unknown = read({"aurora_engine_version": "15.10"})
    (error,) = unknown["errors"]
    assert (error["variable"], error["rule"]) == ("aurora_engine_version", "engine_orderable")
    assert "Available versions of 15 with db.t3.medium: 15.2" in error["message"]
    assert error["fix"] == 'set aurora_engine_version to one of "15.2"'

    _facts, other_class = read({"aurora_engine_version": "15.2", "aurora_instance_class": "db.r7g.large"})
    (error,) = [e for e in other_class["errors"] if e["rule"] == "instance_orderable"]
    assert error["variable"] == "aurora_instance_class" and "db.t3.medium" in error["fix"]

    # An existing cluster keeps its version: the version is not checked, nothing more is read.
    client("rds").create_db_cluster(
        DBClusterIdentifier="aurora-dev", Engine="aurora-postgresql", EngineVersion="15.2", MasterUsername="dbadmin", MasterUserPassword="x" * 16
    )
    aws.reset_recording()
    facts, existing = read({"aurora_engine_version": "15.10"})
    assert facts["aurora"] == {"cluster_exists": True} and limit_findings(existing) == []
    assert [c["action"] for c in aws.requests() if c["service"] == "rds"] == ["DescribeDBClusters"]


def test_every_read_is_read_only(aws):
    aws.reset_recording()
    read({"network_nat_gateways": "per_az", "aurora_engine_version": "15.10"})
    actions = {c["action"] for c in aws.requests()}
    assert actions <= READS and {"DescribeAddresses", "DescribeVpcs", "DescribeDBClusters"} <= actions
    assert aws.mutating_requests() == []


def test_no_credentials_is_one_warning_per_limit_and_no_call(aws, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws.reset_recording()
    facts, result = read()
    assert set(facts) == {"eip", "vpc", "aurora"} and all("credentials" in fact["error"] for fact in facts.values())
    assert result["errors"] == []
    assert {(w["variable"], w["rule"]) for w in limit_findings(result)} == {
        ("network_nat_gateways", "eip_quota"),
        ("aws_region", "vpc_quota"),
        ("aurora_engine_version", "engine_orderable"),
    }
    assert all(w["fix"].startswith("configure AWS credentials") for w in limit_findings(result))
    assert aws.requests() == []


def test_reads_survive_throttling(realistic_aws):
    """Through the realistic proxy, every other call refused with the service's throttling error."""
    realistic_aws.realism("config", {"throttling": {"enabled": True, "every": 2}})
    try:
        facts, result = read({"network_nat_gateways": "per_az"})
    finally:
        realistic_aws.realism("config", {"throttling": {"enabled": True, "every": 17}})
    assert not [group for group, fact in facts.items() if "error" in fact], facts
    assert [f["variable"] for f in limit_findings(result)] == []
    throttled = {e["action"] for e in realistic_aws.realism("events") if e["behaviour"] == "throttling"}
    assert throttled & {"DescribeAddresses", "DescribeVpcs", "DescribeDBClusters", "GetServiceQuota"}, throttled


# --- The DescribeDBEngineVersions path, on AWS's own answers (moto does not implement it) -------


def stubbed(stub_calls):
    # Stubbed answers never reach the (closed) endpoint and need no credentials.
    rds = boto3.client("rds", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    stubber = Stubber(rds)
    stubber.add_client_error("describe_db_clusters", "DBClusterNotFoundFault", http_status_code=404, expected_params={"DBClusterIdentifier": "aurora-dev"})
    for method, expected, answer in stub_calls:
        stubber.add_response(method, answer, expected)
    stubber.activate()
    return stubber, lambda service: rds


ENGINE = "aurora-postgresql"


def version(v, status="available"):
    return {"Engine": ENGINE, "EngineVersion": v, "DBParameterGroupFamily": ENGINE + v.split(".")[0], "Status": status}


def orderable(v, cls):
    return {"Engine": ENGINE, "EngineVersion": v, "DBInstanceClass": cls}


@pytest.mark.parametrize(
    "engine_version, calls, expected",
    [
        (
            "16.4",
            [
                ("describe_db_engine_versions", {"Engine": ENGINE, "EngineVersion": "16.4"}, {"DBEngineVersions": [version("16.4")]}),
                (
                    "describe_orderable_db_instance_options",
                    {"Engine": ENGINE, "EngineVersion": "16.4", "DBInstanceClass": "db.t3.medium", "Vpc": True},
                    {"OrderableDBInstanceOptions": [orderable("16.4", "db.t3.medium")]},
                ),
            ],
            {"version_available": True, "class_orderable": True, "resolved_version": "16.4"},
        ),
        (
            "16.1",
            [
                ("describe_db_engine_versions", {"Engine": ENGINE, "EngineVersion": "16.1"}, {"DBEngineVersions": []}),
                (
                    "describe_db_engine_versions",
                    {"Engine": ENGINE, "DBParameterGroupFamily": "aurora-postgresql16", "MaxRecords": 100},
                    {"DBEngineVersions": [version("16.4"), version("16.3", "deprecated"), version("16.6")]},
                ),
            ],
            {"version_available": False, "versions": ["16.4", "16.6"]},
        ),
        (
            "16",
            [
                (
                    "describe_db_engine_versions",
                    {"Engine": ENGINE, "DBParameterGroupFamily": "aurora-postgresql16", "DefaultOnly": True},
                    {"DBEngineVersions": [version("16.6")]},
                ),
                (
                    "describe_orderable_db_instance_options",
                    {"Engine": ENGINE, "EngineVersion": "16.6", "DBInstanceClass": "db.t3.medium", "Vpc": True},
                    {"OrderableDBInstanceOptions": []},
                ),
                (
                    "describe_orderable_db_instance_options",
                    {"Engine": ENGINE, "EngineVersion": "16.6", "Vpc": True, "MaxRecords": 1000},
                    {"OrderableDBInstanceOptions": [orderable("16.6", "db.t4g.medium"), orderable("16.6", "db.r6g.large")]},
                ),
            ],
            {"version_available": True, "class_orderable": False, "resolved_version": "16.6", "classes": ["db.r6g.large", "db.t4g.medium"]},
        ),
    ],
    ids=["available", "retired-minor", "major-only-class-not-offered"],
)
def test_engine_versions_path(engine_version, calls, expected):
    stubber, clients = stubbed(calls)
    plan = preflight.aws_limits_plan(dict(DEV, aurora_engine_version=engine_version))
    fact = action._read_aurora(clients, plan["aurora"])
    stubber.assert_no_pending_responses()
    assert fact == dict({"cluster_exists": False, "source": "DescribeDBEngineVersions"}, **expected)


# --- Through ansible-playbook: several environments in one run ----------------------------------

PLAYBOOK = """
- name: Preflight with the AWS limits read
  hosts: bluegreen_envs
  gather_facts: false
  connection: local
  tasks:
    - name: Check, reading the limits from wherever AWS_ENDPOINT_URL points
      bluegreen.migration.preflight:
        check_aws_limits: true
"""


def test_playbook_run_shares_the_quota(aws, tmp_path):
    ec2 = client("ec2")
    for _dummy in range(3):
        ec2.allocate_address(Domain="vpc")
    inventory = tmp_path / "inventory.yml"
    hosts = {
        "ok": {},
        "wide": {"network_nat_gateways": "per_az"},
        "old": {"aurora_engine_version": "15.10"},
        "elsewhere": {"aws_region": "eu-west-1"},
    }
    group = {"ansible_connection": "local", "environment_suffix": "{{ inventory_hostname }}", "migrator_lambda_source_dir": MIGRATOR}
    group["aurora_engine_version"] = "15.2"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"bluegreen_envs": {"vars": group, "hosts": hosts}}}}))
    playbook = tmp_path / "limits.yml"
    playbook.write_text(PLAYBOOK)
    aws.reset_recording()

    started = time.monotonic()
    proc = run_playbook(playbook, inventory=inventory)
    elapsed = time.monotonic() - started
    print("4 environments with the limits read: %.1f s" % elapsed)

    result = recap(proc.stdout)
    assert {host: result[host]["failed"] for host in hosts} == {"ok": 0, "wide": 1, "old": 1, "elsewhere": 0}, proc.stdout + proc.stderr
    chunks = failure_chunks(proc.stdout)
    assert "- network_nat_gateways=per_az: per_az means 3 NAT gateway(s)" in chunks["wide"]
    # 2 free in us-east-1; eu-west-1 has its own quota
    assert "the quota is per region and shared: 2 other environment(s) of this run deploy to us-east-1 at the same time (ok, old)" in chunks["wide"]
    assert "- aurora_engine_version=15.10: Aurora PostgreSQL 15.10 is not available for new clusters in us-east-1" in chunks["old"]
    flat = " ".join(proc.stdout.split())
    assert "network_nat_gateways=single: this environment's 1 new Elastic IP(s) fit (3 of 5 allocated in us-east-1)" in flat
    assert {c["action"] for c in aws.requests()} <= READS and aws.mutating_requests() == []
    assert {c["params"].get("DBClusterIdentifier") for c in aws.requests() if c["action"] == "DescribeDBClusters"} == {
        "aurora-ok",
        "aurora-wide",
        "aurora-old",
        "aurora-elsewhere",
    }

    # Unasked, against the emulator's loopback endpoint: nothing is read, nothing fails.
    aws.reset_recording()
    default = run_playbook("playbooks/preflight.yml", inventory=inventory)
    assert {host: recap(default.stdout)[host]["failed"] for host in hosts} == dict.fromkeys(hosts, 0), default.stdout
    assert aws.requests() == []
