#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: migrator_package
short_description: Build the deterministic deployment zip of the schema migrator Lambda
version_added: 0.1.0
description:
  - Builds the zip of the bluegreen.migration schema migrator on the controller, from the migrator code,
    pg8000 with its pure-Python dependencies as installed on the controller, and a directory of versioned
    SQL migrations named C(V<number>__<name>.sql).
  - Classifies every statement of every migration as C(expand) (safe while the old application version is
    live) or C(contract) (only after the old color is drained) with the squawk linter and parser, and stores
    the result in C(manifest.json) inside the zip. The function refuses a contract migration during an expand run.
  - The zip is deterministic (sorted entries, fixed timestamps of 1980-01-01, mode 0644, no byte-code), so the
    same inputs give the same C(code_sha256) and a re-run changes nothing.
  - Before writing, checks without importing it that the handler module exists in the zip and defines the function,
    and fails with the reason when it does not (module missing from the package, no such top-level function, an
    C(async) function, a function that does not take C(event, context)).
  - Runs in the play's own process on the controller (an action plugin, no module process and no AWS call),
    whatever the host of the task; no C(delegate_to) is needed.
author:
  - bluegreen.migration maintainers (@bluegreen)
options:
  dest:
    description:
      - Path of the zip to write. Written only when its content would change.
    type: path
    required: true
  source_dir:
    description:
      - Directory holding the migrator modules (its top-level C(.py) files are packaged).
      - Defaults to the C(migrator) directory of the installed bluegreen.migration collection.
    type: path
  migrations_dir:
    description:
      - Directory of versioned SQL migrations, packaged under C(migrations/).
      - Defaults to C(migrations) inside I(source_dir).
    type: path
  handler:
    description:
      - Lambda handler, C(<module>.<function>), checked against the packaged code.
    type: str
    default: index.handler
  dependencies:
    description:
      - Installed Python distributions to bundle; their requirements are followed and bundled too.
      - Each must be pure Python.
    type: list
    elements: str
    default: [pg8000]
  ca_bundle:
    description:
      - Path of a PEM bundle of the CAs that sign the database's certificate, packaged as C(ca-bundle.pem).
      - Needed for C(sslmode=verify-full). Lambda's trust store does not carry the RDS certificate
        authorities, so without it every verified connection fails. For Aurora, the RDS global bundle
        (see the Amazon RDS user guide, section Using SSL/TLS to encrypt a connection).
    type: path
  squawk_path:
    description:
      - Path of the C(squawk) binary (pip package C(squawk-cli)).
      - Defaults to C(squawk) on C(PATH), then beside the Python interpreter running C(ansible-playbook).
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    description: The zip is built and checked but not written; C(changed) tells whether it would change.
  diff_mode:
    support: full
    description: Path and C(code_sha256) of the zip before and after.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller whatever the host.
notes:
  - Requires C(squawk-cli) and C(pg8000) installed for the Python interpreter that runs C(ansible-playbook) (the
    controller's, or the execution environment's).
  - A migration that mixes C(CREATE INDEX CONCURRENTLY) (or another statement that cannot run in a transaction)
    with other statements is rejected, as is a migration with a syntax error.
"""

EXAMPLES = r"""
- name: Build the migrator zip from the collection's example migrations
  bluegreen.migration.migrator_package:
    dest: "{{ playbook_dir }}/.build/migrator-{{ environment_suffix }}.zip"
  register: migrator_lambda_package

- name: Build it from the application's own migrations
  bluegreen.migration.migrator_package:
    dest: /tmp/migrator.zip
    migrations_dir: "{{ playbook_dir }}/db/migrations"

- name: Show which migrations are contract migrations
  ansible.builtin.debug:
    var: migrator_lambda_package.manifest.contract
"""

RETURN = r"""
path:
  description: Absolute path of the zip.
  returned: always
  type: str
  sample: /home/ci/.build/migrator-dev.zip
code_sha256:
  description: Base64 SHA-256 of the zip, the value Lambda reports as CodeSha256.
  returned: always
  type: str
  sample: 9Y0N3dJXnU1uYl1m4Yt4mQ2QyS1x0kOe3Nw8a0y2mIk=
size:
  description: Size of the zip in bytes.
  returned: always
  type: int
  sample: 412337
msg:
  description: What was packaged, in one line.
  returned: always
  type: str
  sample: "index.handler found in index.py; 4 migrations (expand 4, contract 0), CodeSha256 9Y0N3dJXnU1uYl1m4Yt4mQ2QyS1x0kOe3Nw8a0y2mIk="
handler:
  description: The handler that was checked against the packaged code.
  returned: always
  type: str
  sample: index.handler
files:
  description: Number of files in the zip.
  returned: always
  type: int
  sample: 61
manifest:
  description: Summary of the migrations manifest stored in the zip.
  returned: always
  type: dict
  contains:
    migrations:
      description: Number of migrations.
      type: int
      sample: 4
    latest_version:
      description: Highest migration version.
      type: int
      sample: 4
    expand:
      description: Files classified as expand migrations.
      type: list
      elements: str
      sample: [V001__create_orders.sql]
    contract:
      description: Files classified as contract migrations.
      type: list
      elements: str
      sample: [V005__drop_orders_legacy_note.sql]
    autocommit:
      description: Files run outside a transaction (statements such as CREATE INDEX CONCURRENTLY).
      type: list
      elements: str
      sample: [V003__index_orders_customer.sql]
    linter_version:
      description: squawk version that classified the statements.
      type: str
      sample: 2.70.0
"""
