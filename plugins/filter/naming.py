# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils.naming import (
    NamingError,
    aws_partition as _aws_partition,
    resource_name as _resource_name,
    resource_names as _resource_names,
    resource_tags as _resource_tags,
)


def _wrap(func):
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except NamingError as e:
            raise AnsibleFilterError(str(e)) from e

    run.__name__ = func.__name__
    return run


class FilterModule(object):
    """Resource naming filters of bluegreen.migration."""

    def filters(self):
        return {
            "aws_partition": _wrap(_aws_partition),
            "resource_name": _wrap(_resource_name),
            "resource_names": _wrap(_resource_names),
            "resource_tags": _wrap(_resource_tags),
        }
