# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Preflight rules engine: every input of an environment checked before any AWS call.

`run_checks(variables)` takes the environment's variables (missing ones take DEFAULTS) and
returns findings, each a dict {severity, variable, value, rule, message, fix}, severity
"error" (the deploy would fail or leave something that cannot be torn down) or "warning"
(it works, but probably not as intended). Pure Python: no AWS call, no import of the code
it checks. The only outside facts it needs are passed in: the key policies of custom KMS
keys (read by the action plugin with kms:GetKeyPolicy), the account's quotas and Aurora
engine catalogue (rule 8, read by the action plugin when the run is against AWS), the
directories where the migrator source may live, and the controller environment (for the
emulator guard).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import fnmatch
import ipaddress
import json
import os
import re

from ansible_collections.bluegreen.migration.plugins.module_utils import cost as cost_model
from ansible_collections.bluegreen.migration.plugins.module_utils import packaging
from ansible_collections.bluegreen.migration.plugins.module_utils.cidr import (
    CidrError,
    parse_network,
    split_subnets,
    subnet_prefix,
    usable_addresses,
)
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import (
    REGION_PATTERN,
    NamingError,
    resource_names,
    validate_suffix,
)
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import (
    ACM_ARN,
    ALB_FREE_ADDRESSES,
    ALB_SUBNET_MAX_PREFIX,
    AURORA_ENGINE,
    AURORA_MAJOR_SUPPORTED,
    AZ_MAX,
    AZ_MIN,
    DOCKER_HUB_PREFIXES,
    DRAIN_MAX_SECONDS,
    EIP_QUOTA,
    ENDPOINT_SERVICES,
    FARGATE_MEMORY,
    IDENTIFIER_PATTERN,
    IMAGE_ALIASES,
    IMAGE_PATTERN,
    INSTANCE_CLASS_PATTERN,
    KMS_ALIAS,
    KMS_ALIAS_ARN,
    KMS_KEY_ARN,
    KMS_KEY_ID,
    KNOWN_IMAGES,
    LAMBDA_DEPRECATED,
    LAMBDA_PYTHON_RUNTIMES,
    LIMIT_ACTIONS,
    LOG_KMS_VARIABLES,
    LOG_RETENTION_DAYS,
    LOGS_KMS_ACTIONS,
    PRIVATE_RANGES,
    REGION_AZ_COUNT,
    RESERVED_DATABASES,
    RESERVED_TAG_PREFIXES,
    RESERVED_USERNAMES,
    SQL_RESERVED,
    TAG_LIMIT,
    VPC_QUOTA,
)
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import (
    DEFAULTS,
    ERROR,
    OPTIONAL,
    WARNING,
    Findings,
    as_bool,
    as_int,
    as_number,
    boolean,
    int_in_range,
    resolve,
)

# What callers use as preflight.<name>: plugins/action/preflight.py and tests/unit/preflight.
__all__ = [
    "ALB_SUBNET_MAX_PREFIX",
    "AURORA_ENGINE",
    "DEFAULTS",
    "EIP_QUOTA",
    "ERROR",
    "LOGS_KMS_ACTIONS",
    "OPTIONAL",
    "VPC_QUOTA",
    "WARNING",
    "against_aws",
    "as_bool",
    "aws_limits_plan",
    "find_handler",
    "finding_line",
    "format_report",
    "image_tag",
    "kms_keys_to_check",
    "logs_actions_missing",
    "logs_statement",
    "loopback_endpoint",
    "needs_vpc",
    "new_addresses",
    "normalize_image",
    "resolve",
    "resource_names",
    "run_checks",
]


# --- Report values and images -------------------------------------------------------------


def show(value):
    """A value as it appears in a report line."""
    if isinstance(value, str):
        return value if value else "''"
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def normalize_image(image):
    """Repository of an image reference without registry (Docker Hub), tag or digest."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)
    if ":" in last[-1]:
        ref = ref[: len(ref) - len(last[-1]) + last[-1].index(":")]
    for prefix in DOCKER_HUB_PREFIXES:
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    if ref.startswith("library/"):
        ref = ref[len("library/") :]
    return IMAGE_ALIASES.get(ref, ref)


def image_tag(image):
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


# --- Guard -------------------------------------------------------------------------------


def loopback_endpoint(url):
    """True when url is http://<loopback>[:port][/...]."""
    match = re.match(r"^http://(\[[^\]]+\]|[^/:]+)(:\d+)?(/.*)?$", url or "")
    if not match:
        return False
    host = match.group(1).strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_emulator_guard(f, environ):
    if not as_bool(f.variables.get("bluegreen_emulator") or False):
        return True
    url = (environ or {}).get("AWS_ENDPOINT_URL", "")
    if loopback_endpoint(url):
        return True
    f.error(
        "bluegreen_emulator",
        "emulator_guard",
        "this inventory targets the local emulator but AWS_ENDPOINT_URL=%s is not a loopback http URL, so the run could reach real AWS" % (url or "(unset)"),
        "start the emulator and export its environment (python scripts/emulator.py env), or use an inventory for real AWS",
    )
    return False


# --- Shared inputs and names (rule 5) ------------------------------------------------------


def check_environment(f):
    suffix = f.variables.get("environment_suffix")
    names = {}
    region = f.variables.get("aws_region")
    region_ok = isinstance(region, str) and bool(REGION_PATTERN.match(region))
    try:
        validate_suffix(suffix)
        # IAM role names also carry the region; a bad region is reported below, by its own rule.
        names = resource_names(suffix, region if region_ok else "us-east-1")
    except NamingError as e:
        f.error(
            "environment_suffix", "names", str(e), "choose a suffix of lowercase letters, digits and single hyphens, starting with a letter (e.g. dev, pr-42)"
        )
    if not region_ok:
        f.error(
            "aws_region", "region", "aws_region must be a region code like us-east-1", "set aws_region to the region to deploy to (e.g. us-east-1, eu-west-1)"
        )
    boolean(f, "environment_disposable")
    tags = f.variables.get("bluegreen_tags")
    if tags is None:
        tags = {}
    if not isinstance(tags, dict):
        f.error("bluegreen_tags", "tags", "bluegreen_tags must be a mapping of tag key to value", "write bluegreen_tags as {Key: value, ...}")
    else:
        if len(tags) > TAG_LIMIT - 3:
            f.error(
                "bluegreen_tags",
                "tags",
                "%d tags plus the 3 the collection adds exceed AWS's %d per resource" % (len(tags), TAG_LIMIT),
                "keep at most %d entries" % (TAG_LIMIT - 3),
            )
        for key, value in tags.items():
            if not isinstance(key, str) or not key or len(key) > 128:
                f.error("bluegreen_tags", "tags", "tag key %r must be a string of 1 to 128 characters" % (key,), "shorten or rename the key")
            elif key.lower().startswith(RESERVED_TAG_PREFIXES):
                f.error(
                    "bluegreen_tags", "tags", "tag key %r uses a reserved prefix (aws: is AWS's, bluegreen: is set by the collection)" % key, "rename the key"
                )
            if isinstance(value, (dict, list)) or (value is not None and len(str(value)) > 256):
                f.error("bluegreen_tags", "tags", "tag %r must have a scalar value of at most 256 characters" % (key,), "use a short string value")
    return names


# --- Network ---------------------------------------------------------------------------------


def check_network(f):
    az_count = as_int(f.variables.get("network_az_count"))
    region = f.variables.get("aws_region")
    if az_count is None or az_count < 1 or az_count > AZ_MAX:
        f.error("network_az_count", "range", "network_az_count must be a whole number from %d to %d" % (AZ_MIN, AZ_MAX), "set network_az_count to 2 or 3")
        az_count = None
    elif az_count < AZ_MIN:
        f.error(
            "network_az_count",
            "range",
            "an Application Load Balancer and an Aurora subnet group both need subnets in at least 2 AZs",
            "set network_az_count to 2 or more",
        )
        az_count = None
    elif region in REGION_AZ_COUNT and az_count > REGION_AZ_COUNT[region]:
        f.error(
            "network_az_count",
            "region_azs",
            "%s has %d availability zones, fewer than network_az_count=%d" % (region, REGION_AZ_COUNT[region], az_count),
            "set network_az_count to at most %d" % REGION_AZ_COUNT[region],
        )
    cidr = f.variables.get("network_vpc_cidr")
    if az_count:
        try:
            split_subnets(cidr, az_count)
            network = ipaddress.ip_network(cidr)
            if not any(network.subnet_of(r) for r in PRIVATE_RANGES):
                f.warning(
                    "network_vpc_cidr",
                    "cidr",
                    "%s is not in a private range (10/8, 172.16/12, 192.168/16, 100.64/10)" % cidr,
                    "use a private range such as 10.0.0.0/16",
                )
            check_alb_subnets(f, network, az_count)
            desired = as_int(f.variables.get("ecs_service_desired_count"))
            if desired:
                capacity = usable_addresses(subnet_prefix(network.prefixlen, az_count)) * az_count
                needed = 2 * desired + 2  # both colors during a rollout, the migrator's ENIs
                if capacity < needed:
                    f.error(
                        "network_vpc_cidr",
                        "subnet_capacity",
                        "the private subnets of %s hold %d task addresses, a rollout needs %d (2 colors x %d tasks + migrator)"
                        % (cidr, capacity, needed, desired),
                        "use a larger network_vpc_cidr or lower ecs_service_desired_count",
                    )
        except CidrError as e:
            f.error("network_vpc_cidr", "cidr", str(e), "use a private IPv4 block from /16 to /24, e.g. 10.0.0.0/16")
    if f.variables.get("network_nat_gateways") not in ("single", "per_az"):
        f.error("network_nat_gateways", "choice", "network_nat_gateways must be single or per_az", "single for dev/test (one NAT), per_az for production")
    check_endpoints(f, az_count)
    ingress = f.variables.get("network_ingress_cidrs")
    if not isinstance(ingress, list):
        f.error("network_ingress_cidrs", "cidr", "network_ingress_cidrs must be a list of CIDR blocks", "write it as a list, e.g. [0.0.0.0/0]")
    elif not ingress:
        f.warning(
            "network_ingress_cidrs", "cidr", "network_ingress_cidrs is empty: nobody can reach the load balancer", "list the client CIDRs, e.g. [0.0.0.0/0]"
        )
    else:
        for block in ingress:
            try:
                if not isinstance(block, str) or "/" not in block:
                    raise ValueError("no /prefix")
                ipaddress.ip_network(block, strict=True)
            except ValueError as e:
                f.error(
                    "network_ingress_cidrs",
                    "cidr",
                    "%r is not a valid CIDR block (%s)" % (block, e),
                    "use network addresses with a prefix, e.g. 203.0.113.0/24",
                    value=block,
                    use_value=True,
                )


def nat_gateway_count(nat_gateways, az_count):
    """NAT gateways (one Elastic IP each) of the network role's layout, or None for bad inputs."""
    if nat_gateways == "single":
        return 1
    if nat_gateways == "per_az" and az_count:
        return az_count
    return None


def check_alb_subnets(f, network, az_count):
    """The ALB lives in the public subnets: each at least a /27 with 8 free addresses."""
    public_prefix = subnet_prefix(network.prefixlen, az_count)
    # A NAT gateway takes one address of the public subnet it sits in (per_az: of each).
    nat_in_subnet = 1 if f.variables.get("network_nat_gateways") in ("single", "per_az") else 0
    free = usable_addresses(public_prefix) - nat_in_subnet
    if public_prefix <= ALB_SUBNET_MAX_PREFIX and free >= ALB_FREE_ADDRESSES:
        return
    # The same layout function the network role uses: prefix bits added by the split.
    smallest = ALB_SUBNET_MAX_PREFIX - subnet_prefix(0, az_count)
    example = ipaddress.ip_network((str(network.network_address), smallest), strict=False)
    fewer = [n for n in range(AZ_MIN, az_count) if subnet_prefix(network.prefixlen, n) <= ALB_SUBNET_MAX_PREFIX]
    f.error(
        "network_vpc_cidr",
        "alb_subnet",
        "with %d AZs the VPC %s is cut into /%d subnets (%d usable addresses, %d free after the NAT gateway); an Application Load Balancer "
        "needs public subnets of at least /%d with at least %d free addresses, so creating the load balancer would fail"
        % (az_count, network, public_prefix, usable_addresses(public_prefix), free, ALB_SUBNET_MAX_PREFIX, ALB_FREE_ADDRESSES),
        "use a /%d or larger network_vpc_cidr (e.g. %s)%s" % (smallest, example, ", or network_az_count: %d" % fewer[-1] if fewer else ""),
    )


def check_endpoints(f, az_count):
    endpoints = f.variables.get("network_vpc_endpoints")
    if endpoints is None:
        return
    if not isinstance(endpoints, list):
        f.error(
            "network_vpc_endpoints",
            "endpoints",
            "network_vpc_endpoints must be a list of service names",
            "write it as a list, e.g. [s3, secretsmanager], or [] for none",
        )
        return
    seen = set()
    for service in endpoints:
        if service not in ENDPOINT_SERVICES:
            close = difflib.get_close_matches(str(service), ENDPOINT_SERVICES, n=1)
            f.error(
                "network_vpc_endpoints",
                "endpoints",
                "%r is not an endpoint service this collection knows%s" % (service, " (did you mean %s?)" % close[0] if close else ""),
                "use the short service name (s3, ecr.api, ecr.dkr, logs, secretsmanager ...) or remove it",
                value=service,
                use_value=True,
            )
        elif service in seen:
            f.error("network_vpc_endpoints", "endpoints", "%s is listed twice" % service, "list each service once", value=service, use_value=True)
        seen.add(service)
    interface = [s for s in endpoints if s in ENDPOINT_SERVICES and s not in cost_model.GATEWAY_ENDPOINT_SERVICES]
    if interface and az_count:
        each = cost_model.endpoint_monthly(az_count)
        f.warning(
            "network_vpc_endpoints",
            "endpoint_cost",
            "%d interface endpoint(s) (%s) cost $%.2f/month ($%.2f each across %d AZs); the NAT gateway already reaches these services"
            % (len(interface), ", ".join(interface), each * len(interface), each, az_count),
            "keep them only if traffic must not leave the VPC; s3 and dynamodb are free as gateway endpoints",
        )


# --- ECS service (rule 1) ------------------------------------------------------------------


def check_ecs(f):
    port = int_in_range(f, "ecs_service_container_port", 1, 65535, "a TCP port")
    image = f.variables.get("ecs_service_image")
    path = f.variables.get("ecs_service_health_check_path")
    known = None
    if not isinstance(image, str) or not image or not IMAGE_PATTERN.match(image):
        f.error(
            "ecs_service_image", "image", "ecs_service_image must be an image reference like registry/repository:tag", "set ecs_service_image, e.g. nginx:1.27"
        )
    else:
        tag = image_tag(image)
        if "@" not in image and tag in (None, "latest") and as_bool(f.variables.get("environment_disposable")) is False:
            f.warning(
                "ecs_service_image",
                "image_tag",
                "%s has no pinned tag in a long-lived environment, so a rollback redeploys whatever :latest is then" % image,
                "pin a version tag or a digest",
            )
        known = KNOWN_IMAGES.get(normalize_image(image))
    path_ok = isinstance(path, str) and path.startswith("/") and len(path) <= 1024 and " " not in path
    if not path_ok:
        f.error(
            "ecs_service_health_check_path",
            "health_check",
            "the health check path must start with / (at most 1024 characters, no spaces)",
            "set e.g. ecs_service_health_check_path: /",
        )
    if known and path_ok:
        served = known["paths"]
        if served != "*" and path.split("?", 1)[0] not in served:
            f.error(
                "ecs_service_health_check_path",
                "health_check",
                "%s serves %s on %s; %s would answer 404, so every target stays unhealthy and the deploy never settles"
                % (normalize_image(image), known["what"], ", ".join(served), path),
                "set ecs_service_health_check_path to %s, or use an image that serves %s" % (served[0], path),
            )
        if port is not None and port != known["port"]:
            f.error(
                "ecs_service_container_port",
                "container_port",
                "%s listens on port %d, not %d: the target group would probe a closed port" % (normalize_image(image), known["port"], port),
                "set ecs_service_container_port: %d" % known["port"],
            )
    other_port = f.variables.get("network_app_port")
    if other_port is not None and port is not None and as_int(other_port) != port:
        f.error(
            "ecs_service_container_port",
            "container_port",
            "ecs_service_container_port=%d but network_app_port=%s: the security groups must open the container's port" % (port, other_port),
            "set network_app_port to %d (or change both)" % port,
        )
    cpu = as_int(f.variables.get("ecs_service_cpu"))
    memory = as_int(f.variables.get("ecs_service_memory"))
    if cpu not in FARGATE_MEMORY:
        f.error(
            "ecs_service_cpu",
            "fargate_size",
            "ecs_service_cpu must be one of the Fargate sizes %s (CPU units)" % ", ".join(str(c) for c in FARGATE_MEMORY),
            "set ecs_service_cpu: 256",
        )
    elif memory not in FARGATE_MEMORY[cpu]:
        allowed = FARGATE_MEMORY[cpu]
        f.error(
            "ecs_service_memory",
            "fargate_size",
            "Fargate has no task with cpu %d and memory %s; with cpu %d memory is %s" % (cpu, f.variables.get("ecs_service_memory"), cpu, _ranges(allowed)),
            "set ecs_service_memory to one of those values (e.g. %d)" % allowed[0],
        )
    int_in_range(f, "ecs_service_desired_count", 1, 1000, "tasks of the live color; 0 leaves the load balancer without targets")
    retention = f.variables.get("ecs_service_log_retention_days")
    if retention is not None and as_int(retention) not in LOG_RETENTION_DAYS:
        f.error(
            "ecs_service_log_retention_days",
            "log_retention",
            "CloudWatch Logs accepts only these retention periods: %s days" % ", ".join(str(d) for d in LOG_RETENTION_DAYS),
            "pick the nearest allowed value (e.g. 30), or null to keep logs forever",
        )
    cert = f.variables.get("ecs_service_certificate_arn")
    region = f.variables.get("aws_region")
    if cert:
        match = ACM_ARN.match(str(cert))
        if not match:
            f.error(
                "ecs_service_certificate_arn",
                "certificate",
                "not an ACM certificate ARN",
                "use arn:aws:acm:<region>:<account>:certificate/<id>, or null for HTTP only",
            )
        elif match.group("region") != region:
            f.error(
                "ecs_service_certificate_arn",
                "certificate",
                "the certificate is in %s but the load balancer is in %s; an ALB only uses certificates of its own region" % (match.group("region"), region),
                "request or import the certificate in %s" % region,
            )
    elif as_bool(f.variables.get("environment_disposable")) is False:
        f.warning(
            "ecs_service_certificate_arn",
            "certificate",
            "a long-lived environment serves plain HTTP",
            "set ecs_service_certificate_arn to an ACM certificate of %s" % region,
        )


def _ranges(values):
    if len(values) > 4:
        return "%d to %d in steps of %d" % (values[0], values[-1], values[1] - values[0])
    return ", ".join(str(v) for v in values)


# --- KMS keys on log groups (rule 3) --------------------------------------------------------


def kms_keys_to_check(variables):
    """{variable: key ARN} of the custom log-group keys whose key policy preflight must read."""
    keys = {}
    for name in LOG_KMS_VARIABLES:
        value = variables.get(name)
        if isinstance(value, str) and KMS_KEY_ARN.match(value):
            keys[name] = value
    return keys


def logs_statement(region, account):
    """The key policy statement CloudWatch Logs needs to use a key in region."""
    return {
        "Sid": "AllowCloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logs.%s.amazonaws.com" % region},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:%s:%s:log-group:*" % (region, account)}},
    }


def _listify(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statement_principal_matches(statement, service):
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return service in _listify(principal.get("Service")) or "*" in _listify(principal.get("AWS"))


def _statement_condition_allows(statement, log_group_arn):
    """False only when a logs:arn encryption-context condition excludes our log group."""
    for operator, clauses in (statement.get("Condition") or {}).items():
        if not isinstance(clauses, dict):
            continue
        for key, patterns in clauses.items():
            if key.lower() != "kms:encryptioncontext:aws:logs:arn":
                continue
            if operator.lower().startswith(("arnlike", "stringlike")):
                if not any(fnmatch.fnmatchcase(log_group_arn, p) for p in _listify(patterns)):
                    return False
            elif operator.lower().startswith(("arnequals", "stringequals")):
                if log_group_arn not in _listify(patterns):
                    return False
    return True


def logs_actions_missing(policy, region, log_group_arn):
    """Which of LOGS_KMS_ACTIONS the key policy does not allow the region's Logs service."""
    if isinstance(policy, str):
        policy = json.loads(policy)
    service = "logs.%s.amazonaws.com" % region
    allowed, denied = set(), set()
    for statement in _listify((policy or {}).get("Statement")):
        if not isinstance(statement, dict) or not _statement_principal_matches(statement, service):
            continue
        if not _statement_condition_allows(statement, log_group_arn):
            continue
        patterns = [a.lower() for a in _listify(statement.get("Action"))]
        hits = set(a for a in LOGS_KMS_ACTIONS if any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns))
        (denied if statement.get("Effect") == "Deny" else allowed).update(hits)
    return [a for a in LOGS_KMS_ACTIONS if a not in allowed or a in denied]


def check_kms(f, names, key_policies):
    region = f.variables.get("aws_region")
    for name in ("aurora_kms_key_id", "ecs_service_log_kms_key_id", "migrator_lambda_log_kms_key_id"):
        value = f.variables.get(name)
        if value in (None, ""):
            continue
        text = str(value)
        arn = KMS_KEY_ARN.match(text) or KMS_ALIAS_ARN.match(text)
        if name in LOG_KMS_VARIABLES:
            if not KMS_KEY_ARN.match(text):
                f.error(
                    name,
                    "kms_key",
                    "CloudWatch Logs needs the full key ARN; key ids and aliases are rejected",
                    "use arn:aws:kms:%s:<account>:key/<key-id>, or null for the service-owned key" % region,
                )
                continue
        elif not (arn or KMS_KEY_ID.match(text) or KMS_ALIAS.match(text)):
            f.error(name, "kms_key", "not a KMS key id, key ARN, alias or alias ARN", "use the key ARN, or null for the AWS managed key")
            continue
        if arn and arn.group("region") != region:
            f.error(
                name,
                "kms_key",
                "the key is in %s but the environment is in %s; KMS keys are regional" % (arn.group("region"), region),
                "use a key of %s" % region,
            )
            continue
        if name not in LOG_KMS_VARIABLES:
            continue
        key = KMS_KEY_ARN.match(text)
        log_group = names.get(LOG_KMS_VARIABLES[name], "*")
        log_group_arn = "arn:aws:logs:%s:%s:log-group:%s" % (region, key.group("account"), log_group)
        statement = json.dumps(logs_statement(region, key.group("account")), sort_keys=True)
        fetched = (key_policies or {}).get(text)
        if fetched is None:
            f.warning(
                name,
                "kms_key_policy",
                "the key policy was not read, so it is not known whether CloudWatch Logs may use the key",
                "run preflight with kms:GetKeyPolicy permission",
            )
        elif fetched.get("error"):
            f.error(
                name,
                "kms_key_policy",
                "cannot read the key policy (%s), so the log group %s may fail to be created" % (fetched["error"], log_group),
                "allow kms:GetKeyPolicy on the key to the deploying identity, or set %s to null" % name,
            )
        else:
            try:
                missing = logs_actions_missing(fetched.get("policy"), region, log_group_arn)
            except (TypeError, ValueError, AttributeError) as e:
                f.error(name, "kms_key_policy", "the key policy is not valid JSON (%s)" % e, "fix the key policy")
                continue
            if missing:
                f.error(
                    name,
                    "kms_key_policy",
                    "the key policy does not let logs.%s.amazonaws.com use the key for %s (missing %s); creating the log group would fail with AccessDenied"
                    % (region, log_group, ", ".join(missing)),
                    "add this statement to the key policy: %s" % statement,
                )


# --- Aurora (rule 6 and inputs) ------------------------------------------------------------


def check_aurora(f):
    version = f.variables.get("aurora_engine_version")
    if isinstance(version, float):
        f.error(
            "aurora_engine_version",
            "engine_version",
            "the version was read as the number %r (YAML drops trailing zeros, 15.10 becomes 15.1)" % version,
            'quote it: aurora_engine_version: "%s"' % version,
        )
    elif not isinstance(version, str) or not re.match(r"^[0-9]+(\.[0-9]+)?$", version):
        f.error(
            "aurora_engine_version",
            "engine_version",
            "aurora_engine_version must look like 16.4 (major.minor) or 16",
            'set a quoted Aurora PostgreSQL version, e.g. "16.4"',
        )
    else:
        major = int(version.split(".")[0])
        if major < AURORA_MAJOR_SUPPORTED[0]:
            f.error(
                "aurora_engine_version",
                "engine_version",
                "Aurora PostgreSQL %d is past standard support (new clusters are refused or billed extended support)" % major,
                "use %d or later" % AURORA_MAJOR_SUPPORTED[-2],
            )
        elif major > AURORA_MAJOR_SUPPORTED[-1]:
            f.warning(
                "aurora_engine_version",
                "engine_version",
                "Aurora PostgreSQL %d is newer than this collection was tested with" % major,
                "check that the region offers it",
            )
    instance_class = f.variables.get("aurora_instance_class")
    if not isinstance(instance_class, str) or not INSTANCE_CLASS_PATTERN.match(instance_class):
        f.error(
            "aurora_instance_class",
            "instance_class",
            "aurora_instance_class must look like db.<family>.<size> (e.g. db.t4g.medium) or db.serverless",
            "set e.g. db.t3.medium",
        )
    elif instance_class != "db.serverless" and instance_class not in cost_model.AURORA_INSTANCE_HOUR:
        f.warning(
            "aurora_instance_class",
            "instance_class",
            "no price known for %s, so the cost estimate leaves Aurora out" % instance_class,
            "use one of %s, or add its price to plugins/module_utils/cost.py" % ", ".join(sorted(cost_model.AURORA_INSTANCE_HOUR)),
        )
    int_in_range(f, "aurora_reader_count", 0, 15, "Aurora allows 15 replicas")
    database = f.variables.get("aurora_database_name")
    if not isinstance(database, str) or not IDENTIFIER_PATTERN.match(database):
        f.error(
            "aurora_database_name",
            "identifier",
            "the database name must start with a letter and hold 1 to 63 letters, digits or _",
            "set e.g. aurora_database_name: app",
        )
    elif database.lower() in RESERVED_DATABASES or database.lower() in SQL_RESERVED:
        f.error("aurora_database_name", "identifier", "%s is reserved in PostgreSQL or by RDS" % database, "choose another name, e.g. app")
    username = f.variables.get("aurora_master_username")
    if not isinstance(username, str) or not IDENTIFIER_PATTERN.match(username):
        f.error(
            "aurora_master_username",
            "identifier",
            "the master username must start with a letter and hold 1 to 63 letters, digits or _",
            "set e.g. aurora_master_username: app_admin",
        )
    elif username.lower() in RESERVED_USERNAMES or username.lower() in SQL_RESERVED or username.lower().startswith(("rds", "pg_")):
        f.error(
            "aurora_master_username",
            "identifier",
            "%s is reserved by PostgreSQL or RDS, or is a well-known account name" % username,
            "choose an application-specific name, e.g. app_admin",
        )
    disposable = as_bool(f.variables.get("environment_disposable"))
    protection = boolean(f, "aurora_deletion_protection")
    skip_snapshot = boolean(f, "aurora_skip_final_snapshot")
    if disposable:
        if protection:
            f.error(
                "aurora_deletion_protection",
                "disposable",
                "deletion protection is on for a disposable environment, so teardown cannot delete the cluster",
                "set aurora_deletion_protection: false, or environment_disposable: false for a long-lived environment",
            )
        if skip_snapshot is False:
            f.error(
                "aurora_skip_final_snapshot",
                "disposable",
                "a final snapshot is requested for a disposable environment; teardown would leave a snapshot behind (and its storage bill)",
                "set aurora_skip_final_snapshot: true, or environment_disposable: false",
            )
    elif disposable is False:
        if protection is False:
            f.warning(
                "aurora_deletion_protection", "disposable", "a long-lived environment without deletion protection", "set aurora_deletion_protection: true"
            )
        if skip_snapshot:
            f.warning(
                "aurora_skip_final_snapshot",
                "disposable",
                "a long-lived environment deleted without a final snapshot loses its data",
                "set aurora_skip_final_snapshot: false",
            )


# --- Migrator Lambda (rule 7) --------------------------------------------------------------


def resolve_source_dir(value, search_dirs):
    """First existing directory for value (absolute, or relative to each of search_dirs)."""
    if os.path.isabs(value):
        return value if os.path.isdir(value) else None, [value]
    tried = [os.path.normpath(os.path.join(base, value)) for base in search_dirs if base]
    for candidate in tried:
        if os.path.isdir(candidate):
            return candidate, tried
    return None, tried


def find_handler(source_dir, handler):
    """None when handler (module.function) is callable from the package built of source_dir,
    else why not: the packager's own check, on the files it would package."""
    try:
        files = packaging.code_files(source_dir)
    except (OSError, packaging.PackagingError) as e:
        return str(e)
    return packaging.handler_problem(files, handler)


def check_migrator(f, search_dirs):
    runtime = f.variables.get("migrator_lambda_runtime")
    if runtime not in LAMBDA_PYTHON_RUNTIMES:
        why = "is deprecated by Lambda (no new functions or updates)" if runtime in LAMBDA_DEPRECATED else "is not a Python runtime Lambda supports"
        f.error(
            "migrator_lambda_runtime",
            "runtime",
            "%s %s; the migrator needs one of %s" % (runtime, why, ", ".join(LAMBDA_PYTHON_RUNTIMES)),
            "set migrator_lambda_runtime: python3.12",
        )
    handler = f.variables.get("migrator_lambda_handler")
    if not isinstance(handler, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$", handler):
        f.error("migrator_lambda_handler", "handler", "the handler must be module.function (e.g. index.handler)", "set migrator_lambda_handler: index.handler")
        return
    # Empty means the collection's own migrator package.
    source = f.variables.get("migrator_lambda_source_dir") or "migrator"
    if not isinstance(source, str) or not source:
        f.error(
            "migrator_lambda_source_dir",
            "handler",
            "migrator_lambda_source_dir must name the directory packaged into the Lambda",
            "set it to the migrator source directory (default: migrator)",
        )
        return
    found, tried = resolve_source_dir(source, search_dirs)
    if found is None:
        f.error(
            "migrator_lambda_source_dir",
            "handler",
            "the migrator source directory does not exist (looked in %s)" % ", ".join(tried),
            "point migrator_lambda_source_dir at the directory holding %s.py" % handler.rsplit(".", 1)[0].replace(".", "/"),
        )
        return
    problem = find_handler(found, handler)
    if problem:
        f.error(
            "migrator_lambda_handler",
            "handler",
            problem + "; the function would fail on every invocation with Runtime.ImportModuleError/HandlerNotFound",
            "make migrator_lambda_handler name a def in the packaged code",
        )


def check_ca_bundle(f, search_dirs):
    """verify-full checks the database's certificate against the packaged bundle: Lambda's own
    trust store does not carry the RDS certificate authorities."""
    mode = f.variables.get("migrator_lambda_sslmode") or "require"
    bundle = f.variables.get("migrator_lambda_ca_bundle") or ""
    fix = "download the RDS global bundle (global-bundle.pem, Amazon RDS user guide: Using SSL/TLS) and set migrator_lambda_ca_bundle to its path"
    if not bundle:
        if mode == "verify-full":
            f.error(
                "migrator_lambda_ca_bundle",
                "ca_bundle",
                "migrator_lambda_sslmode is verify-full but no CA bundle is given; Lambda's trust store does not carry "
                "the RDS certificate authorities, so every connection would fail certificate verification",
                fix + ", or use migrator_lambda_sslmode: require (encrypted, not verified)",
            )
        return
    candidates = [os.path.expanduser(bundle)] if os.path.isabs(os.path.expanduser(bundle)) else [os.path.join(base, bundle) for base in search_dirs if base]
    found = next((c for c in candidates if os.path.isfile(c)), None)
    if found is None:
        f.error("migrator_lambda_ca_bundle", "ca_bundle", "CA bundle %s not found (looked at %s)" % (bundle, ", ".join(candidates)), fix)
        return
    with open(found, "rb") as handle:
        text = handle.read().decode("ascii", "replace")
    if "-----BEGIN CERTIFICATE-----" not in text or "PRIVATE KEY" in text:
        f.error("migrator_lambda_ca_bundle", "ca_bundle", "%s holds no PEM certificate (or holds a private key)" % found, fix)


# --- Rollout ---------------------------------------------------------------------------------


def check_rollout(f):
    steps = f.variables.get("rollout_steps")
    fix = "use increasing percentages ending at 100, e.g. [10, 50, 100]"
    if not isinstance(steps, list) or not steps:
        f.error("rollout_steps", "rollout_steps", "rollout_steps must be a non-empty list of percentages", fix)
    else:
        values = [as_int(s) for s in steps]
        if any(v is None or v < 1 or v > 100 for v in values):
            f.error("rollout_steps", "rollout_steps", "every step must be a whole percentage from 1 to 100", fix)
        elif any(values[i + 1] <= values[i] for i in range(len(values) - 1)):
            f.error("rollout_steps", "rollout_steps", "steps must be strictly increasing", fix)
        elif values[-1] != 100:
            f.error("rollout_steps", "rollout_steps", "the last step must be 100, or the new color never takes all traffic", fix)
    int_in_range(f, "rollout_bake_seconds", 0, 86400, "seconds to watch each step")
    int_in_range(f, "rollout_drain_seconds", 0, DRAIN_MAX_SECONDS, "the ALB's deregistration delay limit")


# --- Budget ----------------------------------------------------------------------------------


def check_budget(f, estimate):
    budget = f.variables.get("budget_monthly_usd")
    if budget in (None, ""):
        return
    amount = as_number(budget)
    if amount is None or amount <= 0:
        f.error(
            "budget_monthly_usd", "budget", "budget_monthly_usd must be a positive number of US dollars", "set e.g. budget_monthly_usd: 250, or leave it unset"
        )
        return
    if estimate["unpriced"]:
        f.warning(
            "budget_monthly_usd", "budget", "the estimate leaves out %s" % "; ".join(estimate["unpriced"]), "fix those inputs so the budget check is complete"
        )
    total = estimate["total_monthly_usd"]
    if total > amount:
        top = sorted(estimate["components"], key=lambda line: -line["monthly_usd"])[:3]
        f.error(
            "budget_monthly_usd",
            "budget",
            "the estimate is $%.2f/month, over the budget of $%.2f (largest: %s)"
            % (total, amount, ", ".join("%s $%.2f" % (t["component"], t["monthly_usd"]) for t in top)),
            "raise budget_monthly_usd to at least %d, or shrink the largest components (fewer readers, single NAT, no endpoints)" % (int(total) + 1),
        )


# --- AWS limits (rule 8): quotas and orderability, from read-only calls -----------------------


def against_aws(variables, environ):
    """True when the run reaches AWS itself: not the local inventory (bluegreen_emulator) and no
    loopback AWS_ENDPOINT_URL. An emulator's quotas and engine catalogue are not AWS's."""
    if as_bool(variables.get("bluegreen_emulator") or False):
        return False
    return not loopback_endpoint((environ or {}).get("AWS_ENDPOINT_URL"))


def limits_environment(variables, host=None):
    """One environment as the quota rules see it, or None when its inputs cannot be used (their
    own rules report them): suffix, region, NAT gateway count and the VPC's name and CIDR."""
    suffix = variables.get("environment_suffix")
    region = variables.get("aws_region")
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        return None
    try:
        validate_suffix(suffix)
        names = resource_names(suffix, region)
    except NamingError:
        return None
    az_count = as_int(variables.get("network_az_count"))
    az_count = az_count if az_count and AZ_MIN <= az_count <= AZ_MAX else None
    cidr = variables.get("network_vpc_cidr")
    try:
        split_subnets(cidr, az_count or AZ_MIN)
        cidr = str(parse_network(cidr))
    except CidrError:
        cidr = None
    return {
        "host": host or suffix,
        "suffix": suffix,
        "region": region,
        "nat_gateways": nat_gateway_count(variables.get("network_nat_gateways"), az_count),
        "vpc_name": names["vpc"],
        "vpc_cidr": cidr,
        "aurora_cluster": names["aurora_cluster"],
    }


def aws_limits_plan(variables, peers=()):
    """What rule 8 reads for this environment, or None when it reads nothing.

    peers: the variables of the other environments of the same play batch (forks deploy them
    at the same time); those in the same region share its quotas.
    """
    values = resolve(variables)
    this = limits_environment(values)
    if this is None:
        return None
    together = [this]
    for peer in peers or ():
        other = limits_environment(resolve(peer), host=peer.get("inventory_hostname"))
        if other and other["region"] == this["region"] and other["suffix"] != this["suffix"] and not as_bool(peer.get("bluegreen_emulator") or False):
            together.append(other)
    aurora = None
    version = values.get("aurora_engine_version")
    instance_class = values.get("aurora_instance_class")
    if (
        isinstance(version, str)
        and re.match(r"^[0-9]+(\.[0-9]+)?$", version)
        and isinstance(instance_class, str)
        and INSTANCE_CLASS_PATTERN.match(instance_class)
    ):
        aurora = {"cluster": this["aurora_cluster"], "engine_version": version, "major": version.split(".")[0], "instance_class": instance_class}
    return {"region": this["region"], "suffix": this["suffix"], "environments": together, "aurora": aurora}


def new_addresses(environment, owned):
    """Elastic IPs an environment's NAT gateways still need: its NAT count minus those it owns."""
    if environment["nat_gateways"] is None:
        return 0
    return max(0, environment["nat_gateways"] - owned.get(environment["suffix"], 0))


def needs_vpc(environment, existing):
    """True when the network role would create a VPC: none with its Name tag and CIDR exists."""
    if environment["vpc_cidr"] is None:
        return False
    return not any(vpc.get("name") == environment["vpc_name"] and vpc.get("cidr") == environment["vpc_cidr"] for vpc in existing)


def _shared(region, others, what):
    if not others:
        return ""
    return "; the quota is per region and shared: %d other environment(s) of this run deploy to %s at the same time (%s)%s" % (
        len(others),
        region,
        ", ".join(o["host"] for o in others),
        what,
    )


def _unread(f, variable, rule, group, fact, what):
    error = str(fact.get("error"))
    if "credentials" in error.lower():
        fix = "configure AWS credentials (profile, environment or role) for the run, or pass check_aws_limits: false"
    else:
        fix = "allow %s to the identity running preflight, or pass check_aws_limits: false" % LIMIT_ACTIONS[group]
    f.warning(variable, rule, "could not read %s (%s), so it is not checked" % (what, error), fix)


def check_eip_quota(f, plan, fact):
    this, others = plan["environments"][0], plan["environments"][1:]
    region = plan["region"]
    if fact.get("error"):
        if this["nat_gateways"]:
            _unread(f, "network_nat_gateways", "eip_quota", "eip", fact, "the Elastic IP quota of %s" % region)
        return
    owned = fact.get("owned") or {}
    mine = new_addresses(this, owned)
    theirs = [(o, new_addresses(o, owned)) for o in others]
    theirs = [(o, n) for o, n in theirs if n]
    if not mine or fact.get("limit") is None:
        return
    limit, in_use = fact["limit"], fact["in_use"]
    free = max(0, limit - in_use)
    layout = f.variables.get("network_nat_gateways")
    fix_layout = "set network_nat_gateways: single (one NAT gateway, one address), " if layout == "per_az" else ""
    quota = "the '%s' quota (%s)" % (EIP_QUOTA["name"], EIP_QUOTA["code"])
    if mine > free:
        f.error(
            "network_nat_gateways",
            "eip_quota",
            "%s means %d NAT gateway(s) with one Elastic IP each, %d of them new (this environment owns %d), but %s has %d of its %d "
            "allocated (%s), so AllocateAddress would fail with AddressLimitExceeded%s"
            % (
                layout,
                this["nat_gateways"],
                mine,
                owned.get(this["suffix"], 0),
                region,
                in_use,
                limit,
                fact.get("limit_source"),
                _shared(region, [o for o, _n in theirs], ", needing %d more" % sum(n for _o, n in theirs)),
            ),
            "%srelease unused Elastic IPs in %s, or request an increase of %s" % (fix_layout, region, quota),
        )
    elif mine + sum(n for _o, n in theirs) > free:
        f.warning(
            "network_nat_gateways",
            "eip_quota",
            "this environment's %d new Elastic IP(s) fit (%d of %d allocated in %s), but with the others of this run they need %d and only %d are free%s"
            % (
                mine,
                in_use,
                limit,
                region,
                mine + sum(n for _o, n in theirs),
                free,
                _shared(region, [o for o, _n in theirs], ", so some of their NAT gateways would fail"),
            ),
            "deploy fewer environments at once (serial or --limit), %sor request an increase of %s" % (fix_layout.replace("set ", "use "), quota),
        )


def check_vpc_quota(f, plan, fact):
    this, others = plan["environments"][0], plan["environments"][1:]
    region = plan["region"]
    if fact.get("error"):
        _unread(f, "aws_region", "vpc_quota", "vpc", fact, "the VPCs of %s" % region)
        return
    existing = fact.get("existing") or []
    if not needs_vpc(this, existing) or fact.get("limit") is None:
        return
    theirs = [o for o in others if needs_vpc(o, existing)]
    limit, count = fact["limit"], fact["count"]
    quota = "the '%s' quota (%s)" % (VPC_QUOTA["name"], VPC_QUOTA["code"])
    if count + 1 > limit:
        f.error(
            "aws_region",
            "vpc_quota",
            "environment %s needs a new VPC (none named %s with %s exists) but %s has %d of its %d VPCs (%s), so CreateVpc would fail with "
            "VpcLimitExceeded%s"
            % (this["suffix"], this["vpc_name"], this["vpc_cidr"], region, count, limit, fact.get("limit_source"), _shared(region, theirs, "")),
            "delete an unused VPC in %s (make teardown of an old environment), request an increase of %s, or set aws_region to another region"
            % (region, quota),
        )
    elif count + 1 + len(theirs) > limit:
        f.warning(
            "aws_region",
            "vpc_quota",
            "this environment's new VPC fits (%d of %d VPCs in %s), but with the others of this run %d new VPCs are needed%s"
            % (count, limit, region, 1 + len(theirs), _shared(region, theirs, ", so some of them would fail")),
            "deploy fewer environments at once (serial or --limit), or request an increase of %s" % quota,
        )


def _version_key(version):
    return [int(p) if p.isdigit() else 0 for p in re.split(r"[.-]", version)]


def check_aurora_orderable(f, plan, fact):
    aurora = plan["aurora"]
    region = plan["region"]
    if fact.get("error"):
        _unread(
            f,
            "aurora_engine_version",
            "engine_orderable",
            "aurora",
            fact,
            "whether Aurora PostgreSQL %s is available in %s" % (aurora["engine_version"], region),
        )
        return
    if fact.get("cluster_exists"):
        return  # the role creates nothing: the cluster keeps its version
    version, major = aurora["engine_version"], aurora["major"]
    source = fact.get("source")
    if not fact.get("version_available"):
        versions = sorted(set(fact.get("versions") or []), key=_version_key)
        default = DEFAULTS["aurora_engine_version"]
        if versions:
            keep = ", or leave aurora_engine_version unset for the default %s" % default if default in versions and version != default else ""
            fix = "set aurora_engine_version to one of %s%s" % (", ".join('"%s"' % v for v in versions), keep)
        else:
            fix = "set aurora_engine_version to a version of another major that %s offers (aws rds describe-db-engine-versions --engine %s)" % (
                region,
                AURORA_ENGINE,
            )
        f.error(
            "aurora_engine_version",
            "engine_orderable",
            "Aurora PostgreSQL %s is not available for new clusters in %s (%s); the cluster %s does not exist yet, so CreateDBCluster would be refused. "
            "Available versions of %s%s: %s"
            % (
                version,
                region,
                source,
                aurora["cluster"],
                major,
                " with %s" % aurora["instance_class"] if fact.get("versions_with_class") else "",
                ", ".join(versions) or "none",
            ),
            fix,
        )
    elif fact.get("class_orderable") is False:
        classes = sorted(set(fact.get("classes") or []))
        priced = [c for c in classes if c in cost_model.AURORA_INSTANCE_HOUR or c == "db.serverless"]
        shown = priced or classes[:12]
        f.error(
            "aurora_instance_class",
            "instance_orderable",
            "%s is not offered with Aurora PostgreSQL %s in %s (%s), so the writer could not be created"
            % (aurora["instance_class"], fact.get("resolved_version") or version, region, source),
            "set aurora_instance_class to one of %s, or choose another aurora_engine_version" % (", ".join(shown) or "the classes AWS lists for this version"),
        )


def check_aws_limits(f, plan, facts):
    """Rule 8 from the facts the action plugin read (None: not read, nothing to say)."""
    if not plan or not facts:
        return
    if facts.get("eip") is not None:
        check_eip_quota(f, plan, facts["eip"])
    if facts.get("vpc") is not None:
        check_vpc_quota(f, plan, facts["vpc"])
    if facts.get("aurora") is not None and plan.get("aurora"):
        check_aurora_orderable(f, plan, facts["aurora"])


# --- Entry point -----------------------------------------------------------------------------


def run_checks(variables, key_policies=None, search_dirs=(), environ=None, aws_limits=None, peers=()):
    """Check every input; returns {findings, errors, warnings, names, cost, variables}.

    key_policies: {key ARN: {"policy": document} | {"error": message}} for kms_keys_to_check().
    search_dirs: where a relative migrator_lambda_source_dir is looked up, in order.
    environ: the controller environment (AWS_ENDPOINT_URL for the emulator guard).
    aws_limits: the facts read for aws_limits_plan(variables, peers) (rule 8), None when not read.
    peers: the variables of the other environments of the play batch (see aws_limits_plan).
    """
    values = resolve(variables)
    f = Findings(values)
    check_emulator_guard(f, environ if environ is not None else os.environ)
    names = check_environment(f)
    check_network(f)
    check_ecs(f)
    check_kms(f, names, key_policies)
    check_aurora(f)
    check_migrator(f, search_dirs)
    check_ca_bundle(f, search_dirs)
    check_rollout(f)
    check_aws_limits(f, aws_limits_plan(values, peers) if aws_limits else None, aws_limits)
    estimate = cost_model.estimate(values)
    check_budget(f, estimate)
    return {
        "findings": f.items,
        "errors": [x for x in f.items if x["severity"] == ERROR],
        "warnings": [x for x in f.items if x["severity"] == WARNING],
        "names": names,
        "cost": estimate,
    }


def finding_line(finding):
    """One finding as `variable=value: message -> fix`."""
    return "%s=%s: %s -> %s" % (finding["variable"], show(finding["value"]), finding["message"], finding["fix"])


def format_report(result, title="preflight"):
    """Human-readable report: findings by severity, then the cost table."""
    lines = ["%s: %d error(s), %d warning(s)" % (title, len(result["errors"]), len(result["warnings"]))]
    for finding in result["errors"] + result["warnings"]:
        lines.append("  %-7s [%s] %s" % (finding["severity"].upper(), finding["rule"], finding_line(finding)))
    estimate = result["cost"]
    lines.append(
        "  cost estimate: $%.2f/month (%s list prices, %s)%s"
        % (estimate["total_monthly_usd"], estimate["price_region"], estimate["price_date"], "; " + estimate["note"] if estimate["note"] else "")
    )
    for line in estimate["components"]:
        lines.append("    %-28s %9.2f  %s" % (line["component"], line["monthly_usd"], line["detail"]))
    for reason in estimate["unpriced"]:
        lines.append("    not priced: %s" % reason)
    return "\n".join(lines)
