#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: controller_files
short_description: Write an environment's report files on the controller when they differ
version_added: 0.1.0
description:
  - Writes each of O(files) into O(directory) on the Ansible controller, creating the directory when missing, and
    only when the file's content or mode differs. A file is written through a temporary file and renamed, so a
    reader never sees half of it.
  - Runs in the play's own process (an action plugin, no module process and no AWS call), so files that did not
    change cost next to nothing on a re-run.
  - Supports check mode (nothing written, the changes reported) and diff mode (before and after of each file that
    would change).
options:
  directory:
    description:
      - Directory of the files on the controller.
    type: path
    required: true
  files:
    description:
      - The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - File name inside O(directory) (no directory part).
        type: str
        required: true
      content:
        description:
          - Text of the file, written as UTF-8.
        type: str
        required: true
  mode:
    description:
      - Octal mode of the files.
    type: str
    default: "0644"
  directory_mode:
    description:
      - Octal mode of O(directory) when it is created.
    type: str
    default: "0755"
attributes:
  check_mode:
    support: full
    description: Nothing is written; the files that would change are reported.
  diff_mode:
    support: full
    description: Before and after of each file that changes.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller whatever the host.
notes:
  - The files are written on the controller, not on the managed host.
author:
  - bluegreen.migration maintainers (@bluegreen)
"""

EXAMPLES = r"""
- name: Write outputs/<suffix>.json
  bluegreen.migration.controller_files:
    directory: "{{ playbook_dir }}/outputs"
    files:
      - name: "{{ environment_suffix }}.json"
        content: "{{ outputs_document | ansible.builtin.to_nice_json(indent=2, sort_keys=true) }}\n"
"""

RETURN = r"""
directory:
  description: Directory of the files.
  returned: always
  type: str
  sample: /srv/project/outputs
paths:
  description: Path of every file given, written or not.
  returned: always
  type: list
  elements: str
  sample: ["/srv/project/outputs/dev.json", "/srv/project/outputs/dev.md"]
written:
  description: Paths of the files written (or that would be, in check mode) because their content or mode differed.
  returned: always
  type: list
  elements: str
  sample: ["/srv/project/outputs/dev.json"]
"""
