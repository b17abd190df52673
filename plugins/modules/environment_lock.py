#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: environment_lock
short_description: Take, renew or release the lock of a blue-green environment (one operation at a time)
version_added: 0.1.0
description:
  - One run at a time may change an environment. The lock is an item of a DynamoDB table shared by the environments
    of the account and region (C(bluegreen-locks), on-demand capacity, created on first use), keyed by the
    environment suffix.
  - O(state=present) takes the lock with a conditional write that succeeds only when there is no lock or the lock has
    expired, so of two runs taking it at once exactly one wins; the other fails before it writes anything, with a
    message naming the holder, the playbook and since when.
  - O(state=absent) releases the lock (deletes the item) when this run holds it (O(token)), or whoever holds it with
    O(force=true). O(state=renewed) moves the expiry of this run's lock O(ttl_seconds) from now.
  - Supports check mode (reads only; a held lock is reported, not failed on) and diff mode.
options:
  environment_suffix:
    description:
      - Suffix of the environment to lock.
    type: str
    required: true
  state:
    description:
      - C(present) takes the lock, C(absent) releases it, C(renewed) extends this run's lock.
    type: str
    choices: [present, absent, renewed]
    default: present
  ttl_seconds:
    description:
      - Seconds the lock is held from now (taking or renewing) unless released; after that the next run takes it
        without breaking it. Long enough for the longest operation, a run killed before it releases the lock keeps
        the environment locked that long (or until a run breaks it).
    type: int
    default: 3600
  break:
    description:
      - With O(state=present), take the lock even when another run holds it and it has not expired (that run is
        gone, killed or crashed). The result names whose lock it was.
    type: bool
    default: false
  token:
    description:
      - The token returned when this run took the lock; required to release or renew it (unless O(force=true)).
    type: str
  force:
    description:
      - With O(state=absent), release the lock whoever holds it.
    type: bool
    default: false
  holder:
    description:
      - Who takes the lock; default the AWX user who launched the job (O(awx_user_name)), else the AWX schedule
        (O(awx_schedule_name)), else the user the module runs as on the controller.
    type: str
  awx_job_id:
    description:
      - The AWX job id when AWX runs the play (its C(awx_job_id) extra variable); recorded as C(AWX job <id>).
    type: str
  awx_user_name:
    description:
      - The AWX user who launched the job (its C(awx_user_name) extra variable).
    type: str
  awx_schedule_name:
    description:
      - The AWX schedule that launched the job (its C(awx_schedule_name) extra variable).
    type: str
  playbook:
    description:
      - The play that takes the lock; recorded and shown to other runs.
    type: str
    default: ""
  operation:
    description:
      - The operation (site, rollout, rollback, migrate, teardown); recorded and shown to other runs.
    type: str
    default: ""
  table_name:
    description:
      - The lock table; default the naming catalogue's C(lock_table) (C(bluegreen-locks)).
    type: str
  wait_timeout:
    description:
      - Seconds to wait for a new lock table to become ACTIVE.
    type: int
    default: 300
  tags:
    description:
      - Tags of the lock table, set when it is created (the table is shared by every environment of the account
        and region; an existing table's tags are left alone).
    type: dict
    aliases: [resource_tags]
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Take the lock of the environment
  bluegreen.migration.environment_lock:
    environment_suffix: dev
    playbook: "{{ ansible_play_name }}"
    operation: rollout
    awx_job_id: "{{ awx_job_id | default(omit) }}"
    awx_user_name: "{{ awx_user_name | default(omit) }}"
  register: lock

- name: Release it (on failure too, from an always section)
  bluegreen.migration.environment_lock:
    environment_suffix: dev
    state: absent
    token: "{{ lock.token }}"
  when: lock.token | default(none) is not none

- name: Take over the lock of a run that was killed
  bluegreen.migration.environment_lock:
    environment_suffix: dev
    break: true
"""

RETURN = r"""
table_name:
  description: The lock table.
  returned: always
  type: str
  sample: bluegreen-locks
acquired:
  description: Whether this run holds the lock now (false in check mode, and when nothing was to release).
  returned: always
  type: bool
  sample: true
token:
  description: The token of this run's lock, to release or renew it; null when no lock was taken.
  returned: always
  type: str
  sample: 4c1d0f6e-3f4c-4b1e-9a8e-0d6a2f1b9c77
lock:
  description: The lock record after the run (null when the environment is not locked).
  returned: always
  type: dict
  contains:
    environment:
      description: Environment suffix.
      type: str
      sample: dev
    holder:
      description: Who holds it.
      type: str
      sample: alice
    job:
      description: The job holding it (empty outside AWX).
      type: str
      sample: AWX job 42
    host:
      description: The host the holding run runs on.
      type: str
      sample: controller-1
    playbook:
      description: The play holding it.
      type: str
      sample: Roll out a new version (blue-green, gated)
    operation:
      description: The operation holding it.
      type: str
      sample: rollout
    started_at:
      description: When it was taken (epoch seconds).
      type: int
      sample: 1796238000
    expires_at:
      description: When it expires (epoch seconds).
      type: int
      sample: 1796241600
    started:
      description: When it was taken (ISO 8601, UTC).
      type: str
      sample: "2026-12-02T19:00:00Z"
    expires:
      description: When it expires (ISO 8601, UTC).
      type: str
      sample: "2026-12-02T20:00:00Z"
    expired:
      description: Whether it has expired.
      type: bool
      sample: false
    token:
      description: The token of the run holding it.
      type: str
      sample: 4c1d0f6e-3f4c-4b1e-9a8e-0d6a2f1b9c77
previous:
  description: The lock this run replaced (expired or broken) or released; null when there was none.
  returned: always
  type: dict
msg:
  description: What the module did, naming the lock it replaced.
  returned: always
  type: str
  sample: locked environment dev for alice on controller-1 until 2026-12-02T20:00:00Z
"""

import getpass
import socket
import time
import uuid

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import environment_lock as lock
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import NamingError, shared_resource_name, validate_suffix


def exit_with(module, changed, before, after, now, acquired, token, msg, previous=None):
    module.exit_with_diff(
        changed,
        lock.shown(before, now),
        lock.shown(after, now),
        table_name=module.params["table_name"],
        acquired=acquired,
        token=token,
        lock=lock.shown(after, now),
        previous=lock.shown(previous, now),
        msg=msg,
    )


def ensure_table(module, client):
    """Creates the lock table on first use and waits until it is ACTIVE (never in check mode)."""
    name = module.params["table_name"]
    table = lock.describe_table(client, name)
    if table is None:
        lock.create_table(client, name, module.params["tags"])
    if table is None or table.get("TableStatus") != "ACTIVE":
        lock.wait_for_table(client, name, module.params["wait_timeout"])


def ensure_present(module, client, now):
    params = module.params
    suffix = params["environment_suffix"]
    # A normal take writes at once, conditioned on "no lock, or an expired one": one call, which
    # returns the expired lock it replaced or, refused, the lock that holds. Check mode and a
    # break read first (a break is conditioned on the token read).
    read_first = module.check_mode or params["break"]
    current = lock.get_lock(client, params["table_name"], suffix) if read_first else None
    if read_first and lock.plan_take(current, now, params["break"]) == "refuse":
        if module.check_mode:
            module.warn(lock.held_message(current, now))
            exit_with(module, False, current, current, now, False, None, lock.held_message(current, now))
        module.fail_json(msg=lock.held_message(current, now), lock=lock.shown(current, now), table_name=params["table_name"])

    token = None if module.check_mode else str(uuid.uuid4())
    record = lock.new_record(
        suffix, params["holder"], params["job"], socket.gethostname(), params["playbook"], params["operation"], token, now, params["ttl_seconds"]
    )
    if module.check_mode:
        broke = current is not None and not lock.is_expired(current, now)
        exit_with(module, True, current, record, now, False, None, "would have " + lock.taken_message(record, current, broke, now), current)
    condition = lock.break_condition(current) if params["break"] else lock.take_condition(now)
    try:
        try:
            replaced = lock.put_lock(client, params["table_name"], record, condition)
        except lock.TableMissing:
            # The account and region's first lock: the table is made once, then the write again.
            ensure_table(module, client)
            replaced = lock.put_lock(client, params["table_name"], record, condition)
    except lock.LockHeld as held:
        winner = held.record or lock.get_lock(client, params["table_name"], suffix)
        if winner is None:
            module.fail_json(msg="the lock of %s changed while it was taken; try again" % suffix, lock=None)
        # A write sent again (botocore and the retry resend one whose answer was lost: a timeout,
        # a 500) finds the lock its first send took: this run's own token, so it is taken.
        if winner.get("token") != token:
            # Held by another run (or taken between a break's read and its write): name that run.
            module.fail_json(msg=lock.held_message(winner, now), lock=lock.shown(winner, now), table_name=params["table_name"])
        replaced = None
    previous = current if params["break"] else replaced
    broke = previous is not None and not lock.is_expired(previous, now)
    exit_with(module, True, previous, record, now, True, token, lock.taken_message(record, previous, broke, now), previous)


def not_released(module, suffix, current, now):
    """Exit without a change: nothing to release, or the lock is not this run's any more."""
    if current is None:
        exit_with(module, False, None, None, now, False, None, "environment %s is not locked" % suffix)
    # Ours expired and another run took it: theirs now, not ours to release.
    msg = "not released: the lock of %s is not this run's, %s" % (suffix, lock.status_line(current, now))
    exit_with(module, False, current, current, now, False, None, msg)


def ensure_absent(module, client, now):
    params = module.params
    suffix = params["environment_suffix"]
    if not params["token"] and not params["force"]:
        module.fail_json(msg="releasing the lock of %s needs the token of the run that took it, or force=true" % suffix)
    if module.check_mode:
        current = lock.get_lock(client, params["table_name"], suffix)
        if current is None or (not params["force"] and current["token"] != params["token"]):
            not_released(module, suffix, current, now)
    else:
        # The delete is conditioned on the token and returns what it deleted: one call when the
        # lock is ours; the read only explains a refusal.
        try:
            current = lock.delete_lock(client, params["table_name"], suffix, None if params["force"] else lock.owner_condition(params["token"]))
        except (lock.LockHeld, lock.TableMissing):
            current = lock.get_lock(client, params["table_name"], suffix)
            if current is not None and params["force"]:
                module.fail_json(msg="the lock of %s changed while it was released; try again" % suffix, lock=lock.shown(current, now))
            not_released(module, suffix, current, now)
        if current is None:
            not_released(module, suffix, None, now)
    exit_with(module, True, current, None, now, False, None, "released the lock of %s (%s)" % (suffix, lock.who(current)), current)


def ensure_renewed(module, client, now):
    params = module.params
    suffix = params["environment_suffix"]
    if not params["token"]:
        module.fail_json(msg="renewing the lock of %s needs the token of the run that took it" % suffix)
    expires_at = int(now) + params["ttl_seconds"]
    if module.check_mode:
        current = lock.get_lock(client, params["table_name"], suffix)
        held = current is not None and current["token"] == params["token"]
    else:
        # Conditioned on the token: one call when the lock is still this run's; the read
        # only explains a refusal.
        try:
            current = lock.extend_lock(client, params["table_name"], suffix, params["token"], expires_at)
            held = True
        except (lock.LockHeld, lock.TableMissing):
            current = lock.get_lock(client, params["table_name"], suffix)
            held = False
    if not held:
        module.fail_json(
            msg="cannot renew the lock of %s: this run does not hold it (%s); another run may be changing the environment"
            % (suffix, lock.status_line(current, now)),
            lock=lock.shown(current, now),
        )
    after = dict(current, expires_at=expires_at)
    exit_with(module, True, current, after, now, True, params["token"], "renewed the lock of %s until %s" % (suffix, lock.iso(after["expires_at"])))


def main():
    argument_spec = dict(
        environment_suffix=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent", "renewed"], default="present"),
        ttl_seconds=dict(type="int", default=3600),
        token=dict(type="str", no_log=False),
        force=dict(type="bool", default=False),
        holder=dict(type="str"),
        awx_job_id=dict(type="str"),
        awx_user_name=dict(type="str"),
        awx_schedule_name=dict(type="str"),
        playbook=dict(type="str", default=""),
        operation=dict(type="str", default=""),
        table_name=dict(type="str"),
        wait_timeout=dict(type="int", default=300),
        tags=dict(type="dict", aliases=["resource_tags"]),
    )
    argument_spec["break"] = dict(type="bool", default=False)
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        validate_suffix(params["environment_suffix"])
        params["table_name"] = params["table_name"] or shared_resource_name("lock_table")
    except NamingError as e:
        module.fail_json(msg=str(e))
    if params["ttl_seconds"] < 60:
        module.fail_json(msg="ttl_seconds=%d is too short for any operation; use at least 60" % params["ttl_seconds"])
    holder, params["job"] = lock.holder_of(params["awx_user_name"], params["awx_job_id"], params["awx_schedule_name"], getpass.getuser())
    params["holder"] = params["holder"] or holder
    client = module.client("dynamodb")
    now = int(time.time())
    try:
        if params["state"] == "present":
            ensure_present(module, client, now)
        elif params["state"] == "absent":
            ensure_absent(module, client, now)
        else:
            ensure_renewed(module, client, now)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
