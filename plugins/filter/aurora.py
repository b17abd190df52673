# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora


def instances_waited(found, wanted=None, cluster_id=None):
    """What a wait for Aurora instances still waits for (module_utils.aurora.instances_waited)."""
    try:
        return aurora.instances_waited(found, wanted, cluster_id)
    except (AttributeError, KeyError, TypeError) as e:
        raise AnsibleFilterError("aurora_instances_waited: unexpected input (%s: %s)" % (type(e).__name__, e)) from e


class FilterModule(object):
    """Aurora filters of bluegreen.migration."""

    def filters(self):
        return {"aurora_instances_waited": instances_waited}
