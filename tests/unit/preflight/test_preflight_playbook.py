"""playbooks/preflight.yml for real: the action plugin run by ansible-playbook against a
throwaway inventory, one environment per host, with the emulator answering kms:GetKeyPolicy."""

import json
import time

import yaml

from tests.harness.aws import client, recap, run_playbook

HANDLER = "def handler(event, context):\n    return {'applied': []}\n"

# A sample of the corpus: one bad input per host, and the variable its error must name.
BAD_SAMPLE = {
    "bad-suffix": ({"environment_suffix": "Bad_Suffix"}, "environment_suffix"),
    "bad-cidr": ({"network_vpc_cidr": "10.0.0.0/25"}, "network_vpc_cidr"),
    "bad-az": ({"network_az_count": 1}, "network_az_count"),
    "bad-health": ({"ecs_service_image": "nginx:1.27", "ecs_service_health_check_path": "/health"}, "ecs_service_health_check_path"),
    "bad-protect": ({"aurora_deletion_protection": True}, "aurora_deletion_protection"),
    "bad-handler": ({"migrator_lambda_handler": "index.main"}, "migrator_lambda_handler"),
    "bad-steps": ({"rollout_steps": [10, 50]}, "rollout_steps"),
    "bad-fargate": ({"ecs_service_memory": 8192}, "ecs_service_memory"),
    "bad-budget": ({"budget_monthly_usd": 50}, "budget_monthly_usd"),
    "bad-endpoint": ({"network_vpc_endpoints": ["secretmanager"]}, "network_vpc_endpoints"),
}


def write_inventory(tmp_path, hosts):
    source = tmp_path / "migrator"
    source.mkdir(exist_ok=True)
    (source / "index.py").write_text(HANDLER)
    inventory = {
        "bluegreen_envs": {
            "vars": {"ansible_connection": "local", "migrator_lambda_source_dir": str(source)},
            "hosts": hosts,
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": inventory}}))
    return path


def failure_chunks(stdout):
    """host -> the text of its `fatal:` result."""
    chunks = {}
    for part in stdout.split("fatal: [")[1:]:
        host, rest = part.split("]", 1)
        chunks[host] = rest.split("\npreflight of ")[0].split("PLAY RECAP")[0]
    return chunks


def logs_key(kms, allow_logs):
    key = kms.create_key(Description="preflight test")["KeyMetadata"]
    if allow_logs:
        account = key["Arn"].split(":")[4]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account}, "Action": "kms:*", "Resource": "*"},
                {
                    "Sid": "Logs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    "Resource": "*",
                },
            ],
        }
        kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy))
    return key["Arn"]


def test_good_and_bad_environments_in_one_run(aws, tmp_path):
    kms = client("kms")
    good_key, bad_key = logs_key(kms, True), logs_key(kms, False)
    hosts = {
        "local": {"environment_suffix": "local", "bluegreen_emulator": True, "ecs_service_log_kms_key_id": good_key},
        # the dev profile of tests/unit/cost: $146.36/month by hand
        "dev": {
            "environment_suffix": "dev",
            "network_az_count": 2,
            "ecs_service_desired_count": 1,
            "ecs_service_cpu": 512,
            "ecs_service_memory": 1024,
            "ecs_service_log_retention_days": 14,
            "aurora_reader_count": 0,
            "budget_monthly_usd": 200,
        },
        "kms-bad": {"environment_suffix": "kmsbad", "migrator_lambda_log_kms_key_id": bad_key},
    }
    for host, (overrides, _variable) in BAD_SAMPLE.items():
        hosts[host] = dict({"environment_suffix": host}, **overrides)
    inventory = write_inventory(tmp_path, hosts)
    aws.reset_recording()

    proc = run_playbook("playbooks/preflight.yml", inventory=inventory)

    result = recap(proc.stdout)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert result["local"]["ok"] == 1 and result["local"]["failed"] == 0, proc.stdout
    assert result["dev"]["ok"] == 1 and result["dev"]["failed"] == 0, proc.stdout
    chunks = failure_chunks(proc.stdout)
    assert set(chunks) == set(BAD_SAMPLE) | {"kms-bad"}
    for host, (_overrides, variable) in BAD_SAMPLE.items():
        assert result[host]["failed"] == 1
        assert "preflight found" in chunks[host] and "- %s=" % variable in chunks[host], (host, chunks[host])
    assert "- migrator_lambda_log_kms_key_id=%s:" % bad_key in chunks["kms-bad"]
    assert '"Service": "logs.us-east-1.amazonaws.com"' in chunks["kms-bad"]

    # the readable report of each environment, with its cost estimate
    assert "preflight of dev (environment_suffix=dev, us-east-1): 0 error(s)" in proc.stdout
    assert "cost estimate: $146.36/month" in proc.stdout

    # the only AWS calls: one read-only GetKeyPolicy per custom key; nothing mutating
    calls = aws.requests()
    assert sorted(c["action"] for c in calls) == ["GetKeyPolicy", "GetKeyPolicy"]
    assert aws.mutating_requests() == []


def test_local_inventory_refuses_a_non_loopback_endpoint(aws, tmp_path):
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    inventory = write_inventory(tmp_path, {"local": {"environment_suffix": "local", "bluegreen_emulator": True, "ecs_service_log_kms_key_id": key}})
    aws.reset_recording()
    started = time.monotonic()
    proc = run_playbook("playbooks/preflight.yml", inventory=inventory, env={"AWS_ENDPOINT_URL": "https://kms.us-east-1.amazonaws.com"})
    elapsed = time.monotonic() - started

    assert recap(proc.stdout)["local"]["failed"] == 1, proc.stdout + proc.stderr
    chunk = failure_chunks(proc.stdout)["local"]
    assert "- bluegreen_emulator=true: this inventory targets the local emulator but AWS_ENDPOINT_URL=https://kms.us-east-1.amazonaws.com" in chunk
    # the key policy was not read: no request left the controller
    assert "the key policy was not read" in proc.stdout
    assert aws.requests() == []
    assert elapsed < 5, "preflight.yml took %.1f s" % elapsed
