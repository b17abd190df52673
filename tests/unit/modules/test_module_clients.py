"""BlueGreenModule.client: the clients of one module run come from one boto3 session (one
botocore loader, so the endpoint data and the service list are read once), with the same
connection options, user agent and extra config as AnsibleAWSModule.client. No AWS call."""

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry

CONNECTION = {"region": "eu-west-1", "endpoint_url": "http://127.0.0.1:9", "access_key": "testing", "secret_key": "testing"}


def module(**args):
    with patch_module_args({**CONNECTION, **args}):
        return BlueGreenModule(argument_spec={}, supports_check_mode=True)


def test_clients_of_one_run_share_one_session_and_its_loader():
    made = module()
    ec2, iam, ec2_again = made.client("ec2"), made.client("iam"), made.client("ec2")
    assert len(made.sessions) == 1
    # botocore gives every client its session's loader: one loader, one read of the data files
    assert ec2._loader is iam._loader is ec2_again._loader  # pylint: disable=protected-access
    assert ec2 is not ec2_again
    # another module run starts its own session
    assert module().client("ec2")._loader is not ec2._loader  # pylint: disable=protected-access


def test_connection_options_reach_every_client():
    made = module(aws_config={"connect_timeout": 7})
    for service in ("ec2", "iam", "logs"):
        api = made.client(service)
        assert api.meta.region_name == "eu-west-1"
        assert api.meta.endpoint_url == "http://127.0.0.1:9"
        assert api.meta.config.connect_timeout == 7
        assert api.meta.config.user_agent.startswith("APN/1.0 Ansible/")
        assert "bluegreen.migration/" in api.meta.config.user_agent
        assert api._request_signer._credentials.access_key == "testing"  # pylint: disable=protected-access


def test_extra_config_and_the_retry_wrapper():
    made = module()
    api = made.client("lambda", aws_config={"read_timeout": 901}, retry_decorator=aws_retry())
    assert isinstance(api, RetryingBotoClientWrapper)
    assert api.client.meta.config.read_timeout == 901
    assert made.client("lambda").meta.config.read_timeout != 901


def test_no_region_is_a_clear_failure(monkeypatch, capsys):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with patch_module_args({key: value for key, value in CONNECTION.items() if key != "region"}):
        made = BlueGreenModule(argument_spec={})
        with pytest.raises(SystemExit):
            made.client("ec2")
    assert "requires a region and none was found" in capsys.readouterr().out
