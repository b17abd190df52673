#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: sns_topic
short_description: Create, update or delete an SNS topic (alarm notifications)
version_added: 0.1.0
description:
  - Ensures an Amazon SNS standard topic exists with the given display name and tags, or is absent.
  - The topic is found by name in the account and region of the connection.
  - Supports check mode and diff mode.
options:
  name:
    description:
      - Name of the topic (not the ARN).
    type: str
    required: true
  display_name:
    description:
      - Display name of the topic (used as the sender name of SMS and e-mail notifications).
      - When not set, the display name is left as it is.
    type: str
  state:
    description:
      - Whether the topic should exist.
    type: str
    choices: [present, absent]
    default: present
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Topic for the alarms of one environment
  bluegreen.migration.sns_topic:
    name: bluegreen-alarms-dev
    display_name: bluegreen dev alarms
    tags:
      bluegreen:environment: dev

- name: Remove it
  bluegreen.migration.sns_topic:
    name: bluegreen-alarms-dev
    state: absent
"""

RETURN = r"""
topic_arn:
  description: ARN of the topic (null once absent).
  returned: always
  type: str
  sample: arn:aws:sns:us-east-1:123456789012:bluegreen-alarms-dev
name:
  description: Name of the topic.
  returned: always
  type: str
  sample: bluegreen-alarms-dev
display_name:
  description: Display name of the topic.
  returned: when state is present
  type: str
  sample: bluegreen dev alarms
tags:
  description: Tags of the topic.
  returned: when state is present
  type: dict
  sample: {"bluegreen:environment": "dev"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import sns
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import plan_tags


def ensure_present(module, client, current):
    params = module.params
    if current is None:
        after = {"topic_arn": None, "name": params["name"], "display_name": params["display_name"] or "", "tags": params["tags"] or {}}
        if not module.check_mode:
            attributes = {"DisplayName": params["display_name"]} if params["display_name"] else {}
            after["topic_arn"] = sns.create_topic(client, params["name"], attributes, params["tags"])
        module.exit_with_diff(True, {}, after, **after)

    drift = sns.topic_drift(params, current)
    after = dict(current, **{key: value["after"] for key, value in drift.items()})
    changed = bool(drift)
    if not module.check_mode:
        if "display_name" in drift:
            sns.set_topic_attribute(client, current["topic_arn"], "DisplayName", params["display_name"])
        if "tags" in drift:
            sns.update_tags(client, current["topic_arn"], *plan_tags(current["tags"], params["tags"], params["purge_tags"]))
    module.exit_with_diff(changed, current, after, **after)


def ensure_absent(module, client, current):
    if current is None:
        module.exit_with_diff(False, {}, {}, topic_arn=None, name=module.params["name"])
    if not module.check_mode:
        sns.delete_topic(client, current["topic_arn"])
    module.exit_with_diff(True, current, {}, topic_arn=None, name=module.params["name"])


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        display_name=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("sns")
    try:
        current = sns.read_topic(client, module.params["name"])
        if module.params["state"] == "present":
            ensure_present(module, client, current)
        else:
            ensure_absent(module, client, current)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
