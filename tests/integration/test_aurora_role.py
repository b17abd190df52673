"""The aurora role on the emulator: converge (network found by tag), idempotent second
run, the database's shape, the credentials secret, the password kept out of -vvv output,
instances requested before any wait on the cluster, and a teardown that leaves nothing."""

import json
import re

import pytest

from tests.harness.aws import client, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=50)

PLAYBOOK = "tests/integration/playbooks/aurora.yml"
SUFFIX = "it-aurora"
READERS = 2


def network(ec2):
    """What the network role leaves behind: isolated, private subnets and the db group, tagged."""
    def tags(name, tier=None):
        found = [{"Key": "bluegreen:environment", "Value": SUFFIX}, {"Key": "bluegreen:component", "Value": "network"}, {"Key": "Name", "Value": name}]
        if tier:
            found.append({"Key": "bluegreen:tier", "Value": tier})
        return [{"ResourceType": "subnet" if tier else "security-group", "Tags": found}]

    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = {"isolated": [], "private": []}
    for index, zone in enumerate("abc"):
        for tier, base in (("isolated", 20), ("private", 10)):
            subnet = ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.42.{base + index}.0/24", AvailabilityZone=f"us-east-1{zone}",
                TagSpecifications=tags(f"{tier}-{zone}-{SUFFIX}", tier),
            )["Subnet"]["SubnetId"]
            subnets[tier].append(subnet)
    # a db group of another environment in the same account must not be picked
    ec2.create_security_group(GroupName="db-other", Description="other", VpcId=vpc)
    db = ec2.create_security_group(GroupName=f"db-{SUFFIX}", Description="db", VpcId=vpc, TagSpecifications=tags(f"db-{SUFFIX}"))["GroupId"]
    return subnets, db


def play(state="present", verbose=False, args=(), **more):
    extra = {"environment_suffix": SUFFIX, "aurora_state": state, "aurora_reader_count": READERS, "aurora_wait_delay": 1, **more}
    proc = run_playbook(PLAYBOOK, inventory="localhost,", extra_vars=extra, args=["-vvv", "--diff"] if verbose else list(args))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc, recap(proc.stdout)["localhost"]


def play_refused(aws, state="present", **more):
    """A run that stops before any write: its failure message."""
    aws.reset_recording()
    extra = {"environment_suffix": SUFFIX, "aurora_state": state, "aurora_reader_count": READERS, "aurora_wait_delay": 1, **more}
    proc = run_playbook(PLAYBOOK, inventory="localhost,", extra_vars=extra)
    assert proc.returncode != 0 and recap(proc.stdout)["localhost"]["failed"] == 1, proc.stdout[-6000:]
    assert aws.mutating_requests() == [], aws.mutating_requests()
    return " ".join(proc.stdout.split())


def test_aurora_role_converges_keeps_the_password_secret_and_tears_down(aws):
    ec2, rds, sm, cw = client("ec2"), client("rds"), client("secretsmanager"), client("cloudwatch")
    subnets, db_group = network(ec2)

    first, counts = play(verbose=True)
    assert counts["changed"] > 0 and counts["failed"] == 0
    calls = aws.requests()
    aws.reset_recording()
    second, counts = play(verbose=True)
    assert counts["changed"] == 0, second.stdout[-6000:]
    # A re-run reads each kind once and writes nothing: no instance module run (no per-instance
    # describe), one secret read, one alarm read.
    noop = [f"{c['service']}:{c['action']}" for c in aws.requests()]
    assert aws.mutating_requests() == [], noop
    assert not [c for c in aws.requests() if c["action"] == "DescribeDBInstances" and "DBInstanceIdentifier" in c["params"]], noop
    assert noop.count("secretsmanager:DescribeSecret") == 1 and noop.count("monitoring:DescribeAlarms") == 1, noop
    # The secret's value is never read on a no-op (its keys are known from its bluegreen:fields tag).
    assert "secretsmanager:GetSecretValue" not in noop, noop
    # The cluster is read once, by the plan: everything was available then and nothing was
    # written, so the final wait does not run, nor do rds_cluster, rds_subnet_group or metric_alarms.
    assert noop.count("rds:DescribeDBClusters") == 1 and noop.count("rds:DescribeDBSubnetGroups") == 1, noop

    # The database
    cluster = rds.describe_db_clusters(DBClusterIdentifier=f"aurora-{SUFFIX}")["DBClusters"][0]
    assert cluster["Engine"] == "aurora-postgresql" and cluster["EngineVersion"].startswith("15.")
    assert cluster["StorageEncrypted"] is True and cluster["DeletionProtection"] is False
    assert cluster["Port"] == 5432 and cluster["DatabaseName"] == "appdb" and cluster["MasterUsername"] == "dbadmin"
    assert [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]] == [db_group]
    members = cluster["DBClusterMembers"]
    assert sum(m["IsClusterWriter"] for m in members) == 1 and len(members) == 1 + READERS
    group = rds.describe_db_subnet_groups(DBSubnetGroupName=cluster["DBSubnetGroup"])["DBSubnetGroups"][0]
    assert sorted(s["SubnetIdentifier"] for s in group["Subnets"]) == sorted(subnets["isolated"]), "isolated subnets only"
    for member in members:
        instance = rds.describe_db_instances(DBInstanceIdentifier=member["DBInstanceIdentifier"])["DBInstances"][0]
        assert instance["PubliclyAccessible"] is False and instance["DBInstanceClass"] == "db.t3.medium"
    alarms = cw.describe_alarms(AlarmNames=[f"aurora-cpu-{SUFFIX}", f"aurora-memory-{SUFFIX}"])["MetricAlarms"]
    assert {a["MetricName"] for a in alarms} == {"CPUUtilization", "FreeableMemory"}
    assert all(a["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": f"aurora-{SUFFIX}"}] for a in alarms)
    for found in alarms:
        tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=found["AlarmArn"])["Tags"]}
        assert tags["bluegreen:environment"] == SUFFIX and tags["bluegreen:component"] == "aurora" and tags["Name"] == found["AlarmName"]

    # The credentials: generated by Secrets Manager, set on the cluster from the secret
    secret = json.loads(sm.get_secret_value(SecretId=f"aurora-credentials-{SUFFIX}")["SecretString"])
    assert set(secret) == {"username", "password", "engine", "host", "port", "dbname", "dbClusterIdentifier"}
    password = secret["password"]
    assert len(password) >= 32 and password.isalnum()
    assert secret["host"] == cluster["Endpoint"] and secret["port"] == 5432 and secret["dbClusterIdentifier"] == f"aurora-{SUFFIX}"
    create_cluster = [c for c in calls if c["action"] == "CreateDBCluster"]
    assert len(create_cluster) == 1 and create_cluster[0]["params"]["MasterUserPassword"] == password
    assert [c for c in calls if c["action"] == "GetRandomPassword"], "the password comes from Secrets Manager"
    for proc in (first, second):
        assert password not in proc.stdout and password not in proc.stderr, "the password leaked into the -vvv output"

    # Speed: every instance requested before the first wait on the cluster
    rds_calls = [c for c in calls if c["service"] == "rds"]
    order = [c["action"] for c in rds_calls]
    creates = [i for i, c in enumerate(rds_calls) if c["action"] == "CreateDBInstance"]
    assert len(creates) == 1 + READERS
    waits = [i for i, c in enumerate(rds_calls) if c["action"] == "DescribeDBInstances" and "Filters.Filter.1.Name" in c["params"]]
    assert waits and max(creates) < min(waits), order
    cluster_created = order.index("CreateDBCluster")
    between = order[cluster_created + 1 : max(creates)]
    # rds_cluster reads the new cluster back twice; a waiter (wait: true) would add its polls.
    assert between.count("DescribeDBClusters") <= 2, f"something waited on the cluster before all instances were requested: {order}"
    assert set(between) <= {"DescribeDBClusters", "DescribeDBInstances", "CreateDBInstance", "ListTagsForResource"}, order
    facts = first.stdout[first.stdout.index("bluegreen_aurora:"):]
    assert cluster["Endpoint"] in facts and cluster["ReaderEndpoint"] in facts

    # Drift on one reader and on the cluster is put back, by an rds_instance run for that
    # reader only. Without the wait, the endpoints come from the cluster task (no read after it).
    reader = f"aurora-3-{SUFFIX}"
    arn = rds.describe_db_instances(DBInstanceIdentifier=reader)["DBInstances"][0]["DBInstanceArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "bluegreen:db-role", "Value": "writer"}])
    rds.modify_db_cluster(DBClusterIdentifier=f"aurora-{SUFFIX}", BackupRetentionPeriod=3, ApplyImmediately=True)
    # ... and on the CPU alarm's threshold and the subnet group's tags.
    cpu = cw.describe_alarms(AlarmNames=[f"aurora-cpu-{SUFFIX}"])["MetricAlarms"][0]
    cw.put_metric_alarm(**{key: cpu[key] for key in (
        "AlarmName", "AlarmDescription", "Namespace", "MetricName", "Statistic", "ComparisonOperator", "Unit", "Period",
        "EvaluationPeriods", "Dimensions", "TreatMissingData", "AlarmActions")}, Threshold=95.0)
    subnet_group_arn = rds.describe_db_subnet_groups(DBSubnetGroupName=cluster["DBSubnetGroup"])["DBSubnetGroups"][0]["DBSubnetGroupArn"]
    rds.add_tags_to_resource(ResourceName=subnet_group_arn, Tags=[{"Key": "owner", "Value": "by-hand"}])
    # --check --diff shows exactly these changes, before and after, and writes nothing.
    aws.reset_recording()
    planned, counts = play(aurora_wait=False, args=["--check", "--diff"])
    assert aws.mutating_requests() == [], aws.mutating_requests()
    plan_diff = planned.stdout[planned.stdout.index("Read the secret, the subnet group, the cluster, its instances and alarms, and plan what differs"):]
    plan_diff = plan_diff[: plan_diff.index("TASK [")]
    removed = sorted(" ".join(line.split()) for line in plan_diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    added = sorted(" ".join(line.split()) for line in plan_diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    assert removed == ["- backup_retention_period: 3", "- bluegreen:db-role: writer", "- owner: by-hand", "- threshold: 95.0"], plan_diff
    assert added == ["+ backup_retention_period: 7", "+ bluegreen:db-role: reader", "+ threshold: 80.0"], plan_diff
    assert f"aurora instance aurora-1-{SUFFIX}" not in plan_diff and f"aurora instance aurora-2-{SUFFIX}" not in plan_diff, plan_diff
    aws.reset_recording()
    drifted, counts = play(aurora_wait=False)
    assert counts["changed"] == 4, drifted.stdout[-6000:]
    drift_order = [f"{c['service']}:{c['action']}" for c in aws.requests()]
    touched = {c["params"].get("DBInstanceIdentifier") for c in aws.requests() if c["service"] == "rds" and "DBInstanceIdentifier" in c["params"]}
    assert touched == {reader}, touched
    tags = {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]}
    assert tags["bluegreen:db-role"] == "reader"
    assert rds.describe_db_clusters(DBClusterIdentifier=f"aurora-{SUFFIX}")["DBClusters"][0]["BackupRetentionPeriod"] == 7
    assert cw.describe_alarms(AlarmNames=[f"aurora-cpu-{SUFFIX}"])["MetricAlarms"][0]["Threshold"] == 80.0
    assert "owner" not in {t["Key"] for t in rds.list_tags_for_resource(ResourceName=subnet_group_arn)["TagList"]}
    last_alarm_call = len(drift_order) - 1 - drift_order[::-1].index("monitoring:DescribeAlarms")
    assert "rds:DescribeDBClusters" not in drift_order[last_alarm_call:], drift_order
    facts = drifted.stdout[drifted.stdout.index("bluegreen_aurora:"):]
    assert cluster["Endpoint"] in facts and cluster["ReaderEndpoint"] in facts

    # aurora_reader_count lowered: the role's last reader is deleted (it would run on, billed),
    # nothing else is touched, and the next run has nothing to do.
    aws.reset_recording()
    lowered, counts = play(aurora_wait=False, aurora_reader_count=READERS - 1)
    assert counts["changed"] == 1, lowered.stdout[-6000:]
    assert [c["params"]["DBInstanceIdentifier"] for c in aws.mutating_requests()] == [reader], aws.mutating_requests()
    members = rds.describe_db_clusters(DBClusterIdentifier=f"aurora-{SUFFIX}")["DBClusters"][0]["DBClusterMembers"]
    assert sorted(m["DBInstanceIdentifier"] for m in members) == [f"aurora-{n}-{SUFFIX}" for n in range(1, READERS + 1)]
    assert play(aurora_reader_count=READERS - 1)[1]["changed"] == 0

    # Another major version, master user or database name stops the run before any write,
    # naming the cluster's value and the wanted one.
    refused = play_refused(aws, aurora_engine_version="16.4", aurora_master_username="someone_else")
    assert "engine_version: the cluster has 15.10, aurora_engine_version is 16.4" in refused, refused
    assert "master_username: the cluster has dbadmin, aurora_master_username is someone_else" in refused, refused

    # A cluster with deletion protection on is refused before any instance is deleted.
    rds.modify_db_cluster(DBClusterIdentifier=f"aurora-{SUFFIX}", DeletionProtection=True, ApplyImmediately=True)
    refused = play_refused(aws, "absent")
    assert "has deletion protection on" in refused and "aurora_deletion_protection: false" in refused, refused
    rds.modify_db_cluster(DBClusterIdentifier=f"aurora-{SUFFIX}", DeletionProtection=False, ApplyImmediately=True)

    # Teardown with a final snapshot: taken before any instance goes, named after the time of
    # the teardown (a rebuilt environment's next teardown needs another name), and the cluster
    # deleted without one (amazon.aws 11.4 rds_cluster sends final_snapshot_identifier under a
    # name DeleteDBCluster does not take).
    aws.reset_recording()
    dummy, counts = play("absent", aurora_skip_final_snapshot=False)
    assert counts["changed"] > 0
    order = [c["action"] for c in aws.requests() if c["service"] == "rds"]
    assert order.index("CreateDBClusterSnapshot") < order.index("DeleteDBInstance"), order
    snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert len(snapshots) == 1 and re.fullmatch(rf"aurora-final-{SUFFIX}-[0-9]{{8}}-[0-9]{{6}}", snapshots[0]["DBClusterSnapshotIdentifier"]), snapshots
    assert snapshots[0]["DBClusterIdentifier"] == f"aurora-{SUFFIX}"
    deleted = [c["params"] for c in aws.requests() if c["action"] == "DeleteDBCluster"]
    assert deleted and all(p.get("SkipFinalSnapshot") in ("true", True) for p in deleted), deleted
    assert rds.describe_db_clusters()["DBClusters"] == []
    rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=snapshots[0]["DBClusterSnapshotIdentifier"])

    # Nothing is left, and a second teardown has nothing to do
    assert rds.describe_db_clusters()["DBClusters"] == []
    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.describe_db_subnet_groups()["DBSubnetGroups"] == []
    assert sm.list_secrets(IncludePlannedDeletion=True)["SecretList"] == []
    assert cw.describe_alarms()["MetricAlarms"] == []
    dummy, counts = play("absent")
    assert counts["changed"] == 0
