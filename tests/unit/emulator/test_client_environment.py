"""A shell set up for real AWS (a profile exported, a per-service endpoint, ~/.aws files) runs
`make demo`, the tests and the benchmarks on the emulator unchanged: the emulator's environment
leaves the shell's own AWS settings out instead of mixing them with its dummy credentials."""

import os
import subprocess
import sys
from pathlib import Path

import boto3

from tests.harness.aws import ROOT, Emulator, client_environ, foreign_aws_settings

# What `aws configure` and `aws sso` leave on a platform engineer's machine.
AWS_CONFIG = """[default]
region = eu-west-3
ignore_configured_endpoint_urls = true

[profile production]
region = eu-west-3
ignore_configured_endpoint_urls = true
"""


def real_aws_shell(tmp_path, profile_in_home=True):
    """The environment of a shell set up for real AWS: no emulator setting, a profile exported,
    a home with ~/.aws (without that profile when not `profile_in_home`: one kept by a
    credentials tool or in another file)."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(AWS_CONFIG if profile_in_home else "[default]\nregion = eu-west-3\n")
    if profile_in_home:
        (home / ".aws" / "credentials").write_text("[production]\naws_access_key_id = AKIAREAL\naws_secret_access_key = real\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(HOME=str(home), AWS_PROFILE="production", AWS_ENDPOINT_URL_EC2="https://ec2.eu-west-3.amazonaws.com", AWS_MAX_ATTEMPTS="1")
    # A corporate proxy (here one that answers nothing), loopback not excepted.
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="intranet.example")
    env.pop("no_proxy", None)
    return env


def test_the_shells_profile_endpoints_and_retry_settings_are_dropped_and_the_rest_kept():
    shell = {"AWS_PROFILE": "production", "AWS_DEFAULT_PROFILE": "production", "AWS_ENDPOINT_URL_S3": "https://s3.example",
             "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "1",
             "AWS_URL": "https://ec2.example", "AWS_SECURITY_TOKEN": "real", "AWS_CREDENTIAL_EXPIRATION": "2020-01-01T00:00:00Z",
             "AWS_CA_BUNDLE": "/etc/ssl/certs/ca.pem", "PATH": "/usr/bin"}
    env = client_environ(5005, shell)
    assert foreign_aws_settings(env) == []
    assert env["AWS_CA_BUNDLE"] == "/etc/ssl/certs/ca.pem" and env["PATH"] == "/usr/bin"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5005"
    assert env["AWS_CONFIG_FILE"] == os.devnull and env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert shell["AWS_PROFILE"] == "production", "the caller's mapping is left as it was"
    assert client_environ(5005, {"no_proxy": "intranet.example,localhost"})["NO_PROXY"] == "127.0.0.1,localhost,intranet.example"


def use_environment(monkeypatch, env):
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_an_emulator_started_in_a_real_aws_shell_serves_boto3_through_client_environ(tmp_path, monkeypatch):
    """Before, the exported profile, which ~/.aws/config lacks, failed boto3 itself
    (ProfileNotFound), and moto, which read it too, answered every DynamoDB request (the
    environment lock) 500."""
    shell = real_aws_shell(tmp_path, profile_in_home=False)
    use_environment(monkeypatch, shell)
    emu = Emulator.on_free_port(tmp_path / "emulator")
    try:
        use_environment(monkeypatch, client_environ(emu.port, shell))
        session = boto3.session.Session()
        assert session.region_name == "us-east-1"
        session.client("ec2").describe_vpcs()
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(TableName="locks", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        dynamodb.put_item(TableName="locks", Item={"id": {"S": "local"}})
        assert [c["action"] for c in emu.requests()] == ["DescribeVpcs", "CreateTable", "PutItem"]
    finally:
        emu.stop()


def test_an_amazon_aws_module_in_a_real_aws_shell_reaches_the_emulator_after_its_env(aws, tmp_path):
    """The way make demo and molecule set it: eval "$(python scripts/emulator.py env)". Before,
    amazon.aws refused the exported profile beside the emulator's keys ("Passing both a profile
    and access tokens is not supported")."""
    bindir = Path(sys.executable).parent
    script = (
        f'eval "$({sys.executable} scripts/emulator.py env --port {aws.port})" && '
        f"exec {bindir / 'ansible'} localhost -i localhost, -c local -m amazon.aws.ec2_vpc_net_info -e ansible_python_interpreter={sys.executable}"
    )
    env = dict(real_aws_shell(tmp_path), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "DescribeVpcs" in [c["action"] for c in aws.requests()]
