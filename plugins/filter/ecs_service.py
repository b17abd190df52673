# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils.app_tier import TierSpecError
from ansible_collections.bluegreen.migration.plugins.module_utils.app_tier import alarm_definitions
from ansible_collections.bluegreen.migration.plugins.module_utils.app_tier import color_specs
from ansible_collections.bluegreen.migration.plugins.module_utils.app_tier import placement
from ansible_collections.bluegreen.migration.plugins.module_utils.cloudwatch import AlarmDefinitionError


def ecs_service_alarms(spec, alb_arn, target_group_arns, topic_arn=""):
    """The metric_alarms options of the application tier's alarms (three kinds per color)."""
    try:
        return alarm_definitions(spec, alb_arn, target_group_arns, topic_arn)
    except AlarmDefinitionError as e:
        raise AnsibleFilterError("ecs_service_alarms: %s" % e) from e


def ecs_service_placement(given, found_vpcs=None, found_subnets=None, found_security_groups=None, security_group_names=None):
    """The tier's VPC, subnets and security groups: the inputs when given, else what was found."""
    if not isinstance(given, dict):
        raise AnsibleFilterError("ecs_service_placement: expects the inputs as a dict, got %s" % type(given).__name__)
    return placement(given, found_vpcs, found_subnets, found_security_groups, security_group_names)


def ecs_service_color_specs(spec):
    """Each color's target group, task definition and service."""
    try:
        return color_specs(spec)
    except TierSpecError as e:
        raise AnsibleFilterError("ecs_service_color_specs: %s" % e) from e


class FilterModule(object):
    """Application tier filters of bluegreen.migration."""

    def filters(self):
        return {
            "ecs_service_alarms": ecs_service_alarms,
            "ecs_service_color_specs": ecs_service_color_specs,
            "ecs_service_placement": ecs_service_placement,
        }
