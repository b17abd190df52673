# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ecs_service role's plan beside the load balancer (module_utils/load_balancer.py): its
target groups, log group, cluster, alarm topic, alarms, task definitions and services, each compared with the wanted state
by the same functions the writing modules use, so the role runs a writer only for what differs.
Also builds, from the role's declared settings, where the tier lives (its inputs, else what the
role found by tag and name), each color's target group, task definition and service, and the
alarm definitions (three kinds per color), for the plan and for the writers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils import ecs_services
from ansible_collections.bluegreen.migration.plugins.module_utils.cloudwatch import AlarmDefinitionError
from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils import sns
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import tag_drift
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import DIFFERS
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import KNOWN_AFTER_CREATE
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import update_or_nothing

# ---------------------------------------------------------------- desired state


class TierSpecError(ValueError):
    """A declared setting of the application tier lacks or mistypes a key."""


def placement(given, found_vpcs=None, found_subnets=None, found_security_groups=None, security_group_names=None):
    """Where the tier lives: each key of `given` (vpc_id, public_subnet_ids, private_subnet_ids,
    alb_security_group_ids, app_security_group_ids) when set, otherwise what was found by tag and
    name: the registered answers of amazon.aws ec2_vpc_net_info (`vpcs`), ec2_vpc_subnet_info
    (`subnets`, tier from the `bluegreen:tier` tag, ids sorted) and ec2_security_group_info
    (`security_groups`, by the names in `security_group_names`: {alb, app}). A find that did not
    run (skipped, or not registered) gives nothing."""
    vpcs = (found_vpcs or {}).get("vpcs") or []
    subnets = (found_subnets or {}).get("subnets") or []
    groups = (found_security_groups or {}).get("security_groups") or []
    names = security_group_names or {}

    def tier(name):
        return sorted(s["id"] for s in subnets if (s.get("tags") or {}).get("bluegreen:tier") == name)

    def group(key):
        return [g["group_id"] for g in groups if names.get(key) and g.get("group_name") == names[key]]

    found = {
        "vpc_id": vpcs[0]["id"] if vpcs else "",
        "public_subnet_ids": tier("public"),
        "private_subnet_ids": tier("private"),
        "alb_security_group_ids": group("alb"),
        "app_security_group_ids": group("app"),
    }
    return {key: given.get(key) or value for key, value in found.items()}


def container_secrets(secret_arn, keys):
    """ECS `secrets` of the container: each environment variable of `keys` (name -> JSON key of the
    secret) read from that key of the secret; none without a secret."""
    if not secret_arn:
        return []
    return [{"name": name, "value_from": "%s:%s::" % (secret_arn, key)} for name, key in keys.items()]


def color_specs(spec):
    """Each color's target group, task definition and service, as the plan and the writers take them.

    `spec`: {colors, names (<kind>_<color> -> name), tags, target_group (the target group's options
    but color, name and tags), task_definition (cpu, memory, network_mode, requires_compatibilities,
    container: {name, image, port, environment, secret_arn, secret_keys, log_group, region}),
    service (the service's options but color, name and tags)}. Each resource is named by the naming
    function's name for its color and tagged with it; a container knows its color
    (BLUEGREEN_COLOR) and logs under it. A spec that lacks or mistypes a key raises TierSpecError."""
    try:
        return _color_specs(spec)
    except (KeyError, TypeError, AttributeError) as e:
        raise TierSpecError("the application tier's settings lack or mistype %s" % e) from e


def _color_specs(spec):
    names, tags = spec["names"], spec["tags"]
    definition, container = dict(spec["task_definition"]), spec["task_definition"]["container"]
    del definition["container"]
    secrets = container_secrets(container["secret_arn"], container["secret_keys"])
    specs = {"target_groups": [], "task_definitions": [], "services": []}

    def named(kind, color, options):
        name = names["%s_%s" % (kind, color)]
        return dict(options, color=color, tags=dict(tags, Name=name, **{"bluegreen:color": color})), name

    for color in spec["colors"]:
        group, name = named("target_group", color, spec["target_group"])
        specs["target_groups"].append(dict(group, name=name))
        service, name = named("ecs_service", color, spec["service"])
        specs["services"].append(dict(service, name=name))
        family, name = named("task_family", color, definition)
        family["family"] = name
        family["containers"] = [
            {
                "name": container["name"],
                "image": container["image"],
                "essential": True,
                "port_mappings": [{"container_port": int(container["port"])}],
                "environment": dict(container["environment"], BLUEGREEN_COLOR=color),
                "secrets": secrets,
                "log_configuration": {
                    "log_driver": "awslogs",
                    "options": {"awslogs-group": container["log_group"], "awslogs-region": container["region"], "awslogs-stream-prefix": color},
                },
            }
        ]
        specs["task_definitions"].append(family)
    return specs


# ---------------------------------------------------------------- target groups


def plan_target_group(wanted, current):
    """(changes, apply) of one target group: `wanted` holds the elb_target_group options,
    `current` elbv2.read_target_group()'s answer (None when missing). A setting AWS cannot
    change in place is a replace, which the writer refuses with the reason."""
    if current is None:
        desired = dict((key, wanted.get(key)) for key in ("protocol", "port", "vpc_id", "target_type", "health_check", "deregistration_delay", "tags"))
        return [change("target group", wanted["name"], "create", created(desired), "no target group of that name")], True
    wrong = elbv2.target_group_immutable_drift(wanted, current)
    if wrong:
        return [change("target group", wanted["name"], "replace", wrong, elbv2.immutable_reason(wrong))], True
    return update_or_nothing("target group", wanted["name"], elbv2.target_group_drift(wanted, current))


# ---------------------------------------------------------------- cluster, topic (the log group: logs.plan_log_group)


def plan_cluster(wanted, current):
    if current is None:
        desired = dict((key, wanted.get(key)) for key in ("container_insights", "capacity_providers", "tags"))
        return [change("ECS cluster", wanted["name"], "create", created(desired), "no active cluster of that name")], True
    return update_or_nothing("ECS cluster", wanted["name"], ecs.cluster_drift(wanted, current))


def plan_topic(wanted, current):
    if current is None:
        desired = {"display_name": wanted.get("display_name"), "tags": wanted.get("tags")}
        return [change("SNS topic", wanted["name"], "create", created(desired), "no topic of that name")], True
    return update_or_nothing("SNS topic", wanted["name"], sns.topic_drift(wanted, current))


# ---------------------------------------------------------------- alarms


def _load_balancer_dimension(arn):
    """CloudWatch names a load balancer by its ARN after ':loadbalancer/' (app/<name>/<id>)."""
    return arn.split(":loadbalancer/", 1)[-1]


def _target_group_dimension(arn):
    """... and a target group by its ARN after the last colon (targetgroup/<name>/<id>)."""
    return arn.rsplit(":", 1)[-1]


def alarm_definitions(spec, alb_arn, target_group_arns, topic_arn):
    """The metric_alarms options of every alarm: each kind of `spec` once per color.

    `spec`: {environment, colors, kinds: [{key, what, namespace, metric, statistic, comparison,
    threshold, unit (optional)}], names: {<key>_<color>: alarm name}, cluster, services: {color: name}, period,
    evaluation_periods, extra_actions}. ECS kinds watch the color's service, load balancer kinds
    its target group. `topic_arn` may be empty (check mode before the first deploy). A spec that
    lacks or mistypes a key raises AlarmDefinitionError naming it."""
    try:
        return _alarm_definitions(spec, alb_arn, target_group_arns, topic_arn)
    except (KeyError, TypeError, ValueError) as e:
        raise AlarmDefinitionError("the alarm spec lacks or mistypes %s" % e) from e


def _alarm_definitions(spec, alb_arn, target_group_arns, topic_arn):
    actions = ([topic_arn] if topic_arn else []) + list(spec.get("extra_actions") or [])
    alarms = []
    for kind in spec["kinds"]:
        for color in spec["colors"]:
            name = spec["names"]["%s_%s" % (kind["key"], color)]
            if kind["namespace"] == "AWS/ECS":
                dimensions = {"ClusterName": spec["cluster"], "ServiceName": spec["services"][color]}
            else:
                dimensions = {
                    "LoadBalancer": _load_balancer_dimension(alb_arn or ""),
                    "TargetGroup": _target_group_dimension(target_group_arns.get(color) or ""),
                }
            what = kind["what"]
            alarms.append(
                {
                    "name": name,
                    "description": "%s%s of %s in %s" % (what[:1].upper(), what[1:], color, spec["environment"]),
                    "namespace": kind["namespace"],
                    "metric_name": kind["metric"],
                    "statistic": kind["statistic"],
                    "comparison": kind["comparison"],
                    "threshold": float(kind["threshold"]),
                    "period": int(spec["period"]),
                    "evaluation_periods": int(spec["evaluation_periods"]),
                    "dimensions": dimensions,
                    "treat_missing_data": "notBreaching",
                    "alarm_actions": actions,
                    "tags": {"Name": name},
                }
            )
            if kind.get("unit"):
                alarms[-1]["unit"] = kind["unit"]
    return alarms


# ---------------------------------------------------------------- task definitions and services

TASK_DEFINITION = "task definition"
SERVICE = "ECS service"
RELEASED_REASON = "not the image its bluegreen:image tag records as released"


def container_image(definition, container):
    """The image of `container` in a task definition (DescribeTaskDefinition's shape), or ''."""
    for item in (definition or {}).get("containerDefinitions") or []:
        if item.get("name") == container:
            return item.get("image") or ""
    return ""


def _with_image(options, container, image):
    """ecs_task_definition options with `container` on `image`."""
    containers = [dict(c, image=image) if c["name"] == container else c for c in options["containers"]]
    return dict(options, containers=containers)


def containers_with_image(containers, container, image):
    """A task definition's containers (ecs_task_definition's options) with `container` on `image`,
    the others and the order as they are. A container that is not there is an error: a rollout
    would otherwise register a revision that still runs the old image."""
    if not any(c.get("name") == container for c in containers):
        raise TierSpecError("the task definition has no container %r (it has %s)" % (container, ", ".join(c.get("name", "?") for c in containers) or "none"))
    return _with_image({"containers": containers}, container, image)["containers"]


def image_to_restore(current, running_image, new_environment):
    """The image released to a service (its RELEASED_IMAGE_TAG) when it runs another one, else
    ''. Not while a deployment is under way (a rollout's: the rollout records the image once the
    service is steady), nor in a new environment (its services go to the latest revisions)."""
    if current is None or new_environment or not running_image:
        return ""
    summary = ecs_services.service_summary(current)
    released = summary["tags"].get(ecs_services.RELEASED_IMAGE_TAG) or ""
    if not released or released == running_image or ecs_services.deployment_in_progress(summary):
        return ""
    return released


def plan_task_definition(wanted, latest, container, released=""):
    """(changes, apply, registers, image) of one family, compared as
    bluegreen.migration.ecs_task_definition with keep_image compares: the request against the
    family's latest revision, each container on the image that revision has (`wanted`'s image
    only seeds a new family). `latest` is (DescribeTaskDefinition's taskDefinition, tags) or
    None. With `released` (image_to_restore()) the container is wanted on that image instead;
    that difference is the service's change, so it is not listed here, though the writer runs.
    `registers`: a new revision is registered; `image`: the image the writer is given."""
    seed = next((c["image"] for c in wanted["containers"] if c["name"] == container), "")
    image = released or (container_image(latest[0], container) if latest else "") or seed
    request = ecs_services.task_definition_request(_with_image(wanted, container, image))
    if latest is not None and not released:
        request = ecs_services.with_images_of(request, latest[0])
    desired = ecs_services.normalise_task_definition(request)
    tags = wanted.get("tags") or {}
    family = wanted["family"]
    if latest is None:
        nothing = {"containers": dict((name, {}) for name in desired.get("containers") or {})}
        fields = dict(ecs_services.task_definition_fields(desired, nothing), tags=field(None, tags))
        return [change(TASK_DEFINITION, family, "create", fields, "family %s has no active revision" % family)], True, True, image
    definition, current_tags = latest
    current = ecs_services.normalise_task_definition(definition)
    registers = bool(ecs_services.task_definition_reasons(desired, current))
    fields = ecs_services.task_definition_fields(desired, current)
    if released:
        fields.pop("%s.image" % container, None)
    tag_fields = tag_drift(current_tags, tags)
    if tag_fields:
        fields["tags"] = tag_fields
    changes, dummy = update_or_nothing(TASK_DEFINITION, family, fields)
    return changes, registers or bool(tag_fields), registers, image


def plan_service(wanted, current, context):
    """(changes, apply, tags) of one color's service, compared as bluegreen.migration.ecs_service
    compares (the options services.yml gives it).

    `wanted`: {color, name, network, load_balancers, health_check_grace_period,
    deployment_configuration, tags}; `current`: the DescribeServices entry or None; `context`:
    {live_color, new_environment, desired_count, task_definition (the ARN a new service or a
    new environment runs, KNOWN_AFTER_CREATE when this run registers it), image (the image of
    that task definition), running_image (the image the service runs), released (what
    image_to_restore() found)}.

    The live color runs the desired count; the idle one keeps its count (0 for a new one), and
    an existing service keeps its task definition: a run never changes what a rollout does. The
    one exception is a service whose image is not the one released to it: it goes back to that
    image (the change names `image`). A service without the tag (deployed before it existed) is
    tagged with the image it runs. `tags` are the tags the writer is given. A service found
    DRAINING (deleted, its tasks stopping) is planned as created: ECS refuses to update it, and
    the writer creates it again once it is INACTIVE."""
    draining = bool(current) and current.get("status") == "DRAINING"
    current = None if draining else current
    summary = ecs_services.service_summary(current) if current else None
    fresh = summary is None or context["new_environment"]
    running, released = context.get("running_image") or "", context.get("released") or ""
    recorded = ((summary or {}).get("tags") or {}).get(ecs_services.RELEASED_IMAGE_TAG) or ""
    tags = dict(wanted.get("tags") or {}, **{ecs_services.RELEASED_IMAGE_TAG: context["image"] if fresh else (recorded or running)})
    options = dict((key, wanted.get(key)) for key in ("network", "load_balancers", "health_check_grace_period", "deployment_configuration"))
    if wanted["color"] == context["live_color"]:
        options["desired_count"] = int(context["desired_count"])
    elif fresh:
        options["desired_count"] = 0
    if fresh:
        options["task_definition"] = context["task_definition"]
    desired = ecs_services.service_options(options)
    if summary is None:
        fields = created(dict(desired, tags=tags))
        why = "the service of that name was deleted and is draining" if draining else "no service of that name in the cluster"
        return [change(SERVICE, wanted["name"], "create", fields, why)], True, tags
    fields = dict((key, field(summary.get(key), desired[key])) for key in ecs_services.service_changes(desired, summary))
    tag_fields = tag_drift(summary["tags"], tags)
    if tag_fields:
        fields["tags"] = tag_fields
    reason = DIFFERS
    if released:
        fields["image"] = field(running, released)
        reason = RELEASED_REASON if len(fields) == 1 else DIFFERS + "; " + RELEASED_REASON
    if not fields:
        return [], False, tags
    return [change(SERVICE, wanted["name"], "update", fields, reason)], True, tags


def plan_application(task_definitions, services, settings, read):
    """(changes, result) of both colors' task definitions and services.

    `task_definitions`: [ecs_task_definition options with `color`]; `services`: [plan_service's
    `wanted`], the same colors; `settings`: {live_color, new_environment, desired_count,
    container}; `read`: {latest: {color: (taskDefinition, tags) or None}, services: {color:
    DescribeServices entry or None}, running: {color: the taskDefinition the service runs}}.

    result: task_definitions {arns (the latest revision's, '' when none), apply (colors),
    images (the image each writer is given)}; services {found (service_summary or {}), apply
    (colors, the live one first), redeploy (colors moved back to the image released to them,
    with a new revision if needed, and waited for), unsteady (the live color when its service
    has nothing to change but a deployment under way, from a run stopped during its wait: its
    writer runs to wait for it, so a run ends with the live color steady or says why), tags
    (the writer's, the record included)}."""
    container = settings["container"]
    changes, by_color = [], dict((item["color"], item) for item in services)
    tds = {"arns": {}, "apply": [], "images": {}}
    svcs = {"found": {}, "apply": [], "redeploy": [], "unsteady": [], "tags": {}}
    for wanted in task_definitions:
        color = wanted["color"]
        latest, current = read["latest"].get(color), read["services"].get(color)
        running_image = container_image(read["running"].get(color), container)
        released = image_to_restore(current, running_image, settings["new_environment"])
        planned, apply, registers, image = plan_task_definition(wanted, latest, container, released)
        changes.extend(planned)
        tds["arns"][color] = latest[0]["taskDefinitionArn"] if latest else ""
        tds["images"][color] = image
        if apply:
            tds["apply"].append(color)
        context = dict(settings, image=image, running_image=running_image, released=released)
        context["task_definition"] = KNOWN_AFTER_CREATE if registers else tds["arns"][color]
        planned, apply, tags = plan_service(by_color[color], current, context)
        changes.extend(planned)
        svcs["found"][color] = ecs_services.service_summary(current) if current else {}
        svcs["tags"][color] = tags
        if not apply and current and color == settings["live_color"] and current.get("status") == "ACTIVE" and not ecs.is_steady(current):
            svcs["unsteady"].append(color)
            apply = True
        if apply:
            svcs["apply"].append(color)
        if released:
            svcs["redeploy"].append(color)
    svcs["apply"].sort(key=lambda color: color != settings["live_color"])
    return changes, {"task_definitions": tds, "services": svcs}
