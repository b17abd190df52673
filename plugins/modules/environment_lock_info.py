#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: environment_lock_info
short_description: Read the lock of a blue-green environment
version_added: 0.1.0
description:
  - Reads the environment's item of the lock table (see M(bluegreen.migration.environment_lock)) and returns it
    with one line for a status report. Changes nothing; a missing table reads as no lock.
options:
  environment_suffix:
    description:
      - Suffix of the environment.
    type: str
    required: true
  table_name:
    description:
      - The lock table; default the naming catalogue's C(lock_table) (C(bluegreen-locks)).
    type: str
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Who holds the lock of dev
  bluegreen.migration.environment_lock_info:
    environment_suffix: dev
  register: lock

- name: Show it
  ansible.builtin.debug:
    msg: "{{ lock.line }}"
"""

RETURN = r"""
table_name:
  description: The lock table.
  returned: always
  type: str
  sample: bluegreen-locks
held:
  description: Whether a run holds the lock now (a lock past its expiry is not held).
  returned: always
  type: bool
  sample: true
lock:
  description:
    - The lock record (null when there is none), with the fields M(bluegreen.migration.environment_lock) returns
      (holder, job, host, playbook, operation, started, expires, expired ...).
  returned: always
  type: dict
line:
  description: One line for a status report.
  returned: always
  type: str
  sample: "lock: held by alice on controller-1 since 2026-12-02T19:00:00Z (playbook \"Roll out\", rollout), expires 2026-12-02T20:00:00Z"
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import environment_lock as lock
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import NamingError, shared_resource_name, validate_suffix


def find_lock(client, table_name, suffix):
    # No table yet (or one still CREATING) reads as no lock: GetItem's ResourceNotFoundException.
    return lock.get_lock(client, table_name, suffix)


def main():
    argument_spec = dict(
        environment_suffix=dict(type="str", required=True),
        table_name=dict(type="str"),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        validate_suffix(params["environment_suffix"])
        table_name = params["table_name"] or shared_resource_name("lock_table")
    except NamingError as e:
        module.fail_json(msg=str(e))
    client = module.client("dynamodb")
    now = int(time.time())
    try:
        current = find_lock(client, table_name, params["environment_suffix"])
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(
        changed=False,
        table_name=table_name,
        held=current is not None and not lock.is_expired(current, now),
        lock=lock.shown(current, now),
        line=lock.status_line(current, now),
    )


if __name__ == "__main__":
    main()
