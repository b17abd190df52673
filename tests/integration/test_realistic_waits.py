"""The network role's waits on the realistic emulator when AWS takes longer than the timeout
(a NAT gateway or an interface endpoint pending for minutes): the run fails naming what is still
pending and the setting that sizes the wait, not with Ansible's bare "retries exhausted". A read
that fails (here: nothing answers at the endpoint) stops the wait at once with its own message
instead of being retried until the timeout.

Before, a NAT wait that ran out let the run go on to the routes (its failed_when kept `until`
from failing the task), and an endpoint wait's ended with Ansible's bare failure."""

import pytest

from tests.harness.aws import client, free_port, run_playbook
from tests.unit.modules.test_ec2_vpc_route import network_with_gateways

pytestmark = pytest.mark.slow(seconds=60)

WAIT_PLAYBOOK = """
- name: One of the network role's waits on the emulator
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
        name: bluegreen.migration.network
        tasks_from: "{{ wait_tasks }}"
"""


def run_wait(tmp_path, wait_tasks, extra_vars, env=None):
    playbook = tmp_path / "wait.yml"
    playbook.write_text(WAIT_PLAYBOOK)
    # A wait retried to its timeout would outlast this: the test then fails on it.
    result = run_playbook(playbook, inventory="localhost,", extra_vars=dict(extra_vars, wait_tasks=wait_tasks), env=env, timeout=180)
    return result, " ".join(result.stdout.split())


def pending_events(emulator, action, resource_id):
    return [e for e in emulator.realism("events") if e["behaviour"] == "slow_states" and e["action"] == action and resource_id in e["detail"]]


def nothing_answers():
    return {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}


def test_a_nat_gateway_pending_past_the_timeout_is_named_and_a_failed_read_is_not_retried(realistic_aws, tmp_path):
    realistic_aws.realism("config", {"slow_states": {"nat_seconds": 600}})
    nat = network_with_gateways("10.47")["nat"]

    result, text = run_wait(tmp_path, "nat_wait", {"network_nat_wait_ids": [nat], "network_nat_wait_timeout": 10})
    assert result.returncode != 0, text[-3000:]
    assert pending_events(realistic_aws, "DescribeNatGateways", f"{nat} pending"), realistic_aws.realism("events")
    assert f"After 10 s (network_nat_wait_timeout) NAT gateway(s) still not available: {nat}." in text, text[-3000:]
    assert "-e network_nat_wait_timeout=<seconds>" in text

    # Ten minutes of wait: a failed read must not be retried through them.
    result, text = run_wait(tmp_path, "nat_wait", {"network_nat_wait_ids": [nat], "network_nat_wait_timeout": 600}, env=nothing_answers())
    assert result.returncode != 0, text[-3000:]
    assert "Unable to describe NAT gateways.: Failed to describe nat gateways" in text, text[-3000:]
    assert "RETRYING" not in text and "still not available" not in text, text[-3000:]


def test_a_vpc_endpoint_pending_past_the_timeout_is_named_and_a_failed_read_is_not_retried(realistic_aws, tmp_path):
    realistic_aws.realism("config", {"slow_states": {"endpoint_seconds": 600}})
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.48.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.48.1.0/24")["Subnet"]["SubnetId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.secretsmanager", VpcEndpointType="Interface",
                                       SubnetIds=[subnet])["VpcEndpoint"]
    assert endpoint["State"] == "pending", endpoint
    endpoint_id = endpoint["VpcEndpointId"]

    result, text = run_wait(tmp_path, "endpoints_wait", {"network_endpoint_wait_ids": [endpoint_id], "network_vpc_endpoint_wait_timeout": 10})
    assert result.returncode != 0, text[-3000:]
    assert pending_events(realistic_aws, "DescribeVpcEndpoints", endpoint_id), realistic_aws.realism("events")
    assert f"After 10 s (network_vpc_endpoint_wait_timeout) VPC endpoint(s) still not available: {endpoint_id}." in text, text[-3000:]
    assert "-e network_vpc_endpoint_wait_timeout=<seconds>" in text

    result, text = run_wait(tmp_path, "endpoints_wait", {"network_endpoint_wait_ids": [endpoint_id], "network_vpc_endpoint_wait_timeout": 600},
                            env=nothing_answers())
    assert result.returncode != 0, text[-3000:]
    assert "Failed to describe vpc endpoints" in text, text[-3000:]
    assert "RETRYING" not in text and "still not available" not in text, text[-3000:]
