"""The preflight rules engine, table-driven: every bad input is an error naming its variable,
the good environment profiles pass."""

import json

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import packaging
from ansible_collections.bluegreen.migration.plugins.module_utils import preflight

ACCOUNT = "123456789012"
KEY_ARN = "arn:aws:kms:us-east-1:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % ACCOUNT
GOOD_HANDLER = "import json\n\n\ndef handler(event, context):\n    return {'ok': True}\n"


@pytest.fixture
def source(tmp_path):
    """A migrator source directory with a valid index.handler; returns a writer for more files."""
    root = tmp_path / "migrator"
    root.mkdir()
    (root / "index.py").write_text(GOOD_HANDLER)

    def write(files):
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    write.root = root
    return write


# The environments of the inventories: local (emulator), dev, staging, prod.
PROFILES = {
    "local": {"environment_suffix": "local", "bluegreen_emulator": True},
    "dev": {
        "environment_suffix": "dev",
        "network_az_count": 2,
        "aurora_reader_count": 0,
        "ecs_service_desired_count": 1,
        "ecs_service_cpu": 512,
        "ecs_service_memory": 1024,
        "ecs_service_log_retention_days": 14,
        "budget_monthly_usd": 200,
    },
    "staging": {
        "environment_suffix": "staging",
        "network_vpc_cidr": "10.20.0.0/16",
        "ecs_service_image": "nginx:1.27",
        "ecs_service_health_check_path": "/index.html",
        "rollout_steps": [5, 25, 50, 100],
        "bluegreen_tags": {"CostCenter": "qa", "Owner": "platform"},
    },
    "prod": {
        "environment_suffix": "prod",
        "environment_disposable": False,
        "network_vpc_cidr": "10.30.0.0/16",
        "network_nat_gateways": "per_az",
        "network_vpc_endpoints": ["s3", "secretsmanager", "logs"],
        "network_ingress_cidrs": ["203.0.113.0/24", "2001:db8::/32"],
        "ecs_service_image": "public.ecr.aws/nginx/nginx:1.27.3",
        "ecs_service_desired_count": 4,
        "ecs_service_cpu": 1024,
        "ecs_service_memory": 2048,
        "ecs_service_log_retention_days": 365,
        "ecs_service_certificate_arn": "arn:aws:acm:us-east-1:%s:certificate/0a1b2c3d-1111-2222-3333-444455556666" % ACCOUNT,
        "aurora_instance_class": "db.r6g.large",
        "aurora_reader_count": 2,
        "aurora_kms_key_id": "alias/prod-aurora",
        "aurora_deletion_protection": True,
        "aurora_skip_final_snapshot": False,
        "rollout_bake_seconds": 300,
        "rollout_drain_seconds": 120,
        "budget_monthly_usd": 1000,
    },
}

LOOPBACK = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5005"}


def check(variables, source, files=None, environ=None, key_policies=None):
    root = source(files or {})
    values = dict(variables)
    values.setdefault("migrator_lambda_source_dir", str(root))
    return preflight.run_checks(values, key_policies=key_policies, search_dirs=[str(root.parent)], environ=environ if environ is not None else LOOPBACK)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_good_profiles_have_no_errors(profile, source):
    result = check(PROFILES[profile], source)
    assert result["errors"] == [], preflight.format_report(result)
    assert result["names"]["alb"] == "app-%s" % profile
    assert result["cost"]["total_monthly_usd"] > 0 and result["cost"]["unpriced"] == []


def test_relative_source_dir_is_found_from_the_search_dirs(source):
    result = preflight.run_checks(
        {"environment_suffix": "dev", "migrator_lambda_source_dir": "migrator"}, search_dirs=["/nonexistent", str(source.root.parent)], environ={}
    )
    assert result["errors"] == []


NIGHT = "a" * 64
# (case id, overrides, files for the migrator source, environment, variable named by the error, rule)
CORPUS = [
    # shared inputs and names (rule 5)
    ("suffix-missing", {"environment_suffix": None}, None, None, "environment_suffix", "names"),
    ("suffix-uppercase", {"environment_suffix": "Dev"}, None, None, "environment_suffix", "names"),
    ("suffix-trailing-hyphen", {"environment_suffix": "dev-"}, None, None, "environment_suffix", "names"),
    ("suffix-double-hyphen", {"environment_suffix": "pr--1"}, None, None, "environment_suffix", "names"),
    ("suffix-over-20", {"environment_suffix": "a" * 21}, None, None, "environment_suffix", "names"),
    ("region-malformed", {"aws_region": "us-east"}, None, None, "aws_region", "region"),
    ("region-not-a-string", {"aws_region": 123}, None, None, "aws_region", "region"),
    ("disposable-not-bool", {"environment_disposable": "maybe"}, None, None, "environment_disposable", "spec"),
    ("tags-reserved-prefix", {"bluegreen_tags": {"aws:owner": "me"}}, None, None, "bluegreen_tags", "tags"),
    ("tags-not-mapping", {"bluegreen_tags": ["Owner=me"]}, None, None, "bluegreen_tags", "spec"),
    ("tags-key-value-string", {"bluegreen_tags": "Owner=me"}, None, None, "bluegreen_tags", "spec"),
    # emulator guard
    (
        "emulator-real-endpoint",
        {"bluegreen_emulator": True},
        None,
        {"AWS_ENDPOINT_URL": "https://kms.us-east-1.amazonaws.com"},
        "bluegreen_emulator",
        "emulator_guard",
    ),
    ("emulator-no-endpoint", {"bluegreen_emulator": True}, None, {}, "bluegreen_emulator", "emulator_guard"),
    ("emulator-lan-endpoint", {"bluegreen_emulator": "true"}, None, {"AWS_ENDPOINT_URL": "http://10.0.0.5:5000"}, "bluegreen_emulator", "emulator_guard"),
    # network
    ("cidr-invalid", {"network_vpc_cidr": "10.0.0.0/33"}, None, None, "network_vpc_cidr", "cidr"),
    ("cidr-host-bits", {"network_vpc_cidr": "10.0.0.1/16"}, None, None, "network_vpc_cidr", "cidr"),
    ("cidr-too-small-for-tiers", {"network_vpc_cidr": "10.0.0.0/25"}, None, None, "network_vpc_cidr", "cidr"),
    ("cidr-too-large", {"network_vpc_cidr": "10.0.0.0/8"}, None, None, "network_vpc_cidr", "cidr"),
    # a /24 over 3 AZs gives /28 public subnets; an ALB needs /27
    ("alb-public-subnets-28", {"network_vpc_cidr": "10.0.0.0/24"}, None, None, "network_vpc_cidr", "alb_subnet"),
    ("alb-six-azs-23", {"network_vpc_cidr": "10.0.0.0/23", "network_az_count": 6}, None, None, "network_vpc_cidr", "alb_subnet"),
    ("cidr-no-room-for-two-colors", {"network_vpc_cidr": "10.0.0.0/24", "ecs_service_desired_count": 100}, None, None, "network_vpc_cidr", "subnet_capacity"),
    ("az-one", {"network_az_count": 1}, None, None, "network_az_count", "range"),
    ("az-seven", {"network_az_count": 7}, None, None, "network_az_count", "range"),
    ("az-not-a-number", {"network_az_count": "three"}, None, None, "network_az_count", "spec"),
    ("az-more-than-region", {"aws_region": "us-west-1", "network_az_count": 3}, None, None, "network_az_count", "region_azs"),
    ("nat-choice", {"network_nat_gateways": "two"}, None, None, "network_nat_gateways", "spec"),
    ("endpoint-typo", {"network_vpc_endpoints": ["secretmanager"]}, None, None, "network_vpc_endpoints", "endpoints"),
    ("endpoint-twice", {"network_vpc_endpoints": ["logs", "logs"]}, None, None, "network_vpc_endpoints", "endpoints"),
    ("endpoints-not-list", {"network_vpc_endpoints": "s3"}, None, None, "network_vpc_endpoints", "spec"),
    ("ingress-string", {"network_ingress_cidrs": "0.0.0.0/0"}, None, None, "network_ingress_cidrs", "spec"),
    ("ingress-host-bits", {"network_ingress_cidrs": ["203.0.113.5/24"]}, None, None, "network_ingress_cidrs", "cidr"),
    ("ingress-no-prefix", {"network_ingress_cidrs": ["203.0.113.5"]}, None, None, "network_ingress_cidrs", "cidr"),
    # image vs health check (rule 1)
    ("image-empty", {"ecs_service_image": ""}, None, None, "ecs_service_image", "image"),
    (
        "nginx-has-no-health",
        {"ecs_service_image": "nginx:1.27", "ecs_service_health_check_path": "/health"},
        None,
        None,
        "ecs_service_health_check_path",
        "health_check",
    ),
    (
        "httpd-has-no-healthz",
        {"ecs_service_image": "docker.io/library/httpd:2.4", "ecs_service_health_check_path": "/healthz"},
        None,
        None,
        "ecs_service_health_check_path",
        "health_check",
    ),
    (
        "sample-only-root",
        {"ecs_service_image": "amazon/amazon-ecs-sample", "ecs_service_health_check_path": "/status"},
        None,
        None,
        "ecs_service_health_check_path",
        "health_check",
    ),
    ("health-no-slash", {"ecs_service_health_check_path": "health"}, None, None, "ecs_service_health_check_path", "health_check"),
    # target group health check and deregistration delay as ELB takes them
    ("health-timeout-not-below-interval", {"ecs_service_health_check_interval": 5}, None, None, "ecs_service_health_check_timeout", "health_check"),
    ("health-interval-too-short", {"ecs_service_health_check_interval": 4}, None, None, "ecs_service_health_check_interval", "range"),
    ("health-timeout-too-long", {"ecs_service_health_check_timeout": 121}, None, None, "ecs_service_health_check_timeout", "range"),
    ("healthy-threshold-one", {"ecs_service_health_check_healthy_threshold": 1}, None, None, "ecs_service_health_check_healthy_threshold", "range"),
    ("unhealthy-threshold-eleven", {"ecs_service_health_check_unhealthy_threshold": 11}, None, None, "ecs_service_health_check_unhealthy_threshold",
     "range"),
    ("matcher-5xx", {"ecs_service_health_check_matcher": "200-503"}, None, None, "ecs_service_health_check_matcher", "health_check"),
    ("matcher-words", {"ecs_service_health_check_matcher": "ok"}, None, None, "ecs_service_health_check_matcher", "health_check"),
    ("deregistration-delay-hours", {"ecs_service_deregistration_delay": 7200}, None, None, "ecs_service_deregistration_delay", "range"),
    (
        "port-not-image-port",
        {"ecs_service_image": "nginx:1.27", "ecs_service_container_port": 8080},
        None,
        None,
        "ecs_service_container_port",
        "container_port",
    ),
    (
        "port-unprivileged-nginx",
        {"ecs_service_image": "nginxinc/nginx-unprivileged:1.27", "ecs_service_container_port": 80},
        None,
        None,
        "ecs_service_container_port",
        "container_port",
    ),
    ("port-out-of-range", {"ecs_service_container_port": 70000}, None, None, "ecs_service_container_port", "range"),
    (
        "port-vs-security-group",
        {"ecs_service_image": "traefik/whoami:v1.10", "network_app_port": 8080},
        None,
        None,
        "ecs_service_container_port",
        "container_port",
    ),
    # Fargate and service sizes
    ("cpu-not-fargate", {"ecs_service_cpu": 300}, None, None, "ecs_service_cpu", "fargate_size"),
    ("memory-too-big-for-cpu", {"ecs_service_cpu": 256, "ecs_service_memory": 4096}, None, None, "ecs_service_memory", "fargate_size"),
    ("memory-off-step", {"ecs_service_cpu": 8192, "ecs_service_memory": 17408}, None, None, "ecs_service_memory", "fargate_size"),
    ("desired-zero", {"ecs_service_desired_count": 0}, None, None, "ecs_service_desired_count", "range"),
    ("desired-bool", {"ecs_service_desired_count": True}, None, None, "ecs_service_desired_count", "range"),
    ("retention-not-allowed", {"ecs_service_log_retention_days": 10}, None, None, "ecs_service_log_retention_days", "log_retention"),
    ("retention-null", {"ecs_service_log_retention_days": None}, None, None, "ecs_service_log_retention_days", "spec"),
    ("cpu-not-a-number", {"ecs_service_cpu": "half"}, None, None, "ecs_service_cpu", "spec"),
    (
        "certificate-not-acm",
        {"ecs_service_certificate_arn": "arn:aws:iam::%s:server-certificate/x" % ACCOUNT},
        None,
        None,
        "ecs_service_certificate_arn",
        "certificate",
    ),
    (
        "certificate-other-region",
        {"ecs_service_certificate_arn": "arn:aws:acm:eu-west-1:%s:certificate/abc-123" % ACCOUNT},
        None,
        None,
        "ecs_service_certificate_arn",
        "certificate",
    ),
    # KMS (rule 3, formats; the key policy itself is tested below)
    ("log-key-alias", {"ecs_service_log_kms_key_id": "alias/logs"}, None, None, "ecs_service_log_kms_key_id", "kms_key"),
    (
        "log-key-other-region",
        {"migrator_lambda_log_kms_key_id": KEY_ARN.replace("us-east-1", "eu-west-1")},
        None,
        None,
        "migrator_lambda_log_kms_key_id",
        "kms_key",
    ),
    ("aurora-key-garbage", {"aurora_kms_key_id": "my key"}, None, None, "aurora_kms_key_id", "kms_key"),
    # Aurora
    ("engine-version-float", {"aurora_engine_version": 15.1}, None, None, "aurora_engine_version", "engine_version"),
    ("engine-version-old", {"aurora_engine_version": "11.9"}, None, None, "aurora_engine_version", "engine_version"),
    ("engine-version-garbage", {"aurora_engine_version": "latest"}, None, None, "aurora_engine_version", "engine_version"),
    ("instance-class-pattern", {"aurora_instance_class": "t3.medium"}, None, None, "aurora_instance_class", "instance_class"),
    ("readers-16", {"aurora_reader_count": 16}, None, None, "aurora_reader_count", "range"),
    ("readers-negative", {"aurora_reader_count": -1}, None, None, "aurora_reader_count", "range"),
    ("database-digit-first", {"aurora_database_name": "1app"}, None, None, "aurora_database_name", "identifier"),
    ("database-reserved", {"aurora_database_name": "select"}, None, None, "aurora_database_name", "identifier"),
    ("username-postgres", {"aurora_master_username": "postgres"}, None, None, "aurora_master_username", "identifier"),
    ("username-rdsadmin", {"aurora_master_username": "rdsadmin"}, None, None, "aurora_master_username", "identifier"),
    ("username-admin", {"aurora_master_username": "Admin"}, None, None, "aurora_master_username", "identifier"),
    ("username-underscore-first", {"aurora_master_username": "_app"}, None, None, "aurora_master_username", "identifier"),
    ("username-64-chars", {"aurora_master_username": NIGHT}, None, None, "aurora_master_username", "identifier"),
    ("password-length-7", {"aurora_password_length": 7}, None, None, "aurora_password_length", "range"),
    ("password-length-42", {"aurora_password_length": 42}, None, None, "aurora_password_length", "range"),
    ("password-length-not-a-number", {"aurora_password_length": "long"}, None, None, "aurora_password_length", "spec"),
    # disposable environments (rule 6)
    ("deletion-protection-disposable", {"aurora_deletion_protection": True}, None, None, "aurora_deletion_protection", "disposable"),
    ("final-snapshot-disposable", {"aurora_skip_final_snapshot": False}, None, None, "aurora_skip_final_snapshot", "disposable"),
    ("deletion-protection-not-bool", {"aurora_deletion_protection": "maybe"}, None, None, "aurora_deletion_protection", "spec"),
    # migrator Lambda (rule 7 and runtime)
    ("runtime-deprecated", {"migrator_lambda_runtime": "python3.9"}, None, None, "migrator_lambda_runtime", "runtime"),
    ("runtime-not-python", {"migrator_lambda_runtime": "nodejs20.x"}, None, None, "migrator_lambda_runtime", "runtime"),
    ("handler-no-function", {"migrator_lambda_handler": "index"}, None, None, "migrator_lambda_handler", "handler"),
    ("handler-missing-def", {"migrator_lambda_handler": "index.main"}, None, None, "migrator_lambda_handler", "handler"),
    ("handler-missing-module", {"migrator_lambda_handler": "app.handler"}, None, None, "migrator_lambda_handler", "handler"),
    ("handler-one-argument", {}, {"index.py": "def handler(event):\n    return event\n"}, None, "migrator_lambda_handler", "handler"),
    ("handler-async", {}, {"index.py": "async def handler(event, context):\n    return 1\n"}, None, "migrator_lambda_handler", "handler"),
    ("handler-syntax-error", {}, {"index.py": "def handler(event, context)\n    return 1\n"}, None, "migrator_lambda_handler", "handler"),
    ("handler-only-nested", {}, {"index.py": "def outer():\n    def handler(event, context):\n        pass\n"}, None, "migrator_lambda_handler", "handler"),
    ("source-dir-missing", {"migrator_lambda_source_dir": "/nonexistent/migrator"}, None, None, "migrator_lambda_source_dir", "handler"),
    ("verify-full-without-bundle", {"migrator_lambda_sslmode": "verify-full"}, None, None, "migrator_lambda_ca_bundle", "ca_bundle"),
    ("sslmode-choice", {"migrator_lambda_sslmode": "verify-ca"}, None, None, "migrator_lambda_sslmode", "spec"),
    ("ca-bundle-missing", {"migrator_lambda_ca_bundle": "/nonexistent/global-bundle.pem"}, None, None, "migrator_lambda_ca_bundle", "ca_bundle"),
    ("ca-bundle-not-pem", {"migrator_lambda_ca_bundle": "/etc/hostname"}, None, None, "migrator_lambda_ca_bundle", "ca_bundle"),
    ("lambda-env-reserved", {"migrator_lambda_environment": {"AWS_REGION": "eu-west-1"}}, None, None, "migrator_lambda_environment", "lambda_environment"),
    ("lambda-env-password", {"migrator_lambda_environment": {"DB_PASSWORD": "x"}}, None, None, "migrator_lambda_environment", "lambda_environment"),
    ("lambda-env-role-key", {"migrator_lambda_environment": {"MIGRATOR_SSLMODE": "disable"}}, None, None,
     "migrator_lambda_environment", "lambda_environment"),
    ("lambda-env-over-4kb", {"migrator_lambda_environment": {"NOTES": "n" * 4000}}, None, None, "migrator_lambda_environment", "lambda_environment"),
    ("lambda-env-not-a-mapping", {"migrator_lambda_environment": "LOG_LEVEL=info"}, None, None, "migrator_lambda_environment", "spec"),
    # rollout
    ("steps-not-ending-100", {"rollout_steps": [10, 50]}, None, None, "rollout_steps", "rollout_steps"),
    ("steps-decreasing", {"rollout_steps": [50, 10, 100]}, None, None, "rollout_steps", "rollout_steps"),
    ("steps-repeated", {"rollout_steps": [10, 10, 100]}, None, None, "rollout_steps", "rollout_steps"),
    ("steps-zero", {"rollout_steps": [0, 100]}, None, None, "rollout_steps", "rollout_steps"),
    ("steps-over-100", {"rollout_steps": [10, 150]}, None, None, "rollout_steps", "rollout_steps"),
    ("steps-string", {"rollout_steps": "10,50,100"}, None, None, "rollout_steps", "spec"),
    ("steps-not-numbers", {"rollout_steps": [10, "half", 100]}, None, None, "rollout_steps", "spec"),
    ("steps-empty", {"rollout_steps": []}, None, None, "rollout_steps", "rollout_steps"),
    ("bake-negative", {"rollout_bake_seconds": -1}, None, None, "rollout_bake_seconds", "range"),
    ("drain-over-alb-limit", {"rollout_drain_seconds": 4000}, None, None, "rollout_drain_seconds", "range"),
    ("hook-unknown", {"rollout_hooks": {"after_deploy": [{"http": {"url": "/"}}]}}, None, None, "rollout_hooks", "rollout_hooks"),
    ("hook-absolute-url", {"rollout_hooks": {"after_install": [{"http": {"url": "http://x/"}}]}}, None, None, "rollout_hooks", "rollout_hooks"),
    ("hook-two-kinds", {"rollout_hooks": {"after_install": [{"include_tasks": "a.yml", "lambda": {"function": "f"}}]}}, None, None,
     "rollout_hooks", "rollout_hooks"),
    ("pause-after-last-step", {"rollout_pause_after_step": 3}, None, None, "rollout_pause_after_step", "pause"),
    ("pause-timeout-action", {"rollout_pause_timeout_action": "wait"}, None, None, "rollout_pause_timeout_action", "spec"),
    ("canary-bad-header", {"rollout_header_canary": {"name": "X Canary", "value": "1"}}, None, None, "rollout_header_canary", "header_canary"),
    ("test-port-is-production", {"ecs_service_test_listener_port": 80}, None, None, "ecs_service_test_listener_port", "test_listener"),
    ("test-port-not-opened", {"ecs_service_test_listener_port": 9000}, None, None, "ecs_service_test_listener_port", "test_listener"),
    ("test-cidr-invalid", {"network_test_ingress_cidrs": ["10.1.2.3"]}, None, None, "network_test_ingress_cidrs", "cidr"),
    # waits: a delay of 0 would divide a wait's bound by zero halfway through a run
    ("eni-wait-delay-zero", {"ecs_service_eni_wait_delay": 0}, None, None, "ecs_service_eni_wait_delay", "waits"),
    ("aurora-wait-delay-negative", {"aurora_wait_delay": -15}, None, None, "aurora_wait_delay", "waits"),
    ("database-wait-timeout-zero", {"migrator_lambda_database_wait_timeout": 0}, None, None, "migrator_lambda_database_wait_timeout", "waits"),
    ("dependency-wait-over-a-day", {"network_dependency_wait": 90000}, None, None, "network_dependency_wait", "waits"),
    ("nat-wait-not-a-number", {"network_nat_wait_timeout": "ten minutes"}, None, None, "network_nat_wait_timeout", "spec"),
    # budget
    ("budget-exceeded", {"budget_monthly_usd": 100}, None, None, "budget_monthly_usd", "budget"),
    ("budget-negative", {"budget_monthly_usd": -5}, None, None, "budget_monthly_usd", "budget"),
    ("budget-not-a-number", {"budget_monthly_usd": "a lot"}, None, None, "budget_monthly_usd", "spec"),
    ("emulator-not-bool", {"bluegreen_emulator": "maybe"}, None, None, "bluegreen_emulator", "spec"),
]


def test_corpus_is_large_and_unique():
    assert len(CORPUS) >= 30
    assert len({case[0] for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case_id, overrides, files, environ, variable, rule", CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_input_is_an_error_naming_the_variable(case_id, overrides, files, environ, variable, rule, source):
    variables = dict(PROFILES["local"], bluegreen_emulator=False)
    variables.update(overrides)
    result = check(variables, source, files=files, environ=environ)
    matching = [e for e in result["errors"] if e["variable"] == variable]
    assert matching, "no error for %s; got %s" % (variable, [preflight.finding_line(e) for e in result["errors"]])
    assert rule in {e["rule"] for e in matching}
    for error in matching:
        line = preflight.finding_line(error)
        assert line.startswith(variable + "=") and " -> " in line
        assert error["message"] and error["fix"]
    # only the variables the case touches are blamed
    touched = set(overrides) | {variable}
    assert {e["variable"] for e in result["errors"]} <= touched, [preflight.finding_line(e) for e in result["errors"]]


def test_every_rule_of_the_engine_has_a_case():
    rules = {case[5] for case in CORPUS}
    assert {
        "names",
        "ca_bundle",
        "region",
        "tags",
        "emulator_guard",
        "cidr",
        "subnet_capacity",
        "alb_subnet",
        "range",
        "region_azs",
        "endpoints",
        "health_check",
        "container_port",
        "fargate_size",
        "log_retention",
        "certificate",
        "kms_key",
        "engine_version",
        "instance_class",
        "identifier",
        "disposable",
        "runtime",
        "handler",
        "lambda_environment",
        "rollout_steps",
        "waits",
        "budget",
        "spec",
    } <= rules


def test_messages_explain_and_fix(source):
    result = check(
        {
            "environment_suffix": "dev",
            "ecs_service_image": "nginx:1.27",
            "ecs_service_health_check_path": "/health",
            "network_vpc_endpoints": ["secretmanager"],
            "ecs_service_cpu": 256,
            "ecs_service_memory": 4096,
            "budget_monthly_usd": 100,
        },
        source,
    )
    by_variable = {e["variable"]: e for e in result["errors"]}
    assert "/health would answer 404" in by_variable["ecs_service_health_check_path"]["message"]
    assert by_variable["ecs_service_health_check_path"]["fix"].startswith("set ecs_service_health_check_path to /")
    assert "did you mean secretsmanager" in by_variable["network_vpc_endpoints"]["message"]
    assert "512, 1024, 2048" in by_variable["ecs_service_memory"]["message"]
    assert "over the budget of $100.00" in by_variable["budget_monthly_usd"]["message"]
    assert "aurora_instances" in by_variable["budget_monthly_usd"]["message"]


def test_an_unquoted_matcher_is_a_code(source):
    variables = dict(PROFILES["local"], bluegreen_emulator=False, ecs_service_health_check_matcher=200)
    assert not [e for e in check(variables, source)["errors"] if e["variable"] == "ecs_service_health_check_matcher"]


def test_string_values_from_extra_vars_are_understood(source):
    # ansible-playbook -e key=value gives strings
    result = check(
        {
            "environment_suffix": "dev",
            "network_az_count": "2",
            "ecs_service_cpu": "512",
            "ecs_service_memory": "1024",
            "aurora_reader_count": "0",
            "environment_disposable": "false",
            "aurora_deletion_protection": "yes",
            "aurora_skip_final_snapshot": "no",
            "rollout_steps": ["25", "100"],
            "budget_monthly_usd": "500",
        },
        source,
    )
    assert result["errors"] == []


def test_long_lived_environment_warnings(source):
    result = check({"environment_suffix": "prod", "environment_disposable": False, "ecs_service_image": "nginx"}, source)
    assert result["errors"] == []
    warned = {(w["variable"], w["rule"]) for w in result["warnings"]}
    assert {
        ("aurora_deletion_protection", "disposable"),
        ("aurora_skip_final_snapshot", "disposable"),
        ("ecs_service_certificate_arn", "certificate"),
        ("ecs_service_image", "image_tag"),
    } <= warned


def test_endpoints_warn_with_their_monthly_cost(source):
    result = check({"environment_suffix": "dev", "network_vpc_endpoints": ["s3", "ecr.api", "ecr.dkr"]}, source)
    assert result["errors"] == []
    (warning,) = [w for w in result["warnings"] if w["rule"] == "endpoint_cost"]
    # 2 interface endpoints x 3 AZs x $0.01/h x 730 h; s3 is a free gateway endpoint
    assert "$43.80/month" in warning["message"] and "$21.90 each" in warning["message"]
    assert "s3" not in warning["message"].split("(")[1].split(")")[0]


def test_unknown_instance_class_warns_and_is_left_out_of_the_estimate(source):
    result = check({"environment_suffix": "dev", "aurora_instance_class": "db.x2g.large", "budget_monthly_usd": 5000}, source)
    assert result["errors"] == []
    assert {(w["variable"], w["rule"]) for w in result["warnings"]} >= {("aurora_instance_class", "instance_class"), ("budget_monthly_usd", "budget")}
    assert any("db.x2g.large" in reason for reason in result["cost"]["unpriced"])


# --- the key policy of custom log-group keys (rule 3) ----------------------------------------

ROOT_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "kms:*", "Resource": "*"}],
}


def with_statement(*statements):
    policy = json.loads(json.dumps(ROOT_ONLY))
    policy["Statement"].extend(statements)
    return policy


def logs_allowed(region="us-east-1", actions=None, condition=None, effect="Allow"):
    statement = preflight.logs_statement(region, ACCOUNT)
    statement["Effect"] = effect
    if actions is not None:
        statement["Action"] = actions
    if condition is not None:
        statement["Condition"] = condition
    return with_statement(statement)


LOG_GROUP_ARN = "arn:aws:logs:us-east-1:%s:log-group:/aws/ecs/app-dev" % ACCOUNT


@pytest.mark.parametrize(
    "policy, missing",
    [
        (logs_allowed(), []),
        (json.dumps(logs_allowed()), []),  # GetKeyPolicy returns the document as text
        (logs_allowed(actions="kms:*", condition={}), []),
        (logs_allowed(condition={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP_ARN}}), []),
        (ROOT_ONLY, list(preflight.LOGS_KMS_ACTIONS)),
        (logs_allowed(region="eu-west-1"), list(preflight.LOGS_KMS_ACTIONS)),
        (logs_allowed(actions=["kms:Encrypt*", "kms:Decrypt*"]), ["kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:DescribeKey"]),
        (
            logs_allowed(condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:%s:log-group:/other/*" % ACCOUNT}}),
            list(preflight.LOGS_KMS_ACTIONS),
        ),
        (
            with_statement(
                preflight.logs_statement("us-east-1", ACCOUNT),
                dict(preflight.logs_statement("us-east-1", ACCOUNT), Sid="Deny", Effect="Deny", Action="kms:Decrypt"),
            ),
            ["kms:Decrypt"],
        ),
    ],
    ids=["doc-statement", "as-text", "kms-star", "arn-equals", "root-only", "other-region", "partial", "other-log-group", "deny-wins"],
)
def test_logs_actions_missing(policy, missing):
    assert preflight.logs_actions_missing(policy, "us-east-1", LOG_GROUP_ARN) == missing


def test_key_policy_findings(source):
    variables = {"environment_suffix": "dev", "ecs_service_log_kms_key_id": KEY_ARN}
    ok = check(variables, source, key_policies={KEY_ARN: {"policy": json.dumps(logs_allowed())}})
    assert ok["errors"] == []

    bad = check(variables, source, key_policies={KEY_ARN: {"policy": json.dumps(ROOT_ONLY)}})
    (error,) = bad["errors"]
    assert error["variable"] == "ecs_service_log_kms_key_id" and error["rule"] == "kms_key_policy"
    assert "/aws/ecs/app-dev" in error["message"]
    statement = json.loads(error["fix"].split("add this statement to the key policy: ", 1)[1])
    assert statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert preflight.logs_actions_missing(with_statement(statement), "us-east-1", LOG_GROUP_ARN) == []

    unreadable = check(variables, source, key_policies={KEY_ARN: {"error": "AccessDeniedException: not allowed"}})
    assert [(e["variable"], e["rule"]) for e in unreadable["errors"]] == [("ecs_service_log_kms_key_id", "kms_key_policy")]
    assert "kms:GetKeyPolicy" in unreadable["errors"][0]["fix"]

    unread = check(variables, source, key_policies={})
    assert unread["errors"] == [] and [w["rule"] for w in unread["warnings"]] == ["kms_key_policy"]
    assert preflight.kms_keys_to_check(preflight.resolve(variables)) == {"ecs_service_log_kms_key_id": KEY_ARN}


# --- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image, repository, tag",
    [
        ("nginx", "nginx", None),
        ("nginx:1.27", "nginx", "1.27"),
        ("docker.io/library/nginx:1.27", "nginx", "1.27"),
        ("public.ecr.aws/nginx/nginx:stable", "nginx", "stable"),
        ("public.ecr.aws/ecs-sample-image/amazon-ecs-sample:latest", "amazon/amazon-ecs-sample", "latest"),
        ("localhost:5000/team/app:2@sha256:" + "a" * 64, "localhost:5000/team/app", "2"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v3", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app", "v3"),
    ],
)
def test_normalize_image(image, repository, tag):
    assert preflight.normalize_image(image) == repository
    assert preflight.image_tag(image) == tag


@pytest.mark.parametrize(
    "url, ok",
    [
        ("http://127.0.0.1:5005", True),
        ("http://127.8.9.1", True),
        ("http://localhost:4566/", True),
        ("http://[::1]:5005", True),
        ("https://127.0.0.1:5005", False),
        ("http://10.0.0.5:5000", False),
        ("http://localhost.example.com:5005", False),
        ("https://kms.us-east-1.amazonaws.com", False),
        ("", False),
        (None, False),
    ],
)
def test_loopback_endpoint(url, ok):
    assert preflight.loopback_endpoint(url) is ok


def test_handler_forms_accepted_as_the_packager_accepts_them(source):
    root = source(
        {
            "entry.py": "def run(event, context, *rest):\n    return 1\n",
            "alias.py": "from entry import run as handler\n",
            "guarded.py": "try:\n    import fast\nexcept ImportError:\n    fast = None\n\nif True:\n    def handler(event, context=None):\n        return 1\n",
            "pkg/__init__.py": "",
            "pkg/entry.py": "def run(event, context):\n    return 1\n",
            "waits.py": "async def handler(event, context):\n    return 1\n",
        }
    )
    files = packaging.code_files(str(root))
    for handler in ("index.handler", "entry.run", "alias.handler", "guarded.handler"):
        assert preflight.find_handler(str(root), handler) is None, handler
        assert packaging.check_handler(files, handler) == handler.split(".", maxsplit=1)[0] + ".py"
    # The packager takes the .py files at the top of the directory only: a handler in a
    # subpackage is refused by both, as is an async one and a missing one.
    for handler, message in (("pkg.entry.run", "pkg/entry.py is not in the package"), ("waits.handler", "is async"),
                             ("entry.missing", "defines no top-level missing")):
        assert message in preflight.find_handler(str(root), handler), handler
        with pytest.raises(packaging.PackagingError, match=message):
            packaging.check_handler(files, handler)
