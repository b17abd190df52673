# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS service inputs (rule 1): the image against what known images serve and where they
listen, the health check path, Fargate sizes, log retention and the ALB certificate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import (
    ACM_ARN,
    DOCKER_HUB_PREFIXES,
    FARGATE_MEMORY,
    IMAGE_ALIASES,
    IMAGE_PATTERN,
    KNOWN_IMAGES,
    LOG_RETENTION_DAYS,
)
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import as_bool, as_int, int_in_range


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


# --- ECS service (rule 1) ------------------------------------------------------------------

# An ALB target group's HTTP success codes: one code, a list or a range, each from 200 to 499.
MATCHER = re.compile(r"^[0-9]{3}(-[0-9]{3})?(,[0-9]{3}(-[0-9]{3})?)*$")


def check_target_group(f):
    """The target groups' health check and deregistration delay as ELB takes them
    (API_CreateTargetGroup, API_ModifyTargetGroup): moto takes any value, ELB refuses the
    target group's write halfway through a deploy."""
    interval = int_in_range(f, "ecs_service_health_check_interval", 5, 300, "ELB checks a target every 5 to 300 s")
    timeout = int_in_range(f, "ecs_service_health_check_timeout", 2, 120, "ELB waits 2 to 120 s for an answer")
    if interval is not None and timeout is not None and timeout >= interval:
        f.error(
            "ecs_service_health_check_timeout",
            "health_check",
            "ecs_service_health_check_timeout=%d must be smaller than ecs_service_health_check_interval=%d: ELB refuses the target group" % (timeout, interval),
            "set ecs_service_health_check_timeout below %d, or raise ecs_service_health_check_interval" % interval,
        )
    for name in ("ecs_service_health_check_healthy_threshold", "ecs_service_health_check_unhealthy_threshold"):
        int_in_range(f, name, 2, 10, "consecutive checks, 2 to 10 on ELB")
    matcher = f.variables.get("ecs_service_health_check_matcher")
    matcher = str(matcher) if isinstance(matcher, int) and not isinstance(matcher, bool) else matcher  # 200 unquoted in YAML
    codes = [int(c) for c in re.split("[,-]", matcher)] if isinstance(matcher, str) and MATCHER.match(matcher) else []
    if not codes or any(c < 200 or c > 499 for c in codes):
        f.error(
            "ecs_service_health_check_matcher",
            "health_check",
            "ecs_service_health_check_matcher must be HTTP codes from 200 to 499: one (200), a list (200,202) or a range (200-299)",
            'set e.g. ecs_service_health_check_matcher: "200"',
        )
    int_in_range(f, "ecs_service_deregistration_delay", 0, 3600, "seconds ELB lets a deregistering target finish, 0 to 3600")


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
    check_target_group(f)
    retention = f.variables.get("ecs_service_log_retention_days")
    if retention is not None and as_int(retention) not in LOG_RETENTION_DAYS:
        f.error(
            "ecs_service_log_retention_days",
            "log_retention",
            "CloudWatch Logs accepts only these retention periods: %s days" % ", ".join(str(d) for d in LOG_RETENTION_DAYS),
            "pick the nearest allowed value (e.g. 30)",
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
