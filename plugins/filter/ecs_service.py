# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils.app_tier import alarm_definitions
from ansible_collections.bluegreen.migration.plugins.module_utils.cloudwatch import AlarmDefinitionError


def ecs_service_alarms(spec, alb_arn, target_group_arns, topic_arn=""):
    """The metric_alarms options of the application tier's alarms (three kinds per color)."""
    try:
        return alarm_definitions(spec, alb_arn, target_group_arns, topic_arn)
    except AlarmDefinitionError as e:
        raise AnsibleFilterError("ecs_service_alarms: %s" % e) from e


class FilterModule(object):
    """Application tier filters of bluegreen.migration."""

    def filters(self):
        return {"ecs_service_alarms": ecs_service_alarms}
