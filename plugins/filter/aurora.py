# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora


def _filter(name, func):
    def run(*args):
        try:
            return func(*args)
        except (AttributeError, KeyError, TypeError) as e:
            raise AnsibleFilterError("%s: unexpected input (%s: %s)" % (name, type(e).__name__, e)) from e

    run.__name__ = name
    return run


class FilterModule(object):
    """Aurora filters of bluegreen.migration: what a wait for the database still waits for."""

    def filters(self):
        return {
            "aurora_instances_waited": _filter("aurora_instances_waited", aurora.instances_waited),
            "aurora_cluster_waited": _filter("aurora_cluster_waited", aurora.cluster_waited),
        }
