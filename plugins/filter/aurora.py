# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora
from ansible_collections.bluegreen.migration.plugins.plugin_utils.filters import filter_errors


class FilterModule(object):
    """Aurora filters of bluegreen.migration: what a wait for the database still waits for, and a final snapshot already taken."""

    def filters(self):
        return {
            "aurora_instances_waited": filter_errors("aurora_instances_waited", aurora.instances_waited),
            "aurora_cluster_waited": filter_errors("aurora_cluster_waited", aurora.cluster_waited),
            "aurora_final_snapshot_taken": filter_errors("aurora_final_snapshot_taken", aurora.final_snapshot_taken),
        }
