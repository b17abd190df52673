"""The roles' waits on the realistic emulator when AWS takes longer than the timeout (a NAT
gateway, an interface endpoint or an Aurora instance pending for minutes): the run fails naming
what is still pending and the setting that sizes the wait, not with Ansible's bare "retries
exhausted". A read that fails (here: nothing answers at the endpoint) stops the wait at once with
its own message instead of being retried until the timeout, and so does an Aurora instance in a
status that does not end by itself (incompatible-network: no free address in its subnet).

Before, a NAT wait that ran out let the run go on to the routes (its failed_when kept `until`
from failing the task), and an endpoint wait's ended with Ansible's bare failure."""

import time

import pytest
from botocore.exceptions import ClientError

from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_name, resource_names
from tests.harness.aws import client, free_port, run_playbook
from tests.unit.modules.test_ec2_vpc_route import network_with_gateways

pytestmark = pytest.mark.slow(seconds=90)

WAIT_PLAYBOOK = """
- name: One of the roles' waits on the emulator
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/bluegreen.migration.aws:
      region: us-east-1
  tasks:
    - name: Run the wait
      ansible.builtin.include_role:
        name: "bluegreen.migration.{{ wait_role }}"
        tasks_from: "{{ wait_tasks }}"
"""


def run_wait(tmp_path, wait_tasks, extra_vars, env=None, role="network"):
    playbook = tmp_path / "wait.yml"
    playbook.write_text(WAIT_PLAYBOOK)
    # A wait retried to its timeout would outlast this: the test then fails on it.
    result = run_playbook(playbook, inventory="localhost,", extra_vars=dict(extra_vars, wait_tasks=wait_tasks, wait_role=role), env=env, timeout=180)
    return result, " ".join(result.stdout.split())


def pending_events(emulator, action, resource_id):
    return [e for e in emulator.realism("events") if e["behaviour"] == "slow_states" and e["action"] == action and resource_id in e["detail"]]


def interface_endpoint(ec2, prefix):
    """A VPC with one subnet and a Secrets Manager interface endpoint in it: (VPC id, endpoint)."""
    vpc = ec2.create_vpc(CidrBlock=f"{prefix}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{prefix}.1.0/24")["Subnet"]["SubnetId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.secretsmanager", VpcEndpointType="Interface",
                                       SubnetIds=[subnet])["VpcEndpoint"]
    return vpc, endpoint


def nothing_answers():
    return {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}


def test_a_nat_gateway_pending_past_the_timeout_is_named_and_a_failed_read_is_not_retried(realistic_aws, tmp_path):
    realistic_aws.realism("config", {"slow_states": {"nat_seconds": 600}})
    nat = network_with_gateways("10.47")["nat"]

    result, text = run_wait(tmp_path, "nat_wait", {"network_nat_wait_ids": [nat], "network_nat_wait_timeout": 10})
    assert result.returncode != 0, text[-3000:]
    assert pending_events(realistic_aws, "DescribeNatGateways", f"{nat} pending"), text[-3000:]
    assert f"After 10 s (network_nat_wait_timeout) NAT gateway(s) still not available: {nat}." in text, text[-3000:]
    assert "-e network_nat_wait_timeout=<seconds>" in text

    # Ten minutes of wait: a failed read must not be retried through them.
    result, text = run_wait(tmp_path, "nat_wait", {"network_nat_wait_ids": [nat], "network_nat_wait_timeout": 600}, env=nothing_answers())
    assert result.returncode != 0, text[-3000:]
    assert "Unable to describe NAT gateways.: Failed to describe nat gateways" in text, text[-3000:]
    assert "RETRYING" not in text and "still not available" not in text, text[-3000:]


def test_a_vpc_endpoint_pending_past_the_timeout_is_named_and_a_failed_read_is_not_retried(realistic_aws, tmp_path):
    realistic_aws.realism("config", {"slow_states": {"endpoint_seconds": 600}})
    vpc, endpoint = interface_endpoint(client("ec2"), "10.48")
    assert endpoint["State"] == "pending", endpoint
    endpoint_id = endpoint["VpcEndpointId"]

    waited = {"network_endpoint_wait_ids": [endpoint_id], "network_vpc_id": vpc}
    result, text = run_wait(tmp_path, "endpoints_wait", dict(waited, network_vpc_endpoint_wait_timeout=10))
    assert result.returncode != 0, text[-3000:]
    assert pending_events(realistic_aws, "DescribeVpcEndpoints", endpoint_id), text[-3000:]
    assert f"After 10 s (network_vpc_endpoint_wait_timeout) VPC endpoint(s) still not available: {endpoint_id}." in text, text[-3000:]
    assert "-e network_vpc_endpoint_wait_timeout=<seconds>" in text

    result, text = run_wait(tmp_path, "endpoints_wait", dict(waited, network_vpc_endpoint_wait_timeout=600), env=nothing_answers())
    assert result.returncode != 0, text[-3000:]
    assert "Failed to describe vpc endpoints" in text, text[-3000:]
    assert "RETRYING" not in text and "still not available" not in text, text[-3000:]


def aurora_cluster(suffix, readers):
    """An Aurora cluster named as the aurora role names it, its writer, then `readers` readers."""
    rds = client("rds")
    cluster = resource_names(suffix, "us-east-1")["aurora_cluster"]
    rds.create_db_cluster(DBClusterIdentifier=cluster, Engine="aurora-postgresql", MasterUsername="app",
                          MasterUserPassword="emulated-only-1")  # noqa: S106 (the emulator's throwaway cluster)
    ids = [resource_name(f"aurora-{n}", suffix, "rds") for n in range(1, readers + 2)]
    for identifier in ids:
        for attempt in range(20):
            try:
                rds.create_db_instance(DBInstanceIdentifier=identifier, DBClusterIdentifier=cluster, Engine="aurora-postgresql",
                                       DBInstanceClass="db.t4g.medium")
                break
            except ClientError as e:  # a member of a cluster still creating is refused once, as on AWS
                if attempt == 19 or e.response["Error"]["Code"] != "InvalidDBClusterStateFault":
                    raise
                time.sleep(0.5)
    return cluster, ids


def test_the_aurora_roles_wait_names_what_is_pending_stops_on_a_dead_instance_and_on_a_failed_read(realistic_aws, tmp_path):
    role_vars = {"aws_region": "us-east-1", "aurora_reader_count": 1, "aurora_wait_delay": 2}
    realistic_aws.realism("config", {"slow_states": {"rds_seconds": 600}})
    _cluster, ids = aurora_cluster("t47", readers=1)
    result, text = run_wait(tmp_path, "wait", dict(role_vars, environment_suffix="t47", aurora_wait_timeout=4), role="aurora")
    assert result.returncode != 0, text[-3000:]
    assert f"After 4 s (aurora_wait_timeout) Aurora instance(s) still not available: {ids[0]}, {ids[1]}. Re-run later" in text, text[-3000:]

    # The first instance created next fails once its 4 s of creating are over; the wait may last 10 minutes.
    realistic_aws.realism("config", {"slow_states": {"rds_seconds": 4}, "db_instance_failures": {"count": 1}})
    _cluster, ids = aurora_cluster("t50", readers=1)
    result, text = run_wait(tmp_path, "wait", dict(role_vars, environment_suffix="t50", aurora_wait_timeout=600), role="aurora")
    assert result.returncode != 0, text[-3000:]
    assert [e["detail"] for e in realistic_aws.realism("events") if e["behaviour"] == "db_instance_failures"][:1] == [f"{ids[0]} incompatible-network"]
    assert f"Aurora instance(s) will not become available by themselves: {ids[0]} is incompatible-network." in text, text[-3000:]
    assert "still not available" not in text, text[-3000:]

    result, text = run_wait(tmp_path, "wait", dict(role_vars, environment_suffix="t50", aurora_wait_timeout=600), role="aurora", env=nothing_answers())
    assert result.returncode != 0, text[-3000:]
    assert "msg: Failed to describe db instances" in text, text[-3000:]
    assert "RETRYING" not in text and "still not available" not in text, text[-3000:]


def test_the_migrators_wait_names_what_is_pending_stops_on_a_dead_instance_and_on_a_failed_read(realistic_aws, tmp_path):
    def wait_for(cluster, ids, timeout, env=None):
        extra = {"bluegreen_aurora": {"cluster_id": cluster, "instance_ids": ids},
                 "migrator_lambda_database_wait_timeout": timeout, "migrator_lambda_database_wait_delay": 2}
        return run_wait(tmp_path, "database", extra, role="migrator_lambda", env=env)

    realistic_aws.realism("config", {"slow_states": {"rds_seconds": 600}})
    cluster, ids = aurora_cluster("t48", readers=1)
    result, text = wait_for(cluster, ids, 4)
    assert result.returncode != 0, text[-3000:]
    assert [e for e in realistic_aws.realism("events") if e["behaviour"] == "slow_states" and e["detail"] == f"{ids[1]} creating"]
    assert (f"After 4 s (migrator_lambda_database_wait_timeout) Aurora instance(s) still not available: {ids[0]}, {ids[1]}. "
            "The migrator function is deployed; migrations need the database.") in text, text[-3000:]

    realistic_aws.realism("config", {"slow_states": {"rds_seconds": 4}, "db_instance_failures": {"count": 1}})
    cluster, ids = aurora_cluster("t51", readers=1)
    result, text = wait_for(cluster, ids, 600)
    assert result.returncode != 0, text[-3000:]
    assert f"Aurora instance(s) of {cluster} will not become available by themselves: {ids[0]} is incompatible-network." in text, text[-3000:]

    result, text = wait_for(cluster, ids, 600, env=nothing_answers())
    assert result.returncode != 0, text[-3000:]
    assert "msg: Failed to describe db instances" in text, text[-3000:]
    assert "RETRYING" not in text and "still not available" not in text, text[-3000:]


def test_a_teardown_whose_deleted_endpoint_outlasts_the_wait_names_it(realistic_aws, tmp_path):
    # The deleted endpoint stays `deleting` for a hundred looks (AWS: a minute or two, sometimes more).
    realistic_aws.realism("config", {"dependent_drain": {"endpoint_polls": 100}})
    ec2 = client("ec2")
    vpc, endpoint = interface_endpoint(ec2, "10.49")
    endpoint_id = endpoint["VpcEndpointId"]
    # Until EC2 lists the new endpoint (eventual consistency), a teardown would not find it.
    for _attempt in range(20):
        if ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]:
            break
        time.sleep(0.5)

    result, text = run_wait(tmp_path, "absent_vpc", {"network_absent_vpc_id": vpc, "environment_suffix": "t49", "network_endpoint_delete_wait": 5})
    assert result.returncode != 0, text[-3000:]
    assert [e for e in realistic_aws.realism("events") if e["behaviour"] == "dependent_drain" and endpoint_id in e["detail"]]
    assert f"After 5 s AWS is still deleting VPC endpoint(s) {endpoint_id} of {vpc}; their network interfaces hold" in text, text[-3000:]
    assert "Run the teardown again later" in text
