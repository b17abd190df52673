# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The wanted IAM roles, as the plan modules that read and compare roles take them
    # (module_utils/iam.py ROLE_OPTIONS).
    DOCUMENTATION = r"""
options:
  roles:
    description:
      - The wanted roles, compared with the roles of the same names as they are (trust policy,
        description, tags, attached managed policies, inline policy documents).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the role.
        type: str
        required: true
      description:
        description: Its description.
        type: str
        required: true
      trust_policy:
        description: Its trust (assume role) policy document.
        type: dict
        required: true
      managed_policy_arns:
        description: The managed policies it has attached, and no other.
        type: list
        elements: str
        default: []
      tags:
        description: Its tags (all of them).
        type: dict
        default: {}
      inline_policies:
        description: Its inline policies, name to document; any other inline policy is removed.
        type: dict
        default: {}
"""
