"""The migrator function's environment as Lambda takes it (module_utils/awslambda.py
environment_problems, the migrator_environment filter the role uses and preflight's rule): what
Lambda refuses (reserved keys, malformed keys, over 4 KB as JSON) and what the collection refuses
(a password-like key, a key the role sets) fail naming the keys; a good set passes as strings."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.filter.plan import FilterModule
from ansible_collections.bluegreen.migration.plugins.module_utils import awslambda

ENVIRONMENT = FilterModule().filters()["migrator_environment"]
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aurora-credentials-dev-AbCdEf"
ROLE = (ARN, "require", "")  # the role's secret ARN, TLS mode and (no) CA bundle
OWN = {"DB_SECRET_ARN": ARN, "MIGRATOR_SSLMODE": "require"}


def test_a_good_environment_is_the_users_values_as_strings_then_the_roles():
    merged = ENVIRONMENT({"MIGRATOR_LOCK_TIMEOUT_MS": 5000, "FEATURE_X": True, "LOG_LEVEL": "info"}, *ROLE)
    assert merged == dict(OWN, MIGRATOR_LOCK_TIMEOUT_MS="5000", FEATURE_X="True", LOG_LEVEL="info")
    assert ENVIRONMENT({}, *ROLE) == OWN


def test_with_a_ca_bundle_the_role_also_sets_its_packaged_name():
    assert ENVIRONMENT({}, ARN, "verify-full", "/etc/rds/global-bundle.pem") == dict(OWN, MIGRATOR_SSLMODE="verify-full", MIGRATOR_SSL_CA="ca-bundle.pem")
    assert ENVIRONMENT({"MIGRATOR_SSL_CA": "mine.pem"}, *ROLE)["MIGRATOR_SSL_CA"] == "mine.pem"
    with pytest.raises(AnsibleFilterError, match="MIGRATOR_SSL_CA: set by the role"):
        ENVIRONMENT({"MIGRATOR_SSL_CA": "mine.pem"}, ARN, "verify-full", "/etc/rds/global-bundle.pem")


@pytest.mark.parametrize(
    "extra, named, why",
    [
        ({"AWS_REGION": "eu-west-1"}, "AWS_REGION", "set by the Lambda runtime"),
        ({"AWS_DEFAULT_REGION": "eu-west-1", "LOG_LEVEL": "info"}, "AWS_DEFAULT_REGION", "set by the Lambda runtime"),
        ({"_HANDLER": "x.y"}, "_HANDLER", "set by the Lambda runtime"),
        ({"AWS_SESSION_TOKEN": "t"}, "AWS_SESSION_TOKEN", "set by the Lambda runtime"),
        ({"1ST": "a"}, "1ST", "a key must be a letter"),
        ({"LOG-LEVEL": "info"}, "LOG-LEVEL", "a key must be a letter"),
        ({"X": "a"}, "X", "at least 2 characters"),
        ({"LOG_LEVEL\n": "info"}, "'LOG_LEVEL\\n'", "a key must be a letter"),
        ({"DB_PASSWORD": "hunter2"}, "DB_PASSWORD", "looks like a password"),
        ({"pgpass": "x"}, "pgpass", "looks like a password"),
        ({"ADMIN_PWD": "x"}, "ADMIN_PWD", "looks like a password"),
        ({"DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:other"}, "DB_SECRET_ARN", "set by the role"),
        ({"BIG": "x" * 4000}, "bytes in all", "at most 4096"),
    ],
)
def test_a_refused_environment_names_the_keys_and_why(extra, named, why):
    with pytest.raises(AnsibleFilterError, match="migrator_lambda_environment is refused") as raised:
        ENVIRONMENT(extra, *ROLE)
    assert named in str(raised.value) and why in str(raised.value)
    # Keys the runtime does not reserve (TZ no longer is), with a value that fits, pass.
    assert not awslambda.environment_problems({"LANG": "C.UTF-8", "TZ": "Europe/Paris", "AWS_LAMBDA_EXEC_WRAPPER": "/opt/w"}, OWN)


def test_the_size_is_measured_with_the_roles_variables_as_lambda_measures_the_whole_set():
    own_size = len('{"DB_SECRET_ARN":"%s","MIGRATOR_SSLMODE":"require"}' % OWN["DB_SECRET_ARN"])
    # {"A1":"<n x>"} merged into the role's object adds len('"A1":"",') + n bytes.
    fits = 4096 - own_size - len('"A1":"",')
    assert not awslambda.environment_problems({"A1": "x" * fits}, OWN)
    assert awslambda.environment_problems({"A1": "x" * (fits + 1)}, OWN) == ["4097 bytes in all (as JSON) where Lambda takes at most 4096"]


def test_the_size_is_that_of_the_strings_sent_in_utf_8():
    """Values are sent as strings (True is 'True'), non-ASCII text as its UTF-8 bytes, not as
    JSON escapes; a value YAML reads as a date is measured as its text, not a crash."""
    import datetime

    flags = {"F%03d" % n: True for n in range(330)}
    sent = "{%s,\"DB_SECRET_ARN\":\"%s\",\"MIGRATOR_SSLMODE\":\"require\"}" % (",".join('"%s":"True"' % key for key in flags), OWN["DB_SECRET_ARN"])
    assert awslambda.environment_problems(flags, OWN) == ["%d bytes in all (as JSON) where Lambda takes at most 4096" % len(sent)]
    assert not awslambda.environment_problems({"NOTE": "\u00e9" * 1300}, OWN)  # 2600 bytes, not 7800
    assert awslambda.environment_problems({"NOTE": "\u00e9" * 2000}, OWN)  # 4000 bytes and the role's
    assert not awslambda.environment_problems({"SINCE": datetime.date(2026, 12, 5)}, OWN)


def test_every_problem_is_named_at_once():
    problems = awslambda.environment_problems({"AWS_REGION": "x", "DB_PASS": "y", "MIGRATOR_SSLMODE": "disable", "9": "z"}, OWN)
    assert [p.split(":")[0] for p in problems] == ["AWS_REGION", "9", "DB_PASS", "MIGRATOR_SSLMODE"]


def test_the_filter_wants_a_mapping():
    with pytest.raises(AnsibleFilterError, match="migrator_environment expects a mapping, got list"):
        ENVIRONMENT(["LOG_LEVEL=info"], *ROLE)
