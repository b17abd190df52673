# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place where AWS resource names and tags of an environment are built.

Every name is derived from (component, environment suffix) and checked against the
rules of the AWS service that owns it, so a suffix that would produce an invalid or
truncated name fails before any AWS call instead of halfway through a deploy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

SUFFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
SUFFIX_MAX_LENGTH = 20

TAG_ENVIRONMENT = "bluegreen:environment"
TAG_COMPONENT = "bluegreen:component"

# kind -> (maximum length, allowed pattern, human description of the rule)
KINDS = {
    "generic": (255, r"^[A-Za-z0-9][A-Za-z0-9._:/+=@ -]*$", "a Name tag"),
    "alb": (32, r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$", "an ALB name (letters, digits, hyphens)"),
    "target_group": (32, r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$", "a target group name (letters, digits, hyphens)"),
    "rds": (63, r"^[a-z](?:-?[a-z0-9])*$", "an RDS identifier (lowercase letter first, no double or trailing hyphen)"),
    "rds_snapshot": (255, r"^[a-z](?:-?[a-z0-9])*$", "an RDS snapshot identifier (lowercase letter first, no double or trailing hyphen)"),
    "db_subnet_group": (255, r"^[a-z0-9][a-z0-9 ._-]*$", "a DB subnet group name (lowercase)"),
    "iam_role": (64, r"^[A-Za-z0-9+=,.@_-]+$", "an IAM role name"),
    "iam_policy": (128, r"^[A-Za-z0-9+=,.@_-]+$", "an IAM policy name"),
    "lambda": (64, r"^[A-Za-z0-9_-]+$", "a Lambda function name"),
    "ecs": (255, r"^[A-Za-z0-9_-]+$", "an ECS cluster, service or task family name"),
    "log_group": (512, r"^[A-Za-z0-9._/#-]+$", "a CloudWatch Logs group name"),
    "secret": (512, r"^[A-Za-z0-9/_+=.@-]+$", "a Secrets Manager secret name"),
    "security_group": (255, r"^[A-Za-z0-9 ._:/()#,@\[\]+=&;{}!$*-]+$", "a security group name"),
    "alarm": (255, r"^[A-Za-z0-9 ._:/+=@-]+$", "a CloudWatch alarm name"),
    "sns": (256, r"^[A-Za-z0-9_-]+$", "an SNS topic name"),
    "dynamodb_table": (255, r"^[A-Za-z0-9_.-]{3,}$", "a DynamoDB table name"),
}

# Log group paths are fixed by the service that writes to them.
LOG_GROUP_PREFIXES = {"ecs": "/aws/ecs/", "lambda": "/aws/lambda/"}

# Every named resource of one environment: key -> (component, kind).
CATALOGUE = {
    "vpc": ("vpc", "generic"),
    "igw": ("igw", "generic"),
    "sg_alb": ("alb", "security_group"),
    "sg_app": ("app", "security_group"),
    "sg_migrator": ("migrator", "security_group"),
    "sg_db": ("db", "security_group"),
    "sg_endpoints": ("endpoints", "security_group"),
    "ecs_cluster": ("app", "ecs"),
    "ecs_service_blue": ("app-blue", "ecs"),
    "ecs_service_green": ("app-green", "ecs"),
    "task_family_blue": ("app-blue", "ecs"),
    "task_family_green": ("app-green", "ecs"),
    "ecs_log_group": ("app", "log_group:ecs"),
    "ecs_execution_role": ("app-execution", "iam_role"),
    "ecs_task_role": ("app-task", "iam_role"),
    "alb": ("app", "alb"),
    "target_group_blue": ("app-blue", "target_group"),
    "target_group_green": ("app-green", "target_group"),
    "alarm_topic": ("alarms", "sns"),
    "ecs_secret_policy": ("app-db-secret", "iam_policy"),
    "ecs_alarm_cpu_blue": ("app-blue-cpu", "alarm"),
    "ecs_alarm_cpu_green": ("app-green-cpu", "alarm"),
    "alb_alarm_unhealthy_blue": ("app-blue-unhealthy-hosts", "alarm"),
    "alb_alarm_unhealthy_green": ("app-green-unhealthy-hosts", "alarm"),
    "alb_alarm_5xx_blue": ("app-blue-target-5xx", "alarm"),
    "alb_alarm_5xx_green": ("app-green-target-5xx", "alarm"),
    "aurora_cluster": ("aurora", "rds"),
    "aurora_subnet_group": ("aurora", "db_subnet_group"),
    "aurora_secret": ("aurora-credentials", "secret"),
    "aurora_alarm_cpu": ("aurora-cpu", "alarm"),
    "aurora_alarm_memory": ("aurora-memory", "alarm"),
    "migrator_function": ("migrator", "lambda"),
    "migrator_role": ("migrator", "iam_role"),
    "migrator_log_group": ("migrator", "log_group:lambda"),
    "migrator_secret_policy": ("migrator-db-secret", "iam_policy"),
}


# Resources shared by every environment of an account and region (no suffix in their names):
# key -> (name, kind). The lock table holds one item per environment (environment_lock).
SHARED_CATALOGUE = {
    "lock_table": ("bluegreen-locks", "dynamodb_table"),
}


class NamingError(ValueError):
    """A name that AWS would reject; the message names the variable and the rule."""


def validate_suffix(suffix, variable="environment_suffix"):
    if suffix is None or suffix == "":
        raise NamingError("%s is required: lowercase letters, digits and hyphens, starting with a letter" % variable)
    if not isinstance(suffix, str):
        raise NamingError("%s must be a string, got %s" % (variable, type(suffix).__name__))
    if not SUFFIX_PATTERN.match(suffix) or suffix.endswith("-") or "--" in suffix:
        raise NamingError(
            "%s=%r is invalid: use lowercase letters, digits and single hyphens, starting with a letter "
            "and not ending with a hyphen (e.g. dev, staging, pr-123)" % (variable, suffix)
        )
    if len(suffix) > SUFFIX_MAX_LENGTH:
        raise NamingError("%s=%r is %d characters; at most %d are allowed so every AWS name fits" % (variable, suffix, len(suffix), SUFFIX_MAX_LENGTH))
    return suffix


def utc_stamp(when):
    """A time as a name ends with it, UTC to the second: 20260314-120501 (a naive datetime is
    taken as UTC, as Ansible's now(utc=true) gives it; text is kept as it is)."""
    if isinstance(when, datetime.datetime):
        if when.tzinfo is not None:
            when = when.astimezone(datetime.timezone.utc)
        return when.strftime("%Y%m%d-%H%M%S")
    return str(when)


def resource_name(component, suffix, kind="generic", region=None, stamp=None):
    """Name of `component` in environment `suffix` (and `region`, for a global service's
    resource; and `stamp`, a time, for a name that must not repeat, e.g. a final snapshot),
    valid for `kind` or a NamingError."""
    validate_suffix(suffix)
    if not component or not isinstance(component, str):
        raise NamingError("resource component must be a non-empty string, got %r" % (component,))
    service_prefix = ""
    if kind.startswith("log_group:"):
        service = kind.split(":", 1)[1]
        if service not in LOG_GROUP_PREFIXES:
            raise NamingError("unknown log group service %r; known: %s" % (service, ", ".join(sorted(LOG_GROUP_PREFIXES))))
        service_prefix = LOG_GROUP_PREFIXES[service]
        kind = "log_group"
    if kind not in KINDS:
        raise NamingError("unknown resource kind %r; known: %s" % (kind, ", ".join(sorted(KINDS))))
    max_length, pattern, description = KINDS[kind]
    name = "%s%s-%s" % (service_prefix, component, suffix) + ("-%s" % region if region else "") + ("-%s" % utc_stamp(stamp) if stamp else "")
    if len(name) > max_length:
        raise NamingError(
            "environment_suffix=%r%s makes %s %r %d characters long; the limit is %d, so shorten the suffix to at most %d characters"
            % (suffix, " with aws_region=%r" % region if region else "", description, name, len(name), max_length, len(suffix) - (len(name) - max_length))
        )
    if not re.match(pattern, name):
        raise NamingError("environment_suffix=%r makes %r, which is not valid as %s" % (suffix, name, description))
    return name


def zone_letter(az, index):
    """The letter that ends an AZ's name (us-east-1a: a); the AZ's index in the layout when
    the name ends otherwise."""
    return az[-1] if az and az[-1].isalpha() else str(index)


def zonal_name(component, az, index, suffix):
    """Name of the `component` of one AZ of the layout: public-a-dev, nat-a-dev, eip-nat-a-dev."""
    return resource_name("%s-%s" % (component, zone_letter(az, index)), suffix)


def nat_gateway_names(az, index, suffix):
    """(NAT gateway name, its elastic IP's name) of the NAT subnet in `az`."""
    return zonal_name("nat", az, index, suffix), zonal_name("eip-nat", az, index, suffix)


def route_table_names(azs, nat_layout, suffix):
    """The network's route tables: public, private (one for the single NAT layout, one per AZ for
    per_az) and isolated."""
    private = [resource_name("rt-private", suffix)] if nat_layout == "single" else [zonal_name("rt-private", az, i, suffix) for i, az in enumerate(azs)]
    return {"public": resource_name("rt-public", suffix), "private": private, "isolated": resource_name("rt-isolated", suffix)}


def endpoint_service_short_name(service):
    """ecr.api for com.amazonaws.<region>.ecr.api; a short name is returned as it is."""
    parts = service.split(".")
    return ".".join(parts[3:]) if parts[:2] == ["com", "amazonaws"] and len(parts) > 3 else service


def vpc_endpoint_name(service, suffix):
    """Name of the VPC endpoint of `service` (s3, ecr.api or its full name com.amazonaws.<region>.ecr.api)."""
    return resource_name("vpce-" + endpoint_service_short_name(service).replace(".", "-"), suffix)


# A region code (us-east-1, us-gov-west-1, us-isob-east-1): the one syntax preflight checks too.
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")

# IAM is global, every other service regional: an IAM role name also carries the region, or
# one suffix deployed in two regions would share its roles (and one teardown delete them).
GLOBAL_KINDS = ("iam_role",)


def resource_names(suffix, region):
    """Every resource name of one environment in `region`, keyed as in CATALOGUE."""
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        raise NamingError("aws_region=%r is not a region name such as us-east-1; every global (IAM) name carries it" % (region,))
    return dict((key, resource_name(component, suffix, kind, region if kind in GLOBAL_KINDS else None)) for key, (component, kind) in CATALOGUE.items())


def shared_resource_name(key):
    """Name of a resource shared by the environments of an account and region (SHARED_CATALOGUE)."""
    if key not in SHARED_CATALOGUE:
        raise NamingError("unknown shared resource %r; known: %s" % (key, ", ".join(sorted(SHARED_CATALOGUE))))
    name, kind = SHARED_CATALOGUE[key]
    max_length, pattern, description = KINDS[kind]
    if len(name) > max_length or not re.match(pattern, name):
        raise NamingError("%r is not valid as %s" % (name, description))
    return name


def resource_tags(role, suffix, extra=None, name=None):
    """Tags for a resource of `role` in environment `suffix`; `extra` are the user's bluegreen_tags."""
    validate_suffix(suffix)
    tags = dict(extra or {})
    tags[TAG_ENVIRONMENT] = suffix
    tags[TAG_COMPONENT] = role
    if name:
        tags["Name"] = name
    return tags


# Region prefixes of the partitions other than "aws" (China, GovCloud, the ISO regions).
PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"), ("eusc-", "aws-eusc"))


def aws_partition(region):
    """The ARN partition of a region: aws, aws-cn, aws-us-gov ... (ARNs are never hard-coded)."""
    if not region:
        raise NamingError("aws_region is empty; the ARN partition comes from it")
    return next((partition for prefix, partition in PARTITIONS if region.startswith(prefix)), "aws")
