# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a wait for new resources found (NAT gateways, VPC endpoints, Aurora instances): each
described one is ready, still PENDING, or failed (a phrase saying why). The roles' waits poll with
`until` on `done` and then fail naming the failed ones, or, when the wait ran out, those pending."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

PENDING = "pending"


def found_something(found):
    return found is not None


def poll(find, timeout, every, done=found_something, sleep=None, clock=None):
    """Call find() every `every` s until done(its answer) (by default: it answers something other
    than None) or `timeout` s have passed, never sleeping past them; its last answer. `sleep` and
    `clock` default to time.sleep and time.monotonic, looked up at each call."""
    sleep, clock = sleep or time.sleep, clock or time.monotonic
    deadline = clock() + timeout
    while True:
        found = find()
        if done(found) or clock() >= deadline:
            return found
        sleep(min(every, max(0.0, deadline - clock())))


def wait_outcome(found, wanted, id_key, verdict):
    """{pending: [wanted ids not ready yet, or not described yet (eventual consistency)],
    failed: [verdict's phrases], done: whether the wait is over}. `verdict(item)` is None for a
    ready item, PENDING, or why it failed. One that failed will never be ready: the wait stops on
    the first one found so, whatever the others' state, instead of running to its timeout."""
    found = [item for item in found or [] if not wanted or item[id_key] in wanted]  # only those waited for
    described = set(item[id_key] for item in found)
    pending, failed = [item_id for item_id in wanted or [] if item_id not in described], []
    for item in found:
        outcome = verdict(item)
        if outcome == PENDING:
            pending.append(item[id_key])
        elif outcome:
            failed.append(outcome)
    return {"pending": pending, "failed": failed, "done": not pending or bool(failed)}
